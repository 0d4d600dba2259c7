/**
 * kill -9 at any point of a --target mul-in-one run (before the first batch, while loading, while
 * projecting into Mul-in-One's tables), then the same command: the app's tables end as one clean
 * run leaves them, integer ids included (the owner's hash and the dates, made once per database,
 * aside).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { interruptRun } from '../support/kill';
import { MIO_TABLES } from '../support/mul-in-one';

const APIS = 200;
const PERSONAS = 8_000;

async function appRows(knex: Knex): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of MIO_TABLES) out[t] = (await knex.raw(`select to_jsonb(t) - 'created_at' - 'hashed_password' as r from public."${t}" t order by id`)).rows.map((r: { r: unknown }) => r.r);
  return out;
}

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
    const reference = await runEtl(args, { env: { DATABASE_URL: clean.url } });
    expect(reference.code).toBe(0);

    const env = { DATABASE_URL: killed.url };
    await interruptRun(killed.knex, { args, env, stream: 'personas', rows: 0 });
    await interruptRun(killed.knex, { args, env, stream: 'personas', rows: 3_000 });
    // The owner's projection committed; API profiles or personas are under way.
    await interruptRun(killed.knex, { args, env, stream: 'personas', rows: 0, query: "select count(*)::int as n from etl.id_map where tbl = 'users'" });
    expect((await killed.knex.raw('select state from etl.etl_runs')).rows).toEqual([{ state: 'running' }]);

    const resumed = await runEtl([...args, '--json'], { env });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).mode).toBe('resumed');
    const a = await appRows(clean.knex);
    const b = await appRows(killed.knex);
    expect(b.personas).toHaveLength(PERSONAS);
    expect(b).toEqual(a);
    expect((await runEtl(['verify'], { env })).code).toBe(0);
  });
});
