/**
 * `etl rollback --run ID`: the rows a run inserted are deleted and the rows it updated get their
 * earlier values back, so the target equals one that never saw the run; refused (exit 2, one
 * sentence) for an unknown run and while a later run depends on the run's rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chatcoreRows } from '../support/chatcore';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { dataChecksums } from '../support/pipeline';

const V3 = 'fixtures/chatcore/sessions.v3.json';
const V4 = 'fixtures/chatcore/sessions.v4.json'; // an 11th message, a new session, a conversation updated

async function runIds(db: FreshDatabase): Promise<{ id: string; pipeline: string; state: string }[]> {
  return (await db.knex.raw('select id::text, pipeline, state from etl_runs order by started_at')).rows;
}

describe('etl rollback --run', () => {
  let reference: FreshDatabase;
  let db: FreshDatabase;
  beforeAll(async () => {
    [reference, db] = await Promise.all([freshDatabase(), freshDatabase()]);
    expect((await runEtl(['run', 'tinydb', V3], { env: { DATABASE_URL: reference.url } })).code).toBe(0);
  });
  afterAll(async () => Promise.all([reference?.drop(), db?.drop()]));

  test('undoes the later of two runs: inserted rows deleted, updated rows as before, verify agrees, the rerun loads it again', async () => {
    const env = { DATABASE_URL: db.url };
    expect((await runEtl(['run', 'tinydb', V3], { env })).code).toBe(0);
    expect((await runEtl(['run', 'tinydb', V4], { env })).code).toBe(0);
    const [a, b] = await runIds(db);

    const refused = await runEtl(['rollback', '--run', a.id], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr.trim()).toBe(`etl: Run ${a.id} cannot be rolled back: the later run ${b.id} (tinydb, started ${(await db.knex.raw('select started_at from etl_runs where id = ?', [b.id])).rows[0].started_at}) changed or refers to rows it wrote; roll that run back first (etl rollback --run ${b.id}).`);

    const r = await runEtl(['rollback', '--run', b.id, '--json'], { env });
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.rolledBack).toBe(b.id);
    // Every row the new file produced again was taken over by it (etl_source): all of them get their earlier values.
    expect(report.tables).toEqual([
      { table: 'auth_sessions', deleted: 1, restored: 0 },
      { table: 'messages', deleted: 1, restored: 10 },
      { table: 'conversations', deleted: 0, restored: 3 },
      { table: 'users', deleted: 0, restored: 3 },
    ]);
    expect(await dataChecksums(db.knex)).toEqual(await dataChecksums(reference.knex));
    expect((await runIds(db)).map((x) => [x.pipeline, x.state])).toEqual([['tinydb', 'done'], ['tinydb', 'rolled_back'], ['rollback', 'done']]);
    expect((await db.knex.raw('select count(*)::int as n from etl_rejects where run_id = ?', [b.id])).rows[0].n).toBe(0);
    const v = await runEtl(['verify'], { env });
    expect(v.code).toBe(0);

    const again = await runEtl(['rollback', '--run', b.id], { env });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/is already rolled back/);

    const reload = await runEtl(['run', 'tinydb', V4, '--json'], { env });
    expect(reload.code).toBe(0);
    expect(JSON.parse(reload.stdout).mode).toBe('fresh');
    expect((await runEtl(['verify'], { env })).code).toBe(0);
  });

  test('an unknown run id is refused with one sentence, nothing changed', async () => {
    for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-run']) {
      const r = await runEtl(['rollback', '--run', id], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(`etl: There is no run ${id} in this target; \`etl status\` lists the runs and their ids.`);
    }
  });
});

describe('etl rollback --run with --target chatcore', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-rollback-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("ChatCore's tables end as if the run never happened, ids and sequences included", async () => {
    const first = 'fixtures/tinydb/chatcore-app.json';
    const doc = JSON.parse(fs.readFileSync(first, 'utf8'));
    doc.conversations['1'].title = 'Proje toplantısı (güncel)';
    doc.chat_history['11'] = { user_id: 'zeynep', conversation_id: 'a1b2c3d4', role: 'user', content: 'Bir şey daha', timestamp: '2025-10-05T08:20:00', message_id: 'm-0003' };
    const second = path.join(dir, 'sessions.json');
    fs.writeFileSync(second, JSON.stringify(doc));
    const db = await freshDatabase();
    try {
      const load = (file: string) => runEtl(['run', 'tinydb', file, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
      expect((await load(first)).code).toBe(0);
      const before = await chatcoreRows(db.knex);
      expect((await load(second)).code).toBe(0);
      const runs = (await db.knex.raw('select id::text from etl.etl_runs order by started_at')).rows;
      const r = await runEtl(['rollback', '--run', runs[1].id], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^messages\s+1\s+0$/m);
      expect(await chatcoreRows(db.knex)).toEqual(before);
      const next = (await db.knex.raw("select nextval(pg_get_serial_sequence('public.messages', 'id'))::int as n")).rows[0].n;
      expect(next).toBe(before.messages.length + 1);
      expect((await runEtl(['verify'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    } finally {
      await db.drop();
    }
  });
});

describe('etl rollback --run with the configuration targets', () => {
  test('--target mul-in-one: the owner\'s personas and API profiles of the run are gone from the app, the owner stays', async () => {
    const db = await freshDatabase();
    try {
      const env = { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: 'rollback test passphrase' };
      const r = await runEtl(['run', 'yaml-personas', 'fixtures/personas', '--target', 'mul-in-one', '--owner', 'alice', '--owner-email', 'alice@example.com'], { env });
      expect(r.code).toBe(0);
      const [run] = (await db.knex.raw('select id::text from etl.etl_runs')).rows;
      const back = await runEtl(['rollback', '--run', run.id], { env });
      expect(back.stderr).not.toMatch(/\n\s+at /);
      expect({ code: back.code, stderr: back.stderr }).toEqual({ code: 0, stderr: '' });
      const left = (await db.knex.raw('select (select count(*)::int from public.personas) as personas, (select count(*)::int from public.api_profiles) as profiles, (select count(*)::int from public.users) as users')).rows[0];
      expect(left).toEqual({ personas: 0, profiles: 0, users: 1 });
      expect((await runEtl(['verify'], { env })).code).toBe(0);
    } finally {
      await db.drop();
    }
  });

  test('--target itl: refused with one sentence (ITL keeps no record of which rows etl wrote), nothing changed', async () => {
    const db = await freshDatabase();
    try {
      const env = { DATABASE_URL: db.url };
      expect((await runEtl(['run', 'json-seeds', 'fixtures/itl', '--target', 'itl'], { env })).code).toBe(0);
      const [run] = (await db.knex.raw('select id::text from etl.etl_runs')).rows;
      const before = (await db.knex.raw('select count(*)::int as n from public.agent_configs')).rows[0].n;
      const back = await runEtl(['rollback', '--run', run.id], { env });
      expect(back.code).toBe(2);
      expect(back.stderr.trim()).toMatch(/^etl: etl rollback cannot undo a run of --target itl yet: .* Nothing was changed\.$/);
      expect((await db.knex.raw('select count(*)::int as n from public.agent_configs')).rows[0].n).toBe(before);
      expect((await db.knex.raw('select state from etl.etl_runs')).rows).toEqual([{ state: 'done' }]);
    } finally {
      await db.drop();
    }
  });
});
