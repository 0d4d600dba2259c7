import { type ChatCoreTargetVersion, describeChatcoreTargetVersions } from '../test/support/chatcore';
import { sample } from './support/samples';

/**
 * --target chatcore on the five real versions of ChatCore's TinyDB database (figures as for the etl
 * target in chatcore.test.ts). In f26001e every user's plaintext `password` sits next to its hash:
 * each of them logs in with ChatCore's own check (admin and user2 share one hash and salt).
 */
const VERSIONS: readonly ChatCoreTargetVersion[] = [
  { file: 'sessions.3494e5d.json', rows: { users: 1, conversations: 1, messages: 6, sessions: 1 } },
  { file: 'sessions.1b0c3ee.json', rows: { users: 1, conversations: 2, messages: 22, sessions: 1 } },
  { file: 'sessions.cc03434.json', rows: { users: 3, conversations: 6, messages: 34, sessions: 1 } },
  { file: 'sessions.ef5f664.json', rows: { users: 3, conversations: 6, messages: 34, sessions: 1 } },
  { file: 'sessions.f26001e.json', rows: { users: 3, conversations: 6, messages: 34, sessions: 1 } },
];

describeChatcoreTargetVersions('--target chatcore on the real ChatCore versions', VERSIONS, (f) => sample('chatcore', f));
