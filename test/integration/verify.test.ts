import path from 'node:path';
import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { allChecksums, runIn } from '../support/pipeline';
import { failed, tableOf } from '../support/verify-report';
import { rowId } from '../../src/normalize/ids';
import { readOnly, verifyTarget } from '../../src/verify/verify';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');
const DOCUMENTS = path.resolve(__dirname, '../../fixtures/documents');
const CHATCORE = (file: string) => path.resolve(__dirname, '../../fixtures/chatcore', file);

/**
 * Expected figures are those of test/integration/fixture.test.ts, plus the rows etl infers:
 * users 3 loaded + "ghost" inferred = 4; conversations 2 loaded + b0bafe77 inferred + admin's
 * imported history = 4; messages 6; auth_sessions 1; documents 4 (employees 3 with one duplicate,
 * departments 2).
 */
describe('etl verify (in-process)', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('after a run of the fixture: every table matches, every check holds, nothing written', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE], { documentsDir: DOCUMENTS });
    const before = await allChecksums(db.knex);
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.runs).toHaveLength(1);
    expect(r.runs[0]).toMatchObject({ from: 'source', state: 'done' });
    const pickFigures = (name: string) => {
      const t = tableOf(r, name);
      return [t.source, t.loaded, t.merged, t.repaired, t.rejected, t.expected, t.actual, t.missingCount, t.extraCount, t.changedCount];
    };
    expect(pickFigures('users')).toEqual([5, 3, 1, 0, 1, 4, 4, 0, 0, 0]);
    expect(pickFigures('conversations')).toEqual([2, 2, 0, 0, 0, 4, 4, 0, 0, 0]);
    expect(pickFigures('messages')).toEqual([9, 6, 1, 1, 2, 6, 6, 0, 0, 0]);
    expect(pickFigures('auth_sessions')).toEqual([1, 1, 0, 0, 0, 1, 1, 0, 0, 0]);
    expect(pickFigures('documents')).toEqual([5, 4, 1, 0, 0, 4, 4, 0, 0, 0]);
    expect(tableOf(r, 'messages').checksum.columns).toEqual(['id', 'tenant_id', 'conversation_id', 'user_id', 'persona_id', 'content_key', 'role', 'content', 'created_at']);
    expect(tableOf(r, 'messages').checksum.expected).toBe(tableOf(r, 'messages').checksum.actual);
    expect(r.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining(['foreign keys resolve (no orphans)', 'no NULL where a value is needed', 'no two users fold to one key', 'no plaintext secret from the sources', "every conversation's message_count equals its messages"]),
    );
    // source records = loaded + merged + rejected for each of the 6 streams, as recorded by the run
    expect(r.streams.map((s) => [s.stream, s.source, s.loaded, s.merged, s.rejected])).toEqual([
      ['users', 5, 3, 1, 1],
      ['documents:departments.json', 2, 2, 0, 0],
      ['documents:employees.json', 3, 2, 1, 0],
      ['conversations', 2, 2, 0, 0],
      ['chat_history', 9, 6, 1, 2],
      ['sessions', 1, 1, 0, 0],
    ]);
    for (const s of r.streams) expect(s.recorded).toEqual({ source: s.source, loaded: s.loaded, merged: s.merged, rejected: s.rejected, repaired: s.repaired });
    expect(await allChecksums(db.knex)).toEqual(before);
  });

  test('--orphans reject: verify follows the policy recorded with the run', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE], { orphans: 'reject' });
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    // users: no "ghost"; conversations: a0c0ffee and admin's imported history; messages 1-5 minus the duplicate
    expect([tableOf(r, 'users').expected, tableOf(r, 'conversations').expected, tableOf(r, 'messages').expected]).toEqual([3, 2, 4]);
    expect([tableOf(r, 'messages').loaded, tableOf(r, 'messages').rejected]).toEqual([4, 4]);
  });

  test('a deleted, an edited and an extra message are each named by id', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE]);
    const [a, b] = await db.knex('messages').orderBy('id').select('id', 'content');
    await db.knex('messages').where({ id: a.id }).delete();
    await db.knex.raw('update conversations c set message_count = (select count(*) from messages m where m.conversation_id = c.id)');
    await db.knex('messages').where({ id: b.id }).update({ content: 'edited by hand' });
    const extraId = rowId('default', 'message', 'not-from-any-source');
    const model = await db.knex('messages').where({ id: b.id }).first();
    await db.knex('messages').insert({ ...model, id: extraId, content_key: 'not-from-any-source' });
    await db.knex.raw('update conversations c set message_count = (select count(*) from messages m where m.conversation_id = c.id)');

    const r = await verifyTarget(db.knex);
    expect(r.ok).toBe(false);
    const m = tableOf(r, 'messages');
    expect(m.missing).toEqual([a.id]);
    expect(m.changed).toEqual([b.id]);
    expect(m.extra).toEqual([extraId]);
    expect([m.expected, m.actual]).toEqual([6, 6]);
    expect(m.checksum.expected).not.toBe(m.checksum.actual);
    expect(failed(r)).toEqual([expect.stringMatching(new RegExp(`^rows of messages match the sources: .*missing 1: ${a.id}.*extra 1: ${extraId}.*changed 1: ${b.id}`))]);
  });

  test('integrity: a wrong message_count, a username that does not fold to its key, a stored plaintext password', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE]);
    await db.knex('conversations').where({ legacy_id: 'a0c0ffee' }).update({ message_count: 9 });
    await db.knex('users').where({ username: 'admin' }).update({ username_original: 'Ädmin' });
    await db.knex('users').where({ username: 'strasse' }).update({ email: 'pw: correct horse battery staple' });
    await db.knex('etl_rejects').where({ reason_code: 'missing_username' }).update({ record: JSON.stringify({ username: '   ', password: 'x' }) });
    const r = await verifyTarget(db.knex);
    const bad = Object.fromEntries(r.checks.filter((c) => !c.ok).map((c) => [c.name, c.detail]));
    expect(Object.keys(bad).sort()).toEqual(["every conversation's message_count equals its messages", 'no plaintext secret from the sources', 'no two users fold to one key']);
    expect(bad["every conversation's message_count equals its messages"]).toMatch(/message_count 9, 2 messages/);
    expect(bad['no two users fold to one key']).toMatch(/"Ädmin" folds to "ädmin", not to its key "admin"/);
    expect(bad['no plaintext secret from the sources']).toMatch(/etl_rejects\.record: 1 row.*users\.email: 1 row/);
    expect(bad['no plaintext secret from the sources']).not.toMatch(/correct horse/);
  });

  test('verify, status and rejects read in a READ ONLY transaction: a write there fails', async () => {
    await runIn(db.knex, 'tinydb', [FIXTURE]);
    await expect(readOnly(db.knex, (trx) => trx('messages').delete())).rejects.toThrow(/read-only transaction/);
    expect(Number((await db.knex('messages').count<{ count: string }[]>('* as count'))[0].count)).toBe(6);
  });

  test('a target without the schema is refused, and verify creates nothing', async () => {
    await expect(verifyTarget(db.knex)).rejects.toMatchObject({ code: 'NO_SCHEMA', exitCode: 2 });
    expect((await db.knex.raw("select count(*)::int as n from information_schema.tables where table_schema = 'public'")).rows[0].n).toBe(0);
  });

  test('fixture ChatCore v5 (plaintext passwords next to the hashes): ok, with the hand-derived rows', async () => {
    await runIn(db.knex, 'tinydb', [CHATCORE('sessions.v5.json')]);
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    // 3 users, 3 conversations + b0b0cafe inferred + imported history, 11 messages, 1 session;
    // secrets: the passwords "open-sesame-1" (twice) and "guest-pass-2", and the session token
    expect(['users', 'conversations', 'messages', 'auth_sessions'].map((t) => tableOf(r, t).expected)).toEqual([3, 5, 11, 1]);
    expect(r.checks.find((c) => c.name === 'no plaintext secret from the sources')!.detail).toMatch(/^3 plaintext value\(s\) from the sources/);
  });

  test('all five fixture ChatCore versions loaded in order: each is the latest run of its file, and together they explain every row', async () => {
    for (const v of [1, 2, 3, 4, 5]) await runIn(db.knex, 'tinydb', [CHATCORE(`sessions.v${v}.json`)]);
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    expect(r.runs).toHaveLength(5);
    expect(['users', 'conversations', 'messages', 'auth_sessions'].map((t) => tableOf(r, t).actual)).toEqual([3, 5, 11, 5]);
  });
});
