import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';

const FIXTURE = path.resolve(__dirname, '../../fixtures/tinydb/chatcore.json');

/** verify keeps what the sources give in temporary files (TMPDIR); the CLI, so that TMPDIR reaches os.tmpdir(). */
describe('etl verify and its temporary files', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-verify-test-'));
  });
  afterEach(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const etl = (env: Record<string, string>, ...args: string[]) => runEtl(args, { env: { DATABASE_URL: db.url, ...env } });

  test('leaves none behind', async () => {
    expect((await etl({}, 'run', 'tinydb', FIXTURE)).code).toBe(0);
    const r = await etl({ TMPDIR: dir }, 'verify');
    expect(r.code).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });

  test('a temp folder it cannot use is one sentence naming it (exit 1), not a stack trace', async () => {
    expect((await etl({}, 'run', 'tinydb', FIXTURE)).code).toBe(0);
    const missing = path.join(dir, 'gone');
    const r = await etl({ TMPDIR: missing }, 'verify');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`etl: verify could not use its temporary files in ${missing} (ENOENT); free space there or set TMPDIR to a folder with room`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
