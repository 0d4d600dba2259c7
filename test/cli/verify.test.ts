import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { expectCliVerifyHolds } from '../support/cli-verify';
import { allChecksums } from '../support/pipeline';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');
const DOCUMENTS = path.resolve(__dirname, '../../fixtures/documents');
const PERSONAS = path.resolve(__dirname, '../../fixtures/personas');
const CHATCORE_V5 = path.resolve(__dirname, '../../fixtures/chatcore/sessions.v5.json');

/** Secrets of the fixture: none may leave the database in an export. */
const SECRETS = ['correct horse battery staple', 'FIXTURE-not-a-real-signature', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'];

describe('etl verify / status / rejects / run --dry-run / --max-rejects (CLI)', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-verify-'));
  });
  afterEach(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const etl = (...args: string[]) => runEtl(args, { env: { DATABASE_URL: db.url } });

  test('--help lists verify, status and rejects; run --help the new options', async () => {
    const top = await runEtl(['--help']);
    for (const c of ['verify [options]', 'status [options]', 'rejects [options]']) expect(top.stdout).toContain(c);
    const run = await runEtl(['run', '--help']);
    for (const flag of ['--max-rejects <n>', '--dry-run']) expect(run.stdout).toContain(flag);
    const rejects = await runEtl(['rejects', '--help']);
    for (const flag of ['--run <id>', '--stream <name>', '--outcome <outcome>']) expect(rejects.stdout).toContain(flag);
  });

  test('verify after a run of fixture ChatCore v5: exit 0, ok; the text summary is a table; the database is unchanged', () =>
    expectCliVerifyHolds(db, CHATCORE_V5, [['tenants', 1], ['users', 3], ['conversations', 5], ['messages', 11], ['user_personas', 3], ['auth_sessions', 1]], 11));

  test('a deleted, an edited or an extra message row: exit 1, naming the table and the id', async () => {
    expect((await etl('run', 'tinydb', FIXTURE, '--bcrypt-cost', '4')).code).toBe(0);
    const [first, second] = await db.knex('messages').orderBy('id').select('*');

    await db.knex('messages').where({ id: first.id }).delete();
    let r = await etl('verify');
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(new RegExp(`FAIL  rows of messages match the sources: expected 6, actual 5; missing 1: ${first.id}`));
    await db.knex('messages').insert(first);
    expect((await etl('verify')).code).toBe(0);

    await db.knex('messages').where({ id: second.id }).update({ content: second.content + '!' });
    r = await etl('verify', '--json');
    expect(r.code).toBe(1);
    let m = JSON.parse(r.stdout).tables.find((t: { table: string }) => t.table === 'messages');
    expect(m).toMatchObject({ missing: [], extra: [], changed: [second.id] });
    await db.knex('messages').where({ id: second.id }).update({ content: second.content });

    const extra = { ...second, id: '00000000-0000-5000-8000-000000000001', content_key: 'hand-made' };
    await db.knex('messages').insert(extra);
    r = await etl('verify', '--json');
    expect(r.code).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    m = report.tables.find((t: { table: string }) => t.table === 'messages');
    expect(m).toMatchObject({ expected: 6, actual: 7, missing: [], extra: [extra.id], changed: [] });
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)).toEqual(['rows of messages match the sources', "every conversation's message_count equals its messages"]);
  });

  test('a changed source file is reported (exit 1); a missing one falls back to the recorded counts and says so', async () => {
    const file = path.join(dir, 'db.json');
    fs.copyFileSync(FIXTURE, file);
    expect((await etl('run', 'tinydb', file, '--bcrypt-cost', '4')).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.chat_history['10'] = { user_id: 'admin', conversation_id: 'a0c0ffee', role: 'user', content: 'one more', timestamp: '2025-11-05T10:00:00' };
    fs.writeFileSync(file, JSON.stringify(doc));

    let r = await etl('verify', '--json');
    expect(r.code).toBe(1);
    let report = JSON.parse(r.stdout);
    expect(report.runs[0].sources[0]).toMatchObject({ path: file, status: 'changed' });
    expect(report.runs[0].from).toBe('recorded counts');
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string }) => c.name)).toEqual([`source unchanged: ${file}`]);
    // the recorded counts still add up: 6 messages loaded
    expect(report.tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ source: 9, loaded: 6, merged: 1, rejected: 2, expected: 6, actual: 6 });

    // loading the new version makes it the latest run of that file, and verify holds again
    expect((await etl('run', 'tinydb', file, '--bcrypt-cost', '4')).code).toBe(0);
    expect((await etl('verify')).code).toBe(0);

    fs.rmSync(file);
    r = await etl('verify', '--json');
    expect([r.code, JSON.parse(r.stdout).checks.filter((c: { ok: boolean }) => !c.ok)]).toEqual([0, []]);
    report = JSON.parse(r.stdout);
    expect(report.runs[0]).toMatchObject({ from: 'recorded counts', note: expect.stringMatching(/source file is gone/) });
    expect(report.tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ source: 10, loaded: 7, expected: 7, actual: 7, countsOnly: 7 });
    const text = await etl('verify');
    expect(text.stdout).toMatch(/missing\s+.*db\.json/);
    expect(text.stdout).toMatch(/verified from the counts it recorded/);
  });

  test('API keys stored with --allow-plaintext-keys fail verify by name; encrypted with a key, the check holds', async () => {
    const noKey = { DATABASE_URL: db.url, ETL_ENCRYPTION_KEY: undefined };
    expect((await runEtl(['run', 'yaml-personas', PERSONAS, '--allow-plaintext-keys'], { env: noKey })).code).toBe(0);
    const plain = await runEtl(['verify'], { env: noKey });
    expect(plain.code).toBe(1);
    expect(plain.stdout).toMatch(/^FAIL  API keys stored encrypted: 3 of 4 API profile\(s\) store their key in plaintext \(--allow-plaintext-keys\): Qwen32B, deepseek, persona:buddy;/m);

    const withKey = { DATABASE_URL: db.url, ETL_ENCRYPTION_KEY: 'readme example passphrase' };
    expect((await runEtl(['run', 'yaml-personas', PERSONAS, '--restart'], { env: withKey })).code).toBe(0);
    const encrypted = await runEtl(['verify', '--json'], { env: withKey });
    expect(JSON.parse(encrypted.stdout).checks.find((c: { name: string }) => c.name === 'API keys stored encrypted')).toEqual({ name: 'API keys stored encrypted', ok: true, detail: '4 API profile(s)' });
  });

  test('a target without the etl schema: exit 2, one sentence, nothing created', async () => {
    for (const cmd of [['verify'], ['status'], ['rejects']]) {
      const r = await etl(...cmd);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^etl: The target database has no etl schema .*`etl run` first/)]);
    }
    expect((await db.knex.raw("select count(*)::int as n from information_schema.tables where table_schema = 'public'")).rows[0].n).toBe(0);
  });

  test('status lists runs with sources and per-table counts, checkpoints and reject counts', async () => {
    expect((await etl('run', 'tinydb', FIXTURE, '--documents', DOCUMENTS, '--bcrypt-cost', '4')).code).toBe(0);
    const r = await etl('status', '--json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.runs).toHaveLength(1);
    expect(s.runs[0]).toMatchObject({ pipeline: 'tinydb', tenant: 'default', state: 'done', sources: [{ path: FIXTURE }, { path: path.join(DOCUMENTS, 'departments.json') }, { path: path.join(DOCUMENTS, 'employees.json') }] });
    expect(s.runs[0].tables.find((t: { table: string }) => t.table === 'messages')).toEqual({ table: 'messages', read: 9, loaded: 6, merged: 1, rejected: 2 });
    expect(s.checkpoints.map((c: { stream: string; position: number; rows: number; done: boolean }) => [c.stream, c.position, c.rows, c.done]).sort()).toEqual([
      ['chat_history', 9, 6, true],
      ['conversations', 2, 2, true],
      ['documents:departments.json', 2, 2, true],
      ['documents:employees.json', 3, 2, true],
      ['sessions', 1, 1, true],
      ['users', 5, 3, true],
    ]);
    expect(s.rejects.filter((x: { outcome: string }) => x.outcome === 'rejected')).toEqual([
      { run: s.runs[0].id, stream: 'chat_history', outcome: 'rejected', count: 2 },
      { run: s.runs[0].id, stream: 'users', outcome: 'rejected', count: 1 },
    ]);
    const text = await etl('status');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`run ${s.runs[0].id}  tinydb  tenant default  done`));
    expect(text.stdout).toMatch(/^\s+messages\s+9\s+6\s+1\s+2$/m);
  });

  test('rejects: NDJSON in source order, filters, no secret', async () => {
    expect((await etl('run', 'tinydb', FIXTURE, '--documents', DOCUMENTS, '--bcrypt-cost', '4')).code).toBe(0);
    const all = await etl('rejects');
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // 8 entries, as in test/integration/fixture.test.ts
    expect(lines.map((l) => [l.stream, l.locator.id, l.outcome, l.reason_code])).toEqual([
      ['chat_history', '5', 'merged', 'duplicate_messages'],
      ['chat_history', '7', 'inferred', 'inferred_conversation'],
      ['chat_history', '8', 'rejected', 'invalid_role'],
      ['chat_history', '9', 'rejected', 'invalid_timestamp'],
      ['conversations', '6', 'inferred', 'inferred_user'],
      ['documents:employees.json', '2', 'merged', 'duplicate_documents'],
      ['users', '3', 'merged', 'duplicate_users'],
      ['users', '5', 'rejected', 'missing_username'],
    ]);
    const u5 = lines.find((l) => l.reason_code === 'missing_username');
    expect(u5).toMatchObject({ pipeline: 'tinydb', tenant: 'default', locator: { file: FIXTURE, table: 'users', id: '5' }, message: expect.any(String), record: { username: '   ', password: '[REDACTED]' } });
    const u3 = lines.find((l) => l.reason_code === 'duplicate_users');
    expect(u3.record.password_hash).toBe('[REDACTED]');
    for (const secret of [...SECRETS, '62e092301a2cb1a55428c898483b0f8a72f4986c12af9ceae52c1d026743fedb']) expect(all.stdout).not.toContain(secret);

    const runId = lines[0].run_id;
    const filtered = await etl('rejects', '--run', runId, '--stream', 'chat_history', '--outcome', 'rejected');
    expect(filtered.stdout.trim().split('\n').map((l) => JSON.parse(l).locator.id)).toEqual(['8', '9']);
    const bad = await etl('rejects', '--run', 'nope');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--run expects a run id/);
    const unknown = await etl('rejects', '--run', '00000000-0000-4000-8000-000000000000');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/There is no run 00000000-0000-4000-8000-000000000000/);
  });

  test('--max-rejects stops the run (exit 1) after the batch that passes it; a rerun resumes and ends verified', async () => {
    // batches of 2 users: (1, 2), (3 merged, 4), (5 rejected) → 1 reject > 0 after the third batch
    const r = await etl('run', 'tinydb', FIXTURE, '--batch-size', '2', '--max-rejects', '0', '--bcrypt-cost', '4');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/etl: Stopped: 1 records rejected, more than --max-rejects 0 \(stream users\)\. The batches before this point are committed/);
    expect(await db.knex('etl_runs').select('state')).toEqual([{ state: 'failed' }]);
    expect(Number((await db.knex('users').count<{ count: string }[]>('* as count'))[0].count)).toBe(3);
    expect(Number((await db.knex('messages').count<{ count: string }[]>('* as count'))[0].count)).toBe(0);

    const again = await etl('run', 'tinydb', FIXTURE, '--batch-size', '2', '--json', '--bcrypt-cost', '4');
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.mode).toBe('resumed');
    expect(report.tables.find((t: { table: string }) => t.table === 'users')).toMatchObject({ read: 5, loaded: 3, merged: 1, rejected: 1 });
    expect((await etl('verify')).code).toBe(0);
  });

  test('--dry-run: per-table plan, and the database is byte-identical afterwards (fresh target, then a loaded one)', async () => {
    const empty = await allChecksums(db.knex);
    const dry = await etl('run', 'tinydb', FIXTURE, '--dry-run', '--json', '--bcrypt-cost', '4');
    expect(dry.code).toBe(0);
    const plan = JSON.parse(dry.stdout);
    expect(plan.dryRun).toBe(true);
    // inserts include the rows etl infers: "ghost" (users), b0bafe77 and admin's imported history (conversations),
    // the default personas of admin and ghost (user_personas)
    expect(plan.plan).toEqual([
      { table: 'users', read: 5, inserted: 4, updated: 0, unchanged: 0, merged: 1, rejected: 1 },
      { table: 'conversations', read: 2, inserted: 4, updated: 0, unchanged: 0, merged: 0, rejected: 0 },
      { table: 'messages', read: 9, inserted: 6, updated: 0, unchanged: 0, merged: 1, rejected: 2 },
      { table: 'auth_sessions', read: 1, inserted: 1, updated: 0, unchanged: 0, merged: 0, rejected: 0 },
      { table: 'user_personas', read: 0, inserted: 2, updated: 0, unchanged: 0, merged: 0, rejected: 0 },
    ]);
    expect(await allChecksums(db.knex)).toEqual(empty);

    expect((await etl('run', 'tinydb', FIXTURE, '--bcrypt-cost', '4')).code).toBe(0);
    const loaded = await allChecksums(db.knex);
    // the same source again: already loaded, a run would read and write nothing
    const same = JSON.parse((await etl('run', 'tinydb', FIXTURE, '--dry-run', '--json')).stdout);
    expect(same.mode).toBe('already-done');
    expect(same.plan.every((p: { read: number; inserted: number; updated: number }) => p.read + p.inserted + p.updated === 0)).toBe(true);
    // with --restart: a full pass that finds every row unchanged
    const full = JSON.parse((await etl('run', 'tinydb', FIXTURE, '--dry-run', '--restart', '--json', '--bcrypt-cost', '4')).stdout);
    expect(full.plan.find((p: { table: string }) => p.table === 'messages')).toEqual({ table: 'messages', read: 9, inserted: 0, updated: 0, unchanged: 6, merged: 1, rejected: 2 });
    expect(await allChecksums(db.knex)).toEqual(loaded);
    const file = path.join(dir, 'db.json');
    const doc = JSON.parse(fs.readFileSync(FIXTURE, 'utf8'));
    doc.chat_history['10'] = { user_id: 'admin', conversation_id: 'a0c0ffee', role: 'user', content: 'one more', timestamp: '2025-11-05T10:00:00' };
    doc.conversations['3'].title = 'a new title';
    fs.writeFileSync(file, JSON.stringify(doc));
    const text = await etl('run', 'tinydb', file, '--dry-run', '--bcrypt-cost', '4');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^table\s+read\s+insert\s+update\s+unchanged\s+merged\s+rejected$/m);
    expect(text.stdout).toMatch(/^users\s+5\s+0\s+0\s+3\s+1\s+1$/m);
    expect(text.stdout).toMatch(/^conversations\s+2\s+0\s+1\s+1\s+0\s+0$/m);
    expect(text.stdout).toMatch(/^messages\s+10\s+1\s+0\s+6\s+1\s+2$/m);
    expect(text.stdout).toMatch(/Nothing was written/);
    expect(await allChecksums(db.knex)).toEqual(loaded);
    expect((await etl('verify')).code).toBe(0);
  });
});
