import path from 'node:path';
import type { Knex } from 'knex';
import bcrypt from 'bcrypt';
import { freshDatabase } from '../support/db';
import { rowCounts, runIn, table } from '../support/pipeline';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');
const DOCUMENTS = path.resolve(__dirname, '../../fixtures/documents');

/**
 * fixtures/tinydb/chatcore.json, record by record:
 * users: 1 admin (PBKDF2 hash + plaintext → hash kept, plaintext dropped); 2 "Straße" (plaintext only →
 *   bcrypt); 3 " STRASSE " folds to the same key, created later → merged into 2; 4 "İrem" (no password →
 *   reset); 5 "   " → rejected (empty username).
 * conversations: a0c0ffee (admin); c0debabe (user "ghost", not in users → inferred; updated_at unparseable → NULL).
 * chat_history: 1-2 no conversation id → admin's imported history; 3-4 in a0c0ffee; 5 = 4 again → merged;
 *   6 has U+0000 → repaired; 7 by "ADMIN" in b0bafe77 (no such conversation → inferred); 8 role
 *   "moderator" → rejected; 9 timestamp "yesterday" → rejected.
 * sessions: 1, token stored as its sha256.
 * documents: employees.json 3 (one a duplicate → merged), departments.json 2.
 */
describe('fixtures/tinydb/chatcore.json', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('every record is loaded, merged or rejected as derived by hand', async () => {
    const report = await runIn(db.knex, 'tinydb', [FIXTURE], { documentsDir: DOCUMENTS });
    expect(table(report, 'users')).toMatchObject({ read: 5, loaded: 3, merged: 1, rejected: 1, droppedPlaintextPasswords: 1 });
    expect(table(report, 'conversations')).toMatchObject({ read: 2, loaded: 2, merged: 0, rejected: 0, inferredUsers: 1, invalidOptionalTimestamps: 1 });
    expect(table(report, 'messages')).toMatchObject({ read: 9, loaded: 6, merged: 1, rejected: 2, repaired: 1, inferredConversations: 1, importedHistory: 1 });
    expect(table(report, 'auth_sessions')).toMatchObject({ read: 1, loaded: 1 });
    expect(table(report, 'documents')).toMatchObject({ read: 5, loaded: 4, merged: 1 });
    expect(await rowCounts(db.knex)).toEqual({ tenants: 1, users: 4, conversations: 4, messages: 6, auth_sessions: 1, documents: 4 });

    const users = await db.knex('users').orderBy('username').select('username', 'username_original', 'password_hash', 'password_reset_required', 'inferred', 'is_active');
    expect(users.map((u) => [u.username, u.username_original, u.password_reset_required, u.inferred, u.is_active])).toEqual([
      ['admin', 'admin', false, false, true],
      ['ghost', 'ghost', true, true, true],
      ['i\u0307rem', 'İrem', true, false, true],
      ['strasse', 'Straße', false, false, true],
    ]);
    const strasse = users.find((u) => u.username === 'strasse');
    expect(strasse.password_hash).toMatch(/^\$2b\$04\$/);
    expect(await bcrypt.compare('correct horse battery staple', strasse.password_hash)).toBe(true);

    const convs = await db.knex('conversations').orderBy(['kind', 'legacy_id']).select('kind', 'legacy_id', 'message_count', 'legacy_message_count', 'inferred', 'created_at', 'updated_at');
    expect(convs.map((c) => [c.kind, c.legacy_id, c.message_count, c.legacy_message_count, c.inferred])).toEqual([
      ['imported_history', 'admin', 2, null, false],
      ['legacy', 'a0c0ffee', 2, 2, false],
      ['legacy', 'b0bafe77', 1, null, true],
      ['legacy', 'c0debabe', 1, 5, false],
    ]);
    // dates of conversations etl created come from their messages, never from the clock
    expect(convs[0].created_at).toMatch(/^2025-09-19 16:05:07\.080913\+00/);
    expect(convs[0].updated_at).toMatch(/^2025-09-19 16:05:09\.101112\+00/);
    expect(convs[3].updated_at).toBeNull();

    const repaired = await db.knex('messages').where('content', 'like', 'null byte%').first();
    expect(repaired.content).toBe('null byte \uFFFD here');

    const rejects = await db.knex('etl_rejects').orderBy(['stream', 'reason_code']).select('stream', 'outcome', 'reason_code', 'locator', 'record');
    expect(rejects.map((r) => [r.stream, r.outcome, r.reason_code, r.locator.id])).toEqual([
      ['chat_history', 'merged', 'duplicate_messages', '5'],
      ['chat_history', 'inferred', 'inferred_conversation', '7'],
      ['chat_history', 'rejected', 'invalid_role', '8'],
      ['chat_history', 'rejected', 'invalid_timestamp', '9'],
      ['conversations', 'inferred', 'inferred_user', '6'],
      ['documents:employees.json', 'merged', 'duplicate_documents', '2'],
      ['users', 'merged', 'duplicate_users', '3'],
      ['users', 'rejected', 'missing_username', '5'],
    ]);
    // reject records keep the record, with secrets redacted
    const u5 = rejects.find((r) => r.reason_code === 'missing_username');
    expect(u5.record).toEqual({ username: '   ', password: '[REDACTED]', created_at: '2025-11-06T10:00:00' });
  });

  test('--orphans reject rejects references to missing users and conversations instead of inferring them', async () => {
    const report = await runIn(db.knex, 'tinydb', [FIXTURE], { orphans: 'reject' });
    expect(table(report, 'conversations')).toMatchObject({ read: 2, loaded: 1, rejected: 1, inferredUsers: 0 });
    // 6 (conversation c0debabe was rejected) and 7 (b0bafe77 unknown) now rejected too
    expect(table(report, 'messages')).toMatchObject({ read: 9, loaded: 4, merged: 1, rejected: 4, inferredConversations: 0 });
    expect(await db.knex('users').where({ inferred: true }).select('username')).toEqual([]);
  });

  test('--source-timezone reads naive timestamps in that zone', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE], { sourceTimeZone: 'Europe/Istanbul' });
    const m = await db.knex('messages').where({ legacy_message_id: 'f1e2d3c4-001' }).first();
    expect(m.created_at).toMatch(/^2025-09-21 05:10:12\.548\+00/);
  });
});
