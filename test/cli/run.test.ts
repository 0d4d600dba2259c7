import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { RUN_LOCK_KEY } from '../../src/pipeline/lock';
import { checksums } from '../support/pipeline';
import { py } from '../../bench/mutate';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');
const DOCUMENTS = path.resolve(__dirname, '../../fixtures/documents');

describe('etl CLI', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('--help explains the commands; each command has its own help', async () => {
    const top = await runEtl(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/run \[options\] <pipeline> <sources\.\.\.>/);
    expect(top.stdout).toMatch(/migrate/);
    expect(top.stdout).toMatch(/Exit codes: 0 success, 1 a run failed, 2 bad usage/);
    const run = await runEtl(['run', '--help']);
    expect(run.code).toBe(0);
    for (const flag of ['--database', '--target', '--tenant', '--documents', '--source-timezone', '--orphans', '--batch-size', '--concurrency', '--restart', '--json']) expect(run.stdout).toContain(flag);
    expect(run.stdout).toMatch(/--target <name>.*\(choices: "etl", "chatcore", "mul-in-one", "itl",\s+default: "etl"\)/s);
    const version = await runEtl(['--version']);
    expect(version).toMatchObject({ code: 0, stdout: `${require('../../package.json').version}\n` });
  });

  test('prints a per-table summary, then a rerun changes no row and says so', async () => {
    const env = { DATABASE_URL: db.url, ETL_LOG_LEVEL: 'debug' };
    const first = await runEtl(['run', 'tinydb', FIXTURE, '--documents', DOCUMENTS, '--bcrypt-cost', '4'], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^table\s+read\s+loaded\s+merged\s+rejected\s+repaired\s+seconds$/m);
    expect(first.stdout).toMatch(/^messages\s+9\s+6\s+1\s+2\s+1\s+\d+\.\d\d$/m);
    expect(first.stdout).toMatch(/^users\s+5\s+3\s+1\s+1\s+0\s+/m);
    expect(first.stdout).toMatch(/1 users created from references/);
    // logs are JSON lines on stderr and hold no secret from the source
    const lines = first.stderr.trim().split('\n').filter(Boolean);
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
    for (const secret of ['swordfish-7', 'correct horse', 'FIXTURE-not-a-real-signature', db.url.split('@')[0].split(':').pop() ?? '']) {
      if (secret) expect(first.stderr).not.toContain(secret);
    }

    const before = await checksums(db.knex);
    const again = await runEtl(['run', 'tinydb', FIXTURE, '--documents', DOCUMENTS, '--json'], { env: { DATABASE_URL: db.url } });
    expect(again.code).toBe(0);
    const report = JSON.parse(again.stdout);
    expect(report.mode).toBe('already-done');
    expect(report.tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ read: 9, loaded: 6, merged: 1, rejected: 2 });
    expect(await checksums(db.knex)).toEqual(before);
  });

  test('a changed source file is detected and its new record loaded; duplicates across batches still merge, earliest user still wins', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-changed-'));
    const file = path.join(dir, 'db.json');
    fs.copyFileSync(FIXTURE, file);
    const env = { DATABASE_URL: db.url };
    // one record per batch: every duplicate meets its twin in an earlier batch
    expect((await runEtl(['run', 'tinydb', file, '--bcrypt-cost', '4', '--batch-size', '1'], { env })).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.chat_history['10'] = { user_id: 'admin', conversation_id: 'a0c0ffee', role: 'user', content: 'one more', timestamp: '2025-11-05T10:00:00' };
    // Written back as TinyDB writes it: unchanged documents keep their bytes.
    fs.writeFileSync(file, py(doc));
    const second = await runEtl(['run', 'tinydb', file, '--json', '--bcrypt-cost', '4', '--batch-size', '1'], { env });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.mode).toBe('delta');
    const t = (name: string) => report.tables.find((x: { table: string }) => x.table === name);
    // A delta pass: the records unchanged since the first run are skipped, counted as loaded, merged or rejected as then.
    expect(t('messages')).toMatchObject({ read: 10, loaded: 7, merged: 1, rejected: 2, inserted: 1, deltaNew: 1, deltaUnchanged: 9 });
    expect(t('users')).toMatchObject({ read: 5, loaded: 3, merged: 1, rejected: 1, inserted: 0, updated: 0, deltaUnchanged: 5 });
    expect(Number((await db.knex('messages').count<{ count: string }[]>('* as count'))[0].count)).toBe(7);
    const conv = await db.knex('conversations').where({ legacy_id: 'a0c0ffee' }).first();
    expect(conv.message_count).toBe(3);
    const strasse = await db.knex('users').where({ username: 'strasse' }).first();
    expect([strasse.username_original, strasse.is_active]).toEqual(['Straße', true]);
    // verify checks the latest run of this file, which is the one over the changed file
    const verify = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(verify.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.code).toBe(0);
    // The same documents written by another tool (other spacing): a document counts as changed
    // when its bytes changed, so all are written again, and no message is added or changed.
    fs.writeFileSync(file, JSON.stringify(doc));
    const third = JSON.parse((await runEtl(['run', 'tinydb', file, '--json', '--bcrypt-cost', '4', '--batch-size', '1'], { env })).stdout);
    expect(third.mode).toBe('delta');
    expect(third.tables.find((x: { table: string }) => x.table === 'messages')).toMatchObject({ read: 10, deltaChanged: 10, deltaUnchanged: 0, inserted: 0, updated: 0, replaced: 0 });
    expect(Number((await db.knex('messages').count<{ count: string }[]>('* as count'))[0].count)).toBe(7);
    expect((await runEtl(['verify'], { env })).code).toBe(0);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('another --map is another run: a table ignored before is loaded now', async () => {
    const env = { DATABASE_URL: db.url };
    const first = JSON.parse((await runEtl(['run', 'tinydb', FIXTURE, '--json', '--bcrypt-cost', '4', '--map', 'sessions=ignore'], { env })).stdout);
    expect(first.tables.find((x: { table: string }) => x.table === 'auth_sessions')).toBeUndefined();
    const second = JSON.parse((await runEtl(['run', 'tinydb', FIXTURE, '--json', '--bcrypt-cost', '4'], { env })).stdout);
    expect(second.mode).toBe('fresh');
    expect(second.tables.find((x: { table: string }) => x.table === 'auth_sessions')).toMatchObject({ read: 1, loaded: 1 });
  });

  test('verify, status and rejects with no database here: exit 2, and no .etl folder is created', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-nodb-'));
    for (const cmd of ['verify', 'status', 'rejects']) {
      const r = await runEtl([cmd], { cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/There is no etl database here: \.etl\/pg does not exist/);
    }
    expect(fs.existsSync(path.join(dir, '.etl'))).toBe(false);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a second run while one holds the target is refused', async () => {
    const conn = await db.knex.client.acquireConnection();
    try {
      await conn.query('select pg_advisory_lock($1)', [RUN_LOCK_KEY]);
      const r = await runEtl(['run', 'tinydb', FIXTURE], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Another etl run is in progress on this database/);
      // refused before anything, the schema included
      const tables = await db.knex.raw("select count(*)::int as n from information_schema.tables where table_schema = 'public'");
      expect(tables.rows[0].n).toBe(0);
    } finally {
      await conn.query('select pg_advisory_unlock_all()');
      await db.knex.client.releaseConnection(conn);
    }
  });

  test('migrate applies the schema, --rollback removes it', async () => {
    const up = await runEtl(['migrate'], { env: { DATABASE_URL: db.url } });
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/applied: 20261123_001_chat_schema/);
    expect(await db.knex.schema.hasTable('messages')).toBe(true);
    // One --rollback per step back: the schema changes (lossless on an empty target), then the knex batch.
    const down = async () => (await runEtl(['migrate', '--rollback'], { env: { DATABASE_URL: db.url } })).stdout;
    expect(await down()).toBe('rolled back: 20261201_102_message_search\n');
    expect(await down()).toBe('rolled back: 20261201_101_persona_segmentation\n');
    expect(await down()).toMatch(/^rolled back: 20261201_301_messages_key_index, 20261201_200_digests, 20261201_003_undo, /);
    expect(await db.knex.schema.hasTable('messages')).toBe(false);
  });
});
