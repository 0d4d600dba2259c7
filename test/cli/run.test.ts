import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { checksums } from '../support/pipeline';

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
    for (const flag of ['--database', '--tenant', '--documents', '--source-timezone', '--orphans', '--batch-size', '--concurrency', '--restart', '--json']) expect(run.stdout).toContain(flag);
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
    for (const secret of ['1234', 'correct horse', 'FIXTURE-not-a-real-signature', db.url.split('@')[0].split(':').pop() ?? '']) {
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

  test('a changed source file is detected and reprocessed', async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-changed-'));
    const file = path.join(dir, 'db.json');
    fs.copyFileSync(FIXTURE, file);
    expect((await runEtl(['run', 'tinydb', file, '--bcrypt-cost', '4'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
    doc.chat_history['10'] = { user_id: 'admin', conversation_id: '7c65b240', role: 'user', content: 'one more', timestamp: '2025-11-05T10:00:00' };
    fs.writeFileSync(file, JSON.stringify(doc));
    const second = await runEtl(['run', 'tinydb', file, '--json', '--bcrypt-cost', '4'], { env: { DATABASE_URL: db.url } });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout);
    expect(report.mode).toBe('fresh');
    expect(report.tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ read: 10, loaded: 7, merged: 1, rejected: 2 });
    expect(Number((await db.knex('messages').count<{ count: string }[]>('* as count'))[0].count)).toBe(7);
    const conv = await db.knex('conversations').where({ legacy_id: '7c65b240' }).first();
    expect(conv.message_count).toBe(3);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a second run while one holds the target is refused', async () => {
    const conn = await db.knex.client.acquireConnection();
    try {
      await conn.query('select pg_advisory_lock($1)', [0x45544c31]);
      const r = await runEtl(['run', 'tinydb', FIXTURE], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/Another etl run is in progress on this database/);
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
    const down = await runEtl(['migrate', '--rollback'], { env: { DATABASE_URL: db.url } });
    expect(down.code).toBe(0);
    expect(await db.knex.schema.hasTable('messages')).toBe(false);
  });
});
