import path from 'node:path';
import { type ChatCoreTargetVersion, describeChatcoreTargetVersions } from '../support/chatcore';

/**
 * --target chatcore on our own five ChatCore format versions (fixtures/chatcore; shapes and hand-derived
 * figures in test/integration/chatcore-versions-fixture.test.ts): the same rows as the etl target,
 * in ChatCore's tables.
 */
const DIR = path.resolve(__dirname, '../../fixtures/chatcore');
const VERSIONS: readonly ChatCoreTargetVersion[] = [
  { file: 'sessions.v1.json', rows: { users: 1, conversations: 1, messages: 4, sessions: 1 } },
  { file: 'sessions.v2.json', rows: { users: 1, conversations: 2, messages: 6, sessions: 1 } },
  { file: 'sessions.v3.json', rows: { users: 3, conversations: 5, messages: 10, sessions: 1 } },
  { file: 'sessions.v4.json', rows: { users: 3, conversations: 5, messages: 11, sessions: 1 } },
  { file: 'sessions.v5.json', rows: { users: 3, conversations: 5, messages: 11, sessions: 1 } },
];

describeChatcoreTargetVersions('--target chatcore on every ChatCore format version', VERSIONS, (f) => path.join(DIR, f));
