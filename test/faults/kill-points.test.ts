/**
 * kill -9 at evenly spread points of every pipeline and of `etl migrate`, then the same command:
 * the target ends exactly like one clean run, and knex's migration lock is never left stuck.
 * ETL_KILL_POINTS points per pipeline: 3 in `npm test`, 20 in `npm run test:faults`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { generateChatCore } from '../../bench/generate';
import { migrationSource } from '../../src/db/migrations';
import { Fernet } from '../../src/secrets/fernet';
import { runEtl, startEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { generateConfigSources } from '../support/generate';
import { figures, interruptRun } from '../support/kill';
import { allTables, dataChecksums } from '../support/pipeline';

const POINTS = Number(process.env.ETL_KILL_POINTS ?? 3);
if (!Number.isInteger(POINTS) || POINTS < 1) throw new Error(`ETL_KILL_POINTS must be a positive integer, got ${process.env.ETL_KILL_POINTS}`);
// 20 kills and their reruns per pipeline take minutes on a 2-core machine.
jest.setTimeout(120_000 + POINTS * 30_000);

const PASSPHRASE = 'kill-resume passphrase';
const ENV = { ETL_LOG_LEVEL: 'warn', ETL_ENCRYPTION_KEY: PASSPHRASE };

const CASES = [
  { pipeline: 'tinydb', source: 'chat.json', extra: [], tables: ['users', 'conversations', 'messages', 'auth_sessions'] },
  { pipeline: 'lowdb', source: 'db.json', extra: ['--map', 'chats=messages'], tables: ['users', 'conversations', 'messages'] },
  { pipeline: 'json-seeds', source: 'seeds', extra: [], tables: ['tenants', 'users'] },
  { pipeline: 'yaml-personas', source: 'personas', extra: [], tables: ['api_profiles', 'personas'] },
] as const;

describe(`kill -9 at ${POINTS} evenly spread points, then rerun: like one clean run`, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-points-'));
  beforeAll(async () => {
    generateConfigSources(dir);
    await generateChatCore(path.join(dir, 'chat.json'), { messages: 20_000, users: 50, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(CASES)('$pipeline', async (c) => {
    const [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
    try {
      const args = ['run', c.pipeline, path.join(dir, c.source), ...c.extra, '--batch-size', '250', '--json'];
      const reference = await runEtl(args, { env: { ...ENV, DATABASE_URL: clean.url } });
      expect(reference.code).toBe(0);
      const a = JSON.parse(reference.stdout);
      const total = a.tables.reduce((n: number, t: { read: number }) => n + t.read, 0);

      // Point 0: the run is recorded, nothing committed; point i: i/POINTS of all records committed.
      const env = { ...ENV, DATABASE_URL: killed.url };
      for (let i = 0; i < POINTS; i++) await interruptRun(killed.knex, { args, env, rows: Math.floor((i * total) / POINTS) });
      expect(await killed.knex('etl_runs').select('state', 'attempts')).toEqual([{ state: 'running', attempts: POINTS }]);

      const resumed = await runEtl(args, { env });
      expect(resumed.code).toBe(0);
      const b = JSON.parse(resumed.stdout);
      expect(b.mode).toBe('resumed');
      expect(figures(b)).toEqual(figures(a));
      // Fernet tokens carry a random IV: compare what they decrypt to, and everything else as it is
      expect(await dataChecksums(killed.knex, c.tables, ['api_key_cipher'])).toEqual(await dataChecksums(clean.knex, c.tables, ['api_key_cipher']));
      expect((await runEtl(['verify'], { env })).code).toBe(0);
      const row = (table: string) => a.tables.find((t: { table: string }) => t.table === table);
      if (c.pipeline === 'yaml-personas') {
        const { fernet } = Fernet.fromSetting(PASSPHRASE);
        const keys = async (k: Knex) => (await k('api_profiles').orderBy('name').select('name', 'api_key_cipher')).map((r) => [r.name, fernet.decrypt(r.api_key_cipher)]);
        expect(await keys(killed.knex)).toEqual([
          ['one', 'sk-kill-one-0000'],
          ['three', 'sk-kill-three-0000'],
          ['two', 'sk-kill-two-0000'],
        ]);
        // 12,000 personas, every 101st (119 of them, 0 included) without a name
        expect(row('personas')).toMatchObject({ read: 12_000, loaded: 11_881, rejected: 119 });
      }
      if (c.pipeline === 'json-seeds') expect(row('users')).toMatchObject({ read: 30_000, loaded: 27_272, rejected: 2_728 });
      if (c.pipeline === 'lowdb') expect(row('messages')).toMatchObject({ read: 30_000, loaded: 29_970, merged: 30, rejected: 0 });
      if (c.pipeline === 'tinydb') expect(row('messages')).toMatchObject({ read: 20_000, loaded: 19_980, merged: 20, rejected: 0 });
    } finally {
      await Promise.all([clean.drop(), killed.drop()]);
    }
  });
});

describe(`kill -9 of etl migrate at ${POINTS} evenly spread points`, () => {
  /** Tables and their columns: the schema a migrate leaves. */
  async function schema(knex: Knex): Promise<string[]> {
    const res = await knex.raw("select table_name || '.' || column_name || ':' || data_type as c from information_schema.columns where table_schema = 'public' order by 1");
    return res.rows.map((r: { c: string }) => r.c);
  }
  const lockState = async (knex: Knex) => ((await allTables(knex)).includes('etl_migrations_lock') ? (await knex('etl_migrations_lock').select('is_locked')).map((r) => r.is_locked) : 'absent');

  test('the rerun applies the whole schema; knex\'s migration lock is never left set', async () => {
    const ref = await freshDatabase();
    const t0 = Date.now();
    expect((await runEtl(['migrate'], { env: { DATABASE_URL: ref.url } })).code).toBe(0);
    const wall = Date.now() - t0;
    const expected = await schema(ref.knex);
    await ref.drop();
    for (let i = 0; i < POINTS; i++) {
      const db = await freshDatabase();
      try {
        const env = { DATABASE_URL: db.url };
        const run = startEtl(['migrate'], { env });
        await new Promise((r) => setTimeout(r, Math.floor((i * wall) / POINTS)));
        run.child.kill('SIGKILL');
        await run.result;
        expect([[0], 'absent', []]).toContainEqual(await lockState(db.knex));
        const rerun = await runEtl(['migrate'], { env });
        expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: '' });
        expect(await schema(db.knex)).toEqual(expected);
        expect(await db.knex('etl_migrations').count<{ count: number }[]>('* as count')).toEqual([{ count: (await migrationSource.getMigrations([])).length }]);
        expect(await lockState(db.knex)).toEqual([0]);
      } finally {
        await db.drop();
      }
    }
  });

  test('a stale lock left by a migrate that ran without a transaction is cleared, with a warning', async () => {
    const db = await freshDatabase();
    try {
      const env = { DATABASE_URL: db.url };
      expect((await runEtl(['migrate'], { env })).code).toBe(0);
      await db.knex('etl_migrations_lock').update({ is_locked: 1 }); // what a killed `knex migrate:latest --disable-transactions` leaves
      const again = await runEtl(['migrate'], { env });
      expect(again.code).toBe(0);
      expect(again.stderr).toMatch(/cleared a stale knex migration lock \(etl_migrations_lock\.is_locked = 1\) left by an interrupted migrate/);
      expect(await lockState(db.knex)).toEqual([0]);
      await db.knex('etl_migrations_lock').update({ is_locked: 1 });
      expect((await runEtl(['run', 'tinydb', 'fixtures/tinydb/chatcore.json'], { env })).code).toBe(0);
      expect(await lockState(db.knex)).toEqual([0]);
    } finally {
      await db.drop();
    }
  });
});
