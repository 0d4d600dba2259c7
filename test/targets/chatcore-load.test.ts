/**
 * `etl run tinydb … --target chatcore`: the rows land in ChatCore's own tables, its login accepts
 * every known password and refuses users without one, verify proves it, a rerun changes nothing.
 */
import { runPython } from '../normalize/python';
import { chatcoreLogin, chatcoreRows, chatcoreVersions } from '../support/chatcore';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';

const FILE = 'fixtures/tinydb/chatcore-app.json';
const LOAD = ['run', 'tinydb', FILE, '--target', 'chatcore', '--documents', 'fixtures/documents', '--bcrypt-cost', '4'];

describe('--target chatcore on the fixture', () => {
  let db: FreshDatabase;
  let report: Record<string, unknown> & { tables: { table: string; read: number; loaded: number; merged: number; rejected: number; repaired: number }[]; projected: { table: string; inserted: number; updated: number }[] };
  beforeAll(async () => {
    db = await freshDatabase();
    const r = await runEtl([...LOAD, '--json'], { env: { DATABASE_URL: db.url } });
    if (r.code !== 0) throw new Error(`load failed (${r.code}): ${r.stderr}`);
    report = JSON.parse(r.stdout);
  });
  afterAll(async () => db.drop());

  const rows = (sql: string, b: unknown[] = []) => db.knex.raw(sql, b as never).then((r) => r.rows);

  test('every source record is loaded, merged or rejected; what ChatCore cannot hold is rejected or repaired with a reason', async () => {
    const t = (name: string) => report.tables.find((x) => x.table === name);
    expect(t('users')).toMatchObject({ read: 5, loaded: 4, merged: 0, rejected: 1 });
    expect(t('conversations')).toMatchObject({ read: 4, loaded: 3, rejected: 1, repaired: 1 });
    expect(t('messages')).toMatchObject({ read: 10, loaded: 6, merged: 1, rejected: 3 });
    expect(t('auth_sessions')).toMatchObject({ read: 2, loaded: 2 });
    expect(report.projected).toEqual([
      { table: 'users', inserted: 5, updated: 0, deleted: 0 },
      { table: 'conversations', inserted: 5, updated: 0, deleted: 0 },
      { table: 'messages', inserted: 6, updated: 0, deleted: 0 },
      { table: 'sessions', inserted: 2, updated: 0, deleted: 0 },
      { table: 'documents', inserted: 4, updated: 0, deleted: 0 },
    ]);
    const rejects = (await runEtl(['rejects'], { env: { DATABASE_URL: db.url } })).stdout.trim().split('\n').map((l) => JSON.parse(l));
    const codes = rejects.map((x: { outcome: string; reason_code: string }) => `${x.outcome}:${x.reason_code}`).sort();
    expect(codes).toEqual(
      expect.arrayContaining(['rejected:unsupported_role', 'rejected:value_too_long', 'repaired:title_shortened', 'merged:duplicate_messages', 'inferred:inferred_user', 'inferred:inferred_conversation']),
    );
    expect(codes.filter((c: string) => c === 'rejected:value_too_long')).toHaveLength(4); // a user, a conversation id, a message of each
    const repaired = (await runEtl(['rejects', '--outcome', 'repaired'], { env: { DATABASE_URL: db.url } })).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(repaired).toEqual([expect.objectContaining({ stream: 'conversations', reason_code: 'title_shortened' })]);
    expect(repaired[0].record.title).toHaveLength(240); // the whole title stays in etl_rejects
  });

  test("ChatCore's tables hold the users, conversations and messages as its code reads them", async () => {
    expect(await rows('select username, is_active, is_admin, mfa_enabled, theme, persona, language, created_at from public.users order by id')).toEqual([
      { username: 'zeynep', is_active: true, is_admin: false, mfa_enabled: false, theme: 'light', persona: 'default', language: 'tr', created_at: '2025-10-01 09:00:00.000001+00' },
      { username: 'mert_k', is_active: true, is_admin: false, mfa_enabled: false, theme: 'light', persona: 'default', language: 'tr', created_at: '2025-10-03 10:00:00+00' },
      { username: 'legacy_bcrypt', is_active: false, is_admin: false, mfa_enabled: false, theme: 'light', persona: 'default', language: 'tr', created_at: '2025-10-05 10:00:00+00' },
      // no date of its own: its earliest record's, never the clock
      { username: 'nopass', is_active: true, is_admin: false, mfa_enabled: false, theme: 'light', persona: 'default', language: 'tr', created_at: '2025-10-08 08:00:00+00' },
      { username: 'ayse', is_active: true, is_admin: false, mfa_enabled: false, theme: 'light', persona: 'default', language: 'tr', created_at: '2025-10-09 09:00:00+00' },
    ]);
    const convs = await rows(
      `select c.conversation_id, c.title, u.username, c.is_active, c.message_count, c.created_at, c.updated_at
       from public.conversations c join public.users u on u.id = c.user_id order by c.id`,
    );
    expect(convs.map((c: { conversation_id: string }) => c.conversation_id)).toEqual([expect.stringMatching(/^etl-history-[0-9a-f]{24}$/), 'a1b2c3d4', 'e5f6a7b8', '0c0c0c0c', 'd0d0d0d0']); // ids in date order
    const byId = Object.fromEntries(convs.map((c: { conversation_id: string }) => [c.conversation_id, c]));
    expect(byId.a1b2c3d4).toMatchObject({ title: 'Proje toplantısı &#x27;notlar&#x27;', username: 'zeynep', is_active: true, message_count: 2 });
    expect(byId.e5f6a7b8.title).toHaveLength(200);
    expect(byId.e5f6a7b8).toMatchObject({ is_active: false, message_count: 1 });
    expect(byId['0c0c0c0c']).toMatchObject({ title: 'Yeni Sohbet', message_count: 0, updated_at: '2025-10-08 08:00:00+00' });
    expect(byId.d0d0d0d0).toMatchObject({ username: 'ayse', message_count: 1, created_at: '2025-10-09 09:00:00+00' });
    const history = convs.find((c: { conversation_id: string }) => c.conversation_id.startsWith('etl-history-'));
    expect(history).toMatchObject({ title: 'Imported history', username: 'mert_k', is_active: false, message_count: 2, created_at: '2025-09-01 12:00:00+00', updated_at: '2025-09-01 12:00:05+00' });

    const msgs = await rows(
      `select m.message_id, m.role::text as role, m.content, c.conversation_id, u.username
       from public.messages m join public.conversations c on c.id = m.conversation_id join public.users u on u.id = m.user_id order by m.id`,
    );
    expect(msgs.map((m: { role: string }) => m.role).sort()).toEqual(['ASSISTANT', 'ASSISTANT', 'USER', 'USER', 'USER', 'USER']);
    const ids = msgs.map((m: { message_id: string }) => m.message_id);
    // Two legacy messages share m-0001: the earlier keeps it, the other gets etl's deterministic id; a 60-character id does not fit.
    expect(ids).toEqual(expect.arrayContaining(['m-0001', 'm-0002']));
    expect(ids.filter((id: string) => /^etl-[0-9a-f]{32}$/.test(id))).toHaveLength(4);
    expect(new Set(ids).size).toBe(6);
    expect(msgs.find((m: { message_id: string }) => m.message_id === 'm-0001')).toMatchObject({ conversation_id: 'a1b2c3d4', content: 'Toplantı ne zaman?' });
    const sessions = await rows('select access_jti, revoked, created_at from public.sessions order by id');
    expect(sessions).toHaveLength(2);
    for (const s of sessions) expect(s).toMatchObject({ access_jti: expect.stringMatching(/^[0-9a-f]{64}$/), revoked: true });
    expect((await rows('select doc_type::text as t, count(*)::int as n from public.documents group by 1 order by 1'))).toEqual([
      { t: 'department', n: 2 },
      { t: 'employee', n: 2 },
    ]);
    // The app's next insert gets a fresh id.
    const next = await rows("select nextval(pg_get_serial_sequence('public.users', 'id'))::int as n, (select max(id) from public.users) as max");
    expect(next[0].n).toBe(next[0].max + 1);
  });

  test("ChatCore's login accepts every known password (a kept legacy hash, a hashed plaintext) and refuses users without one, without an error", async () => {
    expect(await chatcoreLogin(db.knex, 'Zeynep', 'kedi-123')).toBe(true);
    expect(await chatcoreLogin(db.knex, 'mert_k', 'gizli-sifre-42')).toBe(true);
    expect(await chatcoreLogin(db.knex, 'mert_k', 'wrong')).toBe(false);
    for (const [user, password] of [['nopass', ''], ['nopass', 'etl:no-usable-password'], ['ayse', ''], ['legacy_bcrypt', 'anything']]) {
      expect(await chatcoreLogin(db.knex, user, password)).toBe(false);
    }
    // Python's hashlib (ChatCore's own primitive) agrees with the stored values.
    const users = await rows("select username, password_hash, salt from public.users where username in ('zeynep', 'mert_k') order by username");
    const pw: Record<string, string> = { zeynep: 'kedi-123', mert_k: 'gizli-sifre-42' };
    const expected = runPython<string[]>(
      "import hashlib\nout([hashlib.pbkdf2_hmac('sha256', u['pw'].encode(), bytes.fromhex(u['salt']), 100000).hex() for u in data])",
      users.map((u: { username: string; salt: string }) => ({ pw: pw[u.username], salt: u.salt })),
    );
    expect(users.map((u: { password_hash: string }) => u.password_hash)).toEqual(expected);
    expect(users.find((u: { username: string }) => u.username === 'mert_k').salt).toMatch(/^[0-9a-f]{32}$/);
  });

  test('etl verify proves the ChatCore tables, and a rerun (and a --restart) changes no row', async () => {
    const v = await runEtl(['verify'], { env: { DATABASE_URL: db.url } });
    expect(v.stderr).not.toMatch(/ at /);
    expect(v.stdout).toMatch(/^ok +ChatCore's messages hold exactly etl's rows: 6 rows; 0 missing, 0 differing/m);
    expect(v.stdout).toMatch(/^ok +users without a usable password cannot log in: 3 user\(s\)/m);
    expect(v.code).toBe(0);

    const before = await chatcoreRows(db.knex);
    const versions = await chatcoreVersions(db.knex);
    const again = await runEtl([...LOAD, '--json'], { env: { DATABASE_URL: db.url } });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).mode).toBe('already-done');
    const restart = await runEtl([...LOAD, '--restart', '--json'], { env: { DATABASE_URL: db.url } });
    expect(restart.code).toBe(0);
    expect(JSON.parse(restart.stdout).projected.every((p: { inserted: number; updated: number }) => p.inserted + p.updated === 0)).toBe(true);
    expect(await chatcoreRows(db.knex)).toEqual(before);
    expect(await chatcoreVersions(db.knex)).toEqual(versions);
    expect((await runEtl(['verify'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    const status = await runEtl(['status', '--json'], { env: { DATABASE_URL: db.url } });
    expect(status.code).toBe(0);
    // the first run and the --restart one
    expect(JSON.parse(status.stdout).runs).toEqual([expect.objectContaining({ pipeline: 'tinydb', state: 'done' }), expect.objectContaining({ pipeline: 'tinydb', state: 'done' })]);
  });

  test('verify fails, naming the table, when a ChatCore row no longer matches what etl loaded', async () => {
    const other = await freshDatabase();
    try {
      expect((await runEtl(LOAD, { env: { DATABASE_URL: other.url } })).code).toBe(0);
      await other.knex.raw("update public.messages set content = 'edited' where message_id = 'm-0001'");
      await other.knex.raw("update public.conversations set message_count = 7 where conversation_id = 'a1b2c3d4'");
      const v = await runEtl(['verify'], { env: { DATABASE_URL: other.url } });
      expect(v.code).toBe(1);
      expect(v.stdout).toMatch(/^FAIL +ChatCore's messages hold exactly etl's rows: 6 rows; 0 missing, 1 differing/m);
      expect(v.stdout).toMatch(/^FAIL +every ChatCore conversation's message_count equals its messages/m);
    } finally {
      await other.drop();
    }
  });
});
