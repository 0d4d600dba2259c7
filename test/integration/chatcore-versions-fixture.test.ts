import path from 'node:path';
import type { Knex } from 'knex';
import { type ChatCoreVersion, expectVersionLoads, expectVersionsUnion } from '../support/chatcore-versions';
import { freshDatabase } from '../support/db';
import { verifyPbkdf2Sha256 } from '../support/password';
import { rowCounts, runIn, table } from '../support/pipeline';

/** Our own ChatCore `backend/data` folder: five TinyDB versions of sessions.json and the company documents. */
const DIR = path.resolve(__dirname, '../../fixtures/chatcore');
const file = (name: string) => path.join(DIR, name);

/**
 * fixtures/chatcore/sessions.v1–v5.json have the shapes of ChatCore's five real format versions
 * (legacy-samples/chatcore/README.md), with our own content. Derived by hand:
 * - v1 (one line, \uXXXX escapes): tables sessions and chat_history only; 4 messages of "chef", no
 *   conversation_id or message_id, 1 session → "chef" inferred, one imported-history conversation.
 * - v2 (indented UTF-8, TinyDB 3's empty `_default`): 6 messages, 4 without a conversation id and 2 in
 *   "b0b0cafe" (with message ids), whose conversations table is empty → chef and b0b0cafe inferred.
 * - v3: users chef, lehrling (sharing one PBKDF2 hash and salt), gast; conversations feed0001–3
 *   (HTML-escaped titles, feed0003 without messages); 10 messages, b0b0cafe still inferred.
 * - v4: the same format, later data: an 11th message, a new session.
 * - v5: as v4, plus a plaintext `password` next to every hash (3 dropped, none stored).
 * Every timestamp is naive; every session holds a JWT.
 */
const VERSIONS: readonly ChatCoreVersion[] = [
  { file: 'sessions.v1.json', users: null, messages: 4, rows: { users: 1, conversations: 1, messages: 4, auth_sessions: 1 }, inferredUsers: 1, inferredConversations: 0, dropped: 0 },
  { file: 'sessions.v2.json', users: null, messages: 6, rows: { users: 1, conversations: 2, messages: 6, auth_sessions: 1 }, inferredUsers: 1, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.v3.json', users: 3, messages: 10, rows: { users: 3, conversations: 5, messages: 10, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.v4.json', users: 3, messages: 11, rows: { users: 3, conversations: 5, messages: 11, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 0 },
  { file: 'sessions.v5.json', users: 3, messages: 11, rows: { users: 3, conversations: 5, messages: 11, auth_sessions: 1 }, inferredUsers: 0, inferredConversations: 1, dropped: 3 },
];

const SHARED_HASH = 'pbkdf2_sha256$100000$5a1f0e9c3b7d24e68f10a2b4c6d8e0f1$ba51e0e9afca9eaf7f5d0b3939f78427f80b5dbae414c4c6ce2ddad5cb30ef3d';
const GUEST_HASH = 'pbkdf2_sha256$100000$9e8d7c6b5a4f30211f2e3d4c5b6a7980$cf94a981b23cc505c5bf70cbc09334c19830ab254be6eeb786060f9819173aef';

describe('fixtures/chatcore: the five ChatCore TinyDB format versions', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test.each(VERSIONS)('$file loads with the hand-derived counts, and a rerun changes nothing', (v) => expectVersionLoads(db.knex, file(v.file), v));

  test('users: hashes kept in a self-describing form that verifies the legacy password; sessions keep only a token hash', async () => {
    await runIn(db.knex, 'tinydb', [file('sessions.v5.json')]);
    const users = await db.knex('users').orderBy('username').select('username', 'password_hash', 'password_reset_required', 'inferred', 'is_active');
    expect(users).toEqual([
      { username: 'chef', password_hash: SHARED_HASH, password_reset_required: false, inferred: false, is_active: true },
      { username: 'gast', password_hash: GUEST_HASH, password_reset_required: false, inferred: false, is_active: false },
      { username: 'lehrling', password_hash: SHARED_HASH, password_reset_required: false, inferred: false, is_active: true },
    ]);
    expect([verifyPbkdf2Sha256('open-sesame-1', SHARED_HASH), verifyPbkdf2Sha256('guest-pass-2', GUEST_HASH), verifyPbkdf2Sha256('guest-pass-2', SHARED_HASH)]).toEqual([true, true, false]);
    const [s] = await db.knex('auth_sessions').select('access_jti', 'created_at', 'metadata');
    expect(s.access_jti).toMatch(/^[0-9a-f]{64}$/);
    expect(s.created_at).toMatch(/^2025-10-05 18:29:30\.654321\+00/);
    expect(s.metadata).toEqual({ context: {}, viewed_procedures: [] });
  });

  test('the \\uXXXX-escaped one-line file and the indented UTF-8 one read the same text; HTML escapes are kept as written', async () => {
    await runIn(db.knex, 'tinydb', [file('sessions.v1.json')]);
    await runIn(db.knex, 'tinydb', [file('sessions.v2.json')]);
    // v2 repeats v1's four messages in the other encoding: they are the same rows, not new ones
    expect((await rowCounts(db.knex)).messages).toBe(6);
    expect(await db.knex('messages').where('content', 'like', 'Frühschicht%').pluck('content')).toEqual(['Frühschicht: Ayşe Kılıç und Jörg Weiß.']);
    await runIn(db.knex, 'tinydb', [file('sessions.v3.json')]);
    expect(await db.knex('conversations').where({ kind: 'legacy', inferred: false }).orderBy('legacy_id').pluck('title')).toEqual(['Wie geht&#x27;s dem Sauerteig?', 'Ofen &amp; Temperatur', 'Öffnungszeiten am Feiertag']);
  });

  test('loading every version in order into one database ends with the union, each version a run of its own', async () => {
    // The 11 messages of the newest version include all earlier ones; the 5 versions' session tokens all differ.
    // "chef", inferred from v1 and v2, is a real user once v3 brings the users table
    await expectVersionsUnion(db.knex, VERSIONS.map((v) => file(v.file)), 11);
  });

  test('company documents load as jsonb, unique by content hash', async () => {
    const report = await runIn(db.knex, 'tinydb', [file('sessions.v5.json')], { documentsDir: DIR });
    // departments.json 3, employees.json 4, procedures.json 2, projects.json 3 objects, all distinct;
    // the sessions.*.json files in the same folder are not arrays and are named in a note instead.
    expect(table(report, 'documents')).toMatchObject({ read: 12, loaded: 12, merged: 0, rejected: 0 });
    const types = await db.knex('documents').select('doc_type').count<{ doc_type: string; count: string }[]>('* as count').groupBy('doc_type').orderBy('doc_type');
    expect(types.map((t) => [t.doc_type, Number(t.count)])).toEqual([['department', 3], ['employee', 4], ['procedure', 2], ['project', 3]]);
    expect(report.notes.filter((n) => n.includes('not a JSON array'))).toHaveLength(5);
    const [oven] = await db.knex('documents').where({ doc_type: 'project' }).whereRaw("body->>'name' = 'Neuer Holzofen'").select('body');
    expect(oven.body.milestones).toEqual([{ name: 'Fundament', done: true }, { name: 'Erster Brand', done: false }]);
  });
});
