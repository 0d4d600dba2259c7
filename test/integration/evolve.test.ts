/**
 * `etl migrate`'s schema changes on a target the previous release loaded: expand → backfill →
 * checks → contract, kill -9 during the backfill, a delta pass during it, rollback before
 * contract, the refusal after it, and the search index in use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateChatCore } from '../../bench/generate';
import { knex as createKnex } from 'knex';
import { migrateLatest } from '../../src/db/migrate';
import { runEtl, startEtl } from '../support/cli';
import { startCluster } from '../support/cluster';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { asPreviousRelease, catalogSchema, checksumsAgain, pgDumpSchema, targetChecksums } from '../support/evolve';
import { interruptRun } from '../support/kill';
import { dataChecksums } from '../support/pipeline';

jest.setTimeout(300_000);

const FIXTURE = 'fixtures/tinydb/chatcore.json';
const PERSONA = '20261201_101_persona_segmentation';
const SEARCH = '20261201_102_message_search';

async function loadedByPreviousRelease(db: FreshDatabase, file: string, args: string[] = []): Promise<void> {
  const r = await runEtl(['run', 'tinydb', file, ...args], { env: { DATABASE_URL: db.url } });
  expect(r.code).toBe(0);
  await asPreviousRelease(db.knex);
}

async function steps(db: FreshDatabase): Promise<Record<string, string>> {
  const rows: { change: string; step: string; state: string }[] = (await db.knex.raw('select change, step, state from etl_evolve')).rows;
  return Object.fromEntries(rows.map((r) => [`${r.change} ${r.step}`, r.state]));
}

describe('etl migrate: expand → backfill → contract on a loaded target', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-evolve-'));
  const big = path.join(dir, 'big.json');
  const delta = path.join(dir, 'delta.json');
  const dbs: FreshDatabase[] = [];
  const fresh = async () => {
    const db = await freshDatabase();
    dbs.push(db);
    return db;
  };

  beforeAll(async () => {
    await generateChatCore(big, { messages: 12_000, users: 40, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    // The delta pass: the same conversations and more messages (the first 12,000 are the same records).
    await generateChatCore(delta, { messages: 14_000, users: 40, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
  });
  afterAll(async () => {
    await Promise.all(dbs.map((d) => d.drop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the previous release’s schema is what the knex migrations alone give', async () => {
    const [loaded, bare] = await Promise.all([fresh(), fresh()]);
    await loadedByPreviousRelease(loaded, FIXTURE);
    await migrateLatest(bare.knex);
    expect(await catalogSchema(loaded.knex)).toEqual(await catalogSchema(bare.knex));
  });

  test('the fixture: upgraded, every row kept, segmented by persona and searchable; verify passes; rollback refused after contract', async () => {
    const db = await fresh();
    await loadedByPreviousRelease(db, FIXTURE);
    const before = await targetChecksums(db.knex);
    const env = { DATABASE_URL: db.url };

    const status0 = await runEtl(['migrate', '--status'], { env });
    expect(status0.code).toBe(0);
    expect(status0.stdout).toContain(`${PERSONA}: conversations and messages carry the persona`);
    expect(status0.stdout).toMatch(/expand\s+pending/);

    const up = await runEtl(['migrate', '--batch-rows', '100'], { env });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`${PERSONA}: contracted`);
    expect(up.stdout).toContain(`${SEARCH}: contracted`);
    expect(up.stdout).toMatch(/default personas created \(inferred/);

    expect(await checksumsAgain(db.knex, before)).toEqual(before);
    const nulls = (await db.knex.raw('select (select count(*) from messages where persona_id is null or search_vector is null)::int + (select count(*) from conversations where persona_id is null)::int as n')).rows[0].n;
    expect(nulls).toBe(0);
    // One default persona per user that has conversations or messages, named after the user, inferred.
    const personas = (await db.knex.raw('select u.username, p.name, p.is_default, p.inferred from user_personas p join users u on u.id = p.user_id order by 1')).rows;
    const speakers = (await db.knex.raw('select distinct u.username from users u where exists (select 1 from messages m where m.user_id = u.id) or exists (select 1 from conversations c where c.user_id = u.id) order by 1')).rows;
    expect(personas).toEqual(speakers.map((s: { username: string }) => ({ username: s.username, name: s.username, is_default: true, inferred: true })));
    const notNull = (await db.knex.raw("select table_name, column_name, is_nullable from information_schema.columns where table_schema = current_schema() and column_name in ('persona_id', 'search_vector') order by 1, 2")).rows;
    expect(notNull).toEqual([
      { table_name: 'conversations', column_name: 'persona_id', is_nullable: 'NO' },
      { table_name: 'messages', column_name: 'persona_id', is_nullable: 'NO' },
      { table_name: 'messages', column_name: 'search_vector', is_nullable: 'NO' },
    ]);
    expect((await db.knex.raw("select to_regclass('conversations_user_id_index') as i")).rows[0].i).toBeNull();

    const verify = await runEtl(['verify', '--json'], { env });
    const report = JSON.parse(verify.stdout);
    expect(report.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.code).toBe(0);
    expect(report.checks.map((c: { name: string }) => c.name)).toEqual(
      expect.arrayContaining(['no conversation or message without a persona', 'the messages of a conversation speak as its persona', 'every message with text has a non-empty search vector']),
    );

    const status = await runEtl(['migrate', '--status', '--json'], { env });
    const changes = JSON.parse(status.stdout).changes as { change: string; steps: { step: string; state: string }[] }[];
    expect(changes.map((c) => c.steps.map((s) => `${s.step} ${s.state}`))).toEqual([
      ['expand done', 'backfill:conversations done', 'backfill:messages done', 'checks done', 'contract done'],
      ['expand done', 'backfill:messages done', 'checks done', 'contract done'],
    ]);

    const refused = await runEtl(['migrate', '--rollback'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^etl: Change ${SEARCH} cannot be rolled back: it was contracted \\(.*\\), and its contract step made search_vector required .*: the state a rollback would restore is gone\\. To go back, restore a backup taken before it\\.\\n$`));

    // A rerun changes nothing.
    const again = await runEtl(['migrate'], { env });
    expect(again.code).toBe(0);
    expect(await checksumsAgain(db.knex, before)).toEqual(before);
  });

  test('rollback before contract gives back the previous schema exactly', async () => {
    const db = await fresh();
    await loadedByPreviousRelease(db, FIXTURE);
    const schema = await catalogSchema(db.knex);
    const before = await targetChecksums(db.knex);
    const env = { DATABASE_URL: db.url };
    // A run on a loaded target applies the expand steps only; its own rows fill the new columns.
    expect((await runEtl(['run', 'tinydb', FIXTURE], { env })).code).toBe(0);
    expect(await steps(db)).toEqual({ [`${PERSONA} expand`]: 'done', [`${SEARCH} expand`]: 'done' });
    expect((await runEtl(['migrate', '--status'], { env })).stdout).toMatch(/backfill:messages\s+pending/);

    const first = await runEtl(['migrate', '--rollback'], { env });
    expect(first.stdout).toBe(`rolled back: ${SEARCH}\n`);
    const second = await runEtl(['migrate', '--rollback'], { env });
    expect(second.stdout).toBe(`rolled back: ${PERSONA}\n`);
    expect(await catalogSchema(db.knex)).toEqual(schema);
    expect(await checksumsAgain(db.knex, before)).toEqual(before);
  });

  test('pg_dump --schema-only (PostgreSQL 15): the previous release’s schema is the knex migrations’, and rollback before contract gives it back', async () => {
    // The embedded server is newer than Debian's pg_dump, which refuses it: a PostgreSQL 15 cluster of its own.
    const cluster = await startCluster();
    const open = (db: string) => createKnex({ client: 'pg', connection: cluster.url(db), pool: { min: 0, max: 2 } });
    await cluster.sql('create database prev');
    await cluster.sql('create database bare');
    const [prev, bare] = [open('prev'), open('bare')];
    try {
      const env = { DATABASE_URL: cluster.url('prev') };
      expect((await runEtl(['run', 'tinydb', FIXTURE], { env })).code).toBe(0);
      await asPreviousRelease(prev);
      await migrateLatest(bare);
      const dump = await pgDumpSchema(prev, cluster.url('prev'));
      expect(dump).toContain('CREATE TABLE public.messages');
      expect(dump).toBe(await pgDumpSchema(bare, cluster.url('bare')));
      expect((await runEtl(['run', 'tinydb', FIXTURE, '--restart'], { env })).code).toBe(0);
      expect(await pgDumpSchema(prev, cluster.url('prev'))).toContain('search_vector');
      for (const change of [SEARCH, PERSONA]) expect((await runEtl(['migrate', '--rollback'], { env })).stdout).toBe(`rolled back: ${change}\n`);
      expect(await pgDumpSchema(prev, cluster.url('prev'))).toBe(dump);
    } finally {
      await Promise.all([prev.destroy(), bare.destroy()]);
      await cluster.stop();
    }
  });

  test('kill -9 during the backfill at several points, rerun: every row kept, checks pass, verify passes', async () => {
    const db = await fresh();
    await loadedByPreviousRelease(db, big);
    const before = await targetChecksums(db.knex);
    const env = { DATABASE_URL: db.url };
    const args = ['migrate', '--batch-rows', '500'];
    const at = (step: string, rows: number) => `select count(*)::int as n from etl_evolve where step = '${step}' and rows >= ${rows}`;
    for (const query of [at('backfill:conversations', 1), at('backfill:messages', 2_000), at('backfill:messages', 9_000), `select count(*)::int as n from etl_evolve where change = '${SEARCH}' and step = 'backfill:messages' and rows >= 6000`]) {
      const r = await interruptRun(db.knex, { args, env, rows: 0, query });
      expect(r.code).toBeNull();
    }
    const killedMid = (await db.knex.raw(`select state from etl_evolve where change = ? and step = 'contract'`, [SEARCH])).rows;
    expect(killedMid).toEqual([]);
    const done = await runEtl([...args, '--json'], { env });
    expect(done.code).toBe(0);
    const result = JSON.parse(done.stdout);
    expect(result.changes.map((c: { contracted: boolean }) => c.contracted)).toEqual([true, true]);
    expect(await checksumsAgain(db.knex, before)).toEqual(before);
    // Each row filled once, across the kills: the step's count is the table's.
    const filled = (await db.knex.raw("select change, step, rows::int from etl_evolve where step like 'backfill:%' order by 1, 2")).rows;
    const counts = (await db.knex.raw('select (select count(*) from conversations)::int as c, (select count(*) from messages)::int as m')).rows[0];
    expect(filled).toEqual([
      { change: PERSONA, step: 'backfill:conversations', rows: counts.c },
      { change: PERSONA, step: 'backfill:messages', rows: counts.m },
      { change: SEARCH, step: 'backfill:messages', rows: counts.m },
    ]);
    expect((await runEtl(['verify'], { env })).code).toBe(0);
  });

  test('a delta pass runs during the backfill: both finish, the rows are those of the same runs without the upgrade, verify passes', async () => {
    const [db, reference] = await Promise.all([fresh(), fresh()]);
    await Promise.all([loadedByPreviousRelease(db, big), loadedByPreviousRelease(reference, big)]);
    const env = { DATABASE_URL: db.url };
    const migrate = startEtl(['migrate', '--batch-rows', '200'], { env });
    // The run starts once the backfill is under way.
    for (;;) {
      const n = await db.knex.raw("select count(*)::int as n from etl_evolve where step like 'backfill:%' and rows > 0").then((r) => r.rows[0].n as number, () => 0);
      if (n > 0) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const run = await runEtl(['run', 'tinydb', delta, '--batch-size', '1000'], { env });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const migrated = await migrate.result;
    expect(migrated.stderr).toBe('');
    expect(migrated.code).toBe(0);
    // The rows the delta pass wrote during the backfill came with their persona and vector.
    const unfilled = (await db.knex.raw("select count(*)::int as n from messages where persona_id is null or search_vector is null")).rows[0].n;
    expect(unfilled).toBe(0);
    expect((await runEtl(['migrate'], { env })).code).toBe(0);
    const verify = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(verify.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.code).toBe(0);
    // The same delta pass on the previous release's target: the same data in every column it has.
    expect((await runEtl(['run', 'tinydb', delta, '--batch-size', '1000'], { env: { DATABASE_URL: reference.url } })).code).toBe(0);
    const tables = ['tenants', 'users', 'conversations', 'messages', 'auth_sessions'];
    const fresh_ = ['persona_id', 'search_vector'];
    expect(await dataChecksums(db.knex, tables, fresh_)).toEqual(await dataChecksums(reference.knex, tables, fresh_));
  });

  test('--fts-config turkish: stems Turkish words; the GIN index serves a search', async () => {
    const db = await fresh();
    const env = { DATABASE_URL: db.url };
    const loaded = await runEtl(['run', 'tinydb', big, '--fts-config', 'turkish'], { env });
    expect(loaded.stderr).toBe('');
    expect(loaded.code).toBe(0);
    // A fresh target: the changes were completed by the run (nothing to backfill).
    expect(Object.values(await steps(db)).every((s) => s === 'done')).toBe(true);
    const v = (await db.knex.raw("select search_vector::text as v from messages where content like 'Fırın bölümünde%' limit 1")).rows[0].v;
    // Stemmed by the turkish configuration (`simple` keeps 'fırın' and 'bölümünde').
    expect(v).toContain("'bölüm'");
    expect(v).toContain("'fır'");
    expect(v).not.toContain("'bölümünde'");
    const hits = (await db.knex.raw("select count(*)::int as n from messages where search_vector @@ plainto_tsquery('turkish', 'bölümünde')")).rows[0].n;
    expect(hits).toBe((await db.knex.raw("select count(*)::int as n from messages where content like 'Fırın bölümünde%'")).rows[0].n);
    expect(hits).toBeGreaterThan(0);
    const plan = await db.knex.transaction(async (trx) => {
      await trx.raw('set local enable_seqscan = off');
      return (await trx.raw("explain select id from messages where search_vector @@ plainto_tsquery('turkish', 'bölümünde')")).rows.map((r: { 'QUERY PLAN': string }) => r['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('messages_search_vector_index');
    // Another configuration for a tenant already indexed is refused, nothing written.
    const refused = await runEtl(['run', 'tinydb', FIXTURE, '--fts-config', 'simple'], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("Tenant default's messages are indexed for search with the configuration turkish");
    const unknown = await runEtl(['run', 'tinydb', FIXTURE, '--fts-config', 'klingon'], { env });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/--fts-config klingon is not a text search configuration of this PostgreSQL; use one of .*turkish/);
  });
});
