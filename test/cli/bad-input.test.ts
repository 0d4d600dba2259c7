import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { runEtl } from '../support/cli';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');

/** Every table etl could have written to: none may exist after a refused run. */
async function tablesIn(knex: Knex): Promise<string[]> {
  const res = await knex.raw("select table_name from information_schema.tables where table_schema = 'public' order by 1");
  return res.rows.map((r: { table_name: string }) => r.table_name);
}

describe('bad input: one sentence, exit 2, nothing written', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-bad-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  const good = fs.readFileSync(FIXTURE, 'utf8');
  const cases: [string, string | null, RegExp][] = [
    ['missing.json', null, /missing\.json does not exist/],
    ['truncated.json', good.slice(0, Math.floor(good.length / 2)), /truncated\.json is truncated or corrupt at byte \d+/],
    ['corrupt.json', good.replace('"role": "user"', '"role": usr'), /corrupt\.json is truncated or corrupt at byte \d+/],
    ['array.json', '[{"a": 1}]', /array\.json .*\{table: \{doc_id: document\}\}/],
    ['unknown-table.json', '{"notes": {"1": {"text": "hi"}}}', /table "notes" \(1 records\).*--map notes=/],
  ];

  test.each(cases)('%s', async (name, content, message) => {
    const file = path.join(dir, name);
    if (content !== null) fs.writeFileSync(file, content);
    const r = await runEtl(['run', 'tinydb', file], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await tablesIn(db.knex)).toEqual([]);
  });

  test('a 0-byte file is an empty TinyDB database: exit 0, no rows', async () => {
    const file = path.join(dir, 'empty.json');
    fs.writeFileSync(file, '');
    const r = await runEtl(['run', 'tinydb', file, '--json'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).tables).toEqual([]);
    for (const t of ['users', 'conversations', 'messages', 'auth_sessions', 'documents']) {
      expect(Number((await db.knex(t).count<{ count: string }[]>('* as count'))[0].count)).toBe(0);
    }
  });

  test('a bad DATABASE_URL is named without its password', async () => {
    const r = await runEtl(['run', 'tinydb', FIXTURE], { env: { DATABASE_URL: 'mysql://root:hunter2@db.example/x' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not a PostgreSQL URL/);
    expect(r.stderr).not.toContain('hunter2');
  });

  test('an unreachable server is named without its password', async () => {
    const r = await runEtl(['run', 'tinydb', FIXTURE], { env: { DATABASE_URL: 'postgres://etl:hunter2@127.0.0.1:1/etl' } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/127\.0\.0\.1:1/);
    expect(r.stderr).not.toContain('hunter2');
  });

  test('unknown pipeline, bad option, bad time zone → exit 2 with a sentence', async () => {
    const a = await runEtl(['run', 'csv', FIXTURE], { env: { DATABASE_URL: db.url } });
    expect(a.code).toBe(2);
    expect(a.stderr).toMatch(/Unknown pipeline "csv"/);
    const b = await runEtl(['run', 'tinydb', FIXTURE, '--batch-size', 'lots'], { env: { DATABASE_URL: db.url } });
    expect(b.code).toBe(2);
    expect(b.stderr).toMatch(/batch-size/);
    const c = await runEtl(['run', 'tinydb', FIXTURE, '--source-timezone', 'Mars/Base'], { env: { DATABASE_URL: db.url } });
    expect(c.code).toBe(2);
    expect(c.stderr).toMatch(/Mars\/Base/);
    expect(await tablesIn(db.knex)).toEqual([]);
  });

  test('a bad --tenant-map: a missing file or a value that is not a slug → exit 2, nothing written', async () => {
    const seeds = path.resolve(__dirname, '../../fixtures/seeds');
    const missing = await runEtl(['run', 'json-seeds', seeds, '--tenant-map', path.join(dir, 'nope.json')], { env: { DATABASE_URL: db.url } });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/nope\.json/);
    const file = path.join(dir, 'tenant-map.json');
    fs.writeFileSync(file, JSON.stringify({ Initech: 'Not a slug!' }));
    const bad = await runEtl(['run', 'json-seeds', seeds, '--tenant-map', file], { env: { DATABASE_URL: db.url } });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/"Initech" maps to "Not a slug!", not a slug/);
    expect(await tablesIn(db.knex)).toEqual([]);
  });
});
