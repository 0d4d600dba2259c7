import path from 'node:path';
import bcrypt from 'bcrypt';
import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { checksums, rowCounts, runIn, table } from '../support/pipeline';

const FIXTURE = path.resolve(__dirname, '../../fixtures/lowdb/db.json');
const MAP = { users: 'user', chats: 'message' } as const; // --map users=users,chats=messages

/**
 * fixtures/lowdb/db.json, record by record (camelCase fields, numeric user ids):
 * users: 1 alice (bcrypt hash kept); 2 Bob (plaintext only → bcrypt); 3 " ALICE " folds to alice,
 *   created later → merged into 1.
 * conversations: c1 of userId 1 → alice.
 * chats (→ messages): m1, m2 in c1; m3 in c2, which conversations lacks → inferred; m4 without chatId →
 *   Bob's imported history; m5 role "robot" → rejected.
 * settings: an object, not a collection → a note, not read.
 */
describe('fixtures/lowdb/db.json', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('collections map onto users/conversations/messages with the same normalization', async () => {
    const report = await runIn(db.knex, 'lowdb', [FIXTURE], { tableMap: MAP });
    expect(table(report, 'users')).toMatchObject({ read: 3, loaded: 2, merged: 1, rejected: 0 });
    expect(table(report, 'conversations')).toMatchObject({ read: 1, loaded: 1 });
    expect(table(report, 'messages')).toMatchObject({ read: 5, loaded: 4, rejected: 1, inferredConversations: 1, importedHistory: 1 });
    expect(report.notes).toEqual(['"settings" is not a collection (an array), so not read']);
    expect(await rowCounts(db.knex)).toEqual({ tenants: 1, users: 2, conversations: 3, messages: 4, auth_sessions: 0, documents: 0 });

    const users = await db.knex('users').orderBy('username').select('username', 'username_original', 'email', 'password_hash', 'created_at');
    expect(users.map((u) => [u.username, u.username_original, u.email])).toEqual([
      ['alice', 'alice', 'alice@example.com'],
      ['bob', 'Bob', null],
    ]);
    expect(users[0].password_hash).toBe('$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy');
    expect(await bcrypt.compare('fixture-plaintext-password', users[1].password_hash)).toBe(true);

    const convs = await db.knex('conversations as c').join('users as u', 'u.id', 'c.user_id').orderBy(['c.kind', 'c.legacy_id']).select('c.kind', 'c.legacy_id', 'u.username', 'c.title', 'c.message_count', 'c.inferred');
    expect(convs.map((c) => [c.kind, c.legacy_id, c.username, c.title, c.message_count, c.inferred])).toEqual([
      ['imported_history', 'bob', 'bob', 'Imported history', 1, false],
      ['legacy', 'c1', 'alice', 'Trip planning', 2, false],
      ['legacy', 'c2', 'bob', null, 1, true],
    ]);
    const msgs = await db.knex('messages').orderBy('created_at').select('legacy_message_id', 'role', 'content');
    expect(msgs.map((m) => [m.legacy_message_id, m.role, m.content])).toEqual([
      ['m1', 'user', 'Where should I go in May?'],
      ['m2', 'assistant', 'Lisbon is lovely in May.'],
      ['m4', 'user', 'A message from before chats had ids.'],
      ['m3', 'user', 'Hello?'],
    ]);
    const rejects = await db.knex('etl_rejects').orderBy(['stream', 'reason_code']).select('stream', 'outcome', 'reason_code', 'locator');
    expect(rejects.map((r) => [r.stream, r.outcome, r.reason_code, r.locator.id])).toEqual([
      ['chats', 'inferred', 'inferred_conversation', '2'],
      ['chats', 'rejected', 'invalid_role', '4'],
      ['users', 'merged', 'duplicate_users', '2'],
    ]);

    const before = await checksums(db.knex);
    expect((await runIn(db.knex, 'lowdb', [FIXTURE], { tableMap: MAP })).mode).toBe('already-done');
    await runIn(db.knex, 'lowdb', [FIXTURE], { tableMap: MAP, restart: true });
    expect(await checksums(db.knex)).toEqual(before);
  });
});
