import type { Knex } from 'knex';
import { type ChatCoreVersion, expectVersionLoads, expectVersionsUnion } from '../test/support/chatcore-versions';
import { freshDatabase } from '../test/support/db';
import { runIn, table } from '../test/support/pipeline';
import { sample } from './support/samples';

/**
 * The five real versions of ChatCore's TinyDB database. Expected figures were derived by hand from
 * each file (research/seed-formats.md §3 and legacy-samples/chatcore/README.md):
 * - 3494e5d: no users table, 6 messages without conversation ids, 1 session → user "admin" inferred,
 *   one imported-history conversation.
 * - 1b0c3ee: 22 messages, 20 without a conversation id and 2 in "d95a1156", whose conversation table is
 *   empty → admin inferred, d95a1156 inferred, one imported-history conversation.
 * - cc03434 / ef5f664: 3 users, 4 conversations, 34 messages (20 without id, 2 more in d95a1156, which the
 *   conversations table lacks → inferred).
 * - f26001e: as ef5f664, plus a plaintext `password` next to every hash (3 dropped, none stored).
 */
const VERSIONS: readonly ChatCoreVersion[] = [
  { file: 'sessions.3494e5d.json', users: null, messages: 6, rows: { users: 1, conversations: 1, messages: 6, auth_sessions: 1 }, inferredUsers: 1, inferredConversations: 0, dropped: 0 },
  { file: 'sessions.1b0c3ee.json', users: null, messages: 22, rows: { users: 1, conversations: 2, messages: 22, auth_sessions: 1 }, inferredUsers: 1, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.cc03434.json', users: 3, messages: 34, rows: { users: 3, conversations: 6, messages: 34, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.ef5f664.json', users: 3, messages: 34, rows: { users: 3, conversations: 6, messages: 34, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.f26001e.json', users: 3, messages: 34, rows: { users: 3, conversations: 6, messages: 34, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 3 },
];

describe('real ChatCore TinyDB versions', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db?.drop());

  test.each(VERSIONS)('$file loads with the hand-derived counts, and a rerun changes nothing', (v) => expectVersionLoads(db.knex, sample('chatcore', v.file), v));

  test('users: hashes kept in a self-describing form that verifies the legacy password; sessions keep only a token hash', async () => {
    await runIn(db.knex, 'tinydb', [sample('chatcore', 'sessions.f26001e.json')]);
    const users = await db.knex('users').orderBy('username').select('username', 'password_hash', 'password_reset_required', 'inferred');
    expect(users).toEqual([
      { username: 'admin', password_hash: 'pbkdf2_sha256$100000$771c0f81fac5c0828fbd816c020080cb$1f37ff5245260586192af0984b77fdef61e73695bd448eb63933a4093b445c67', password_reset_required: false, inferred: false },
      { username: 'user2', password_hash: 'pbkdf2_sha256$100000$771c0f81fac5c0828fbd816c020080cb$1f37ff5245260586192af0984b77fdef61e73695bd448eb63933a4093b445c67', password_reset_required: false, inferred: false },
      { username: 'user3', password_hash: 'pbkdf2_sha256$100000$bc0c51aba76b5f0350605283fc9ade92$aa73eaa9cef923e23f4f39e0994233e1a8389316ce94d58faac9b85846f1effc', password_reset_required: false, inferred: false },
    ]);
    const [s] = await db.knex('auth_sessions').select('access_jti', 'created_at', 'metadata');
    expect(s.access_jti).toMatch(/^[0-9a-f]{64}$/);
    expect(s.created_at).toMatch(/^2025-11-04 15:43:06\.089726\+00/);
    expect(s.metadata).toEqual({ context: {}, viewed_procedures: [] });
  });

  test('loading every version in order into one database ends with the union, each version a run of its own', async () => {
    // The 34 messages of the newest version include all earlier ones; the 5 versions' session tokens all differ.
    await expectVersionsUnion(db.knex, VERSIONS.map((v) => sample('chatcore', v.file)), 34);
  });

  test('company documents load as jsonb, unique by content hash', async () => {
    const report = await runIn(db.knex, 'tinydb', [sample('chatcore', 'sessions.f26001e.json')], { documentsDir: sample('chatcore') });
    // departments.json 5, employees.json 15, procedures.json 10, projects.json 8 objects, all distinct;
    // the sessions.*.json files in the same folder are not arrays and are named in a note instead.
    expect(table(report, 'documents')).toMatchObject({ read: 38, loaded: 38, merged: 0, rejected: 0 });
    const types = await db.knex('documents').select('doc_type').count<{ doc_type: string; count: string }[]>('* as count').groupBy('doc_type').orderBy('doc_type');
    expect(types.map((t) => [t.doc_type, Number(t.count)])).toEqual([['department', 5], ['employee', 15], ['procedure', 10], ['project', 8]]);
    expect(report.notes.filter((n) => n.includes('not a JSON array'))).toHaveLength(5);
    const [enerji] = await db.knex('documents').where({ doc_type: 'department' }).whereRaw("body->>'name' is not null").select('body').limit(1);
    expect(typeof enerji.body).toBe('object');
  });
});
