/**
 * kill -9 at any point of a --target mul-in-one run (before the first batch, while loading, while
 * projecting into Mul-in-One's tables), then the same command: the app's tables end as one clean
 * run leaves them, integer ids included (the owner's hash and the dates, made once per database,
 * aside).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableRows } from '../support/catalog';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { killThenResume } from '../support/kill';
import { MIO_TABLES } from '../support/mul-in-one';

const APIS = 200;
const PERSONAS = 8_000;

describe('--target mul-in-one: kill -9 and rerun ends identical to one clean run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-mio-'));
  let clean: FreshDatabase;
  let killed: FreshDatabase;
  beforeAll(async () => {
    const apis = Array.from({ length: APIS }, (_, i) => `  - name: api-${i}\n    base_url: https://llm${i}.example/v1\n    model: model-${i}\n`).join('');
    fs.writeFileSync(path.join(dir, 'api_configuration.yaml'), `apis:\n${apis}default_api: api-0\n`);
    const personas = Array.from({ length: PERSONAS }, (_, i) => `  - name: Persona ${i}\n    prompt: You are number ${i}.\n    api_binding: api-${i % (APIS + 10)}\n`).join('');
    fs.writeFileSync(path.join(dir, 'persona.yaml'), `personas:\n${personas}settings:\n  memory_window: -1\n`);
    [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), killed?.drop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('killed before the first batch, mid-load, and mid-projection', async () => {
    const args = ['run', 'yaml-personas', dir, '--target', 'mul-in-one', '--owner', 'alice', '--owner-email', 'alice@example.com', '--batch-size', '500', '--bcrypt-cost', '4'];
    await killThenResume(clean, killed, args, [
      { stream: 'personas', rows: 0 },
      { stream: 'personas', rows: 3_000 },
      // The owner's projection committed; API profiles or personas are under way.
      { stream: 'personas', rows: 0, query: "select count(*)::int as n from etl.id_map where tbl = 'users'" },
    ]);
    // ids included; the owner's hash and the dates are made once per database
    const omit = ['created_at', 'hashed_password'];
    const b = await tableRows(killed.knex, MIO_TABLES, omit);
    expect(b.personas).toHaveLength(PERSONAS);
    expect(b).toEqual(await tableRows(clean.knex, MIO_TABLES, omit));
  });
});
