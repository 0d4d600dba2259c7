/**
 * The connection to the target breaks mid-run: server restart, terminated sessions, a cut TCP
 * connection, a silent one (partition). Each stops the run with one sentence and exit 1, or is
 * retried; the same command then ends exactly like one clean run. Own cluster (it is restarted).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateChatCore } from '../../bench/generate';
import { runEtl, startEtl } from '../support/cli';
import { type Cluster, startCluster } from '../support/cluster';
import { type FreshDatabase, freshDatabase } from '../support/db';
import { ACTIVE_COPY, expectFaultReport, expectRerunMatchesClean, untilRows, waitUntil } from '../support/faults';
import { startProxy } from '../support/proxy';

const LOST = /^etl: The database server closed the connection during the load \(server restart, terminated session or network fault: .+\); committed batches are kept: run the same command again once the server is reachable\.$/;
const LOCK_LOST = /^etl: etl lost the database session that holds its run lock .+, so it stopped rather than go on unlocked; committed batches are kept: run the same command again\.$/;
/** Either sentence: which connection notices the fault first is up to the kernel. */
const LOST_ANY = new RegExp(`${LOST.source}|${LOCK_LOST.source}`);

// Each test loads 40k messages up to three times (fault, rerun, clean comparison) and runs verify.
jest.setTimeout(300_000);

describe('faults of the connection to the target', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-faults-'));
  const file = path.join(dir, 'big.json');
  const args = ['run', 'tinydb', file, '--batch-size', '1000'];
  let cluster: Cluster;
  let clean: FreshDatabase;
  let db: FreshDatabase;

  beforeAll(async () => {
    cluster = await startCluster();
    await generateChatCore(file, { messages: 40_000, users: 50, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    clean = await freshDatabase({ server: cluster.url() });
    expect((await runEtl(args, { env: { DATABASE_URL: clean.url } })).code).toBe(0);
  });
  beforeEach(async () => {
    db = await freshDatabase({ server: cluster.url() });
  });
  afterEach(() => db?.drop());
  afterAll(async () => {
    await clean?.drop();
    await cluster?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the run and resolves once it is busy with a COPY of chat_history past its first batches (5,000 messages). */
  async function startBusy(url: string, env: Record<string, string> = {}) {
    const run = startEtl(args, { env: { ...env, DATABASE_URL: url } });
    let running = true;
    void run.result.then(() => (running = false));
    await waitUntil(
      async () => Number((await db.knex.raw("select coalesce(sum(position), 0)::int as n from etl_checkpoints where stream = 'chat_history'")).rows[0].n) >= 5_000,
      '5,000 messages were committed',
      () => running,
    );
    return { ...run, running: () => running };
  }

  test('server restart (pg_ctl restart -m fast) mid-run: one sentence, exit 1, the rerun completes', async () => {
    const run = await startBusy(db.url);
    await cluster.restart();
    expectFaultReport(await run.result, LOST_ANY);
    await expectRerunMatchesClean(args, db, clean.knex);
  });

  test('every session of etl terminated (pg_terminate_backend) mid-batch: stops, exit 1, the rerun completes', async () => {
    const run = await startBusy(db.url);
    await untilRows(db.knex, `select count(pg_terminate_backend(pid))::int as n ${ACTIVE_COPY}`, [db.name], 'a COPY was seen', run.running);
    await db.knex.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [db.name]);
    expectFaultReport(await run.result, LOST_ANY);
    await expectRerunMatchesClean(args, db, clean.knex);
  });

  test('only the session running a batch terminated: the batch is retried and the run finishes (exit 0)', async () => {
    const run = await startBusy(db.url);
    await untilRows(db.knex, `select count(pg_terminate_backend(pid))::int as n ${ACTIVE_COPY}`, [db.name], 'a COPY was seen', run.running);
    const r = await run.result;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/a batch failed on a transient database error; retrying it/);
    expect(r.stderr).not.toMatch(/\n\s+at |\[object Object\]/);
    const rerun = await expectRerunMatchesClean(['run', 'tinydb', file, '--json'], db, clean.knex);
    expect(JSON.parse(rerun.stdout).mode).toBe('already-done');
  });

  test('the run lock session terminated: the run stops (not unlocked), a second run is the only writer', async () => {
    const run = await startBusy(db.url);
    await db.knex.raw("select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and objid = 1163152433 and granted");
    expectFaultReport(await run.result, LOST_ANY);
    await expectRerunMatchesClean(args, db, clean.knex);
  });

  test('TCP connection cut mid-COPY (proxy resets both sides): one sentence, exit 1, the rerun completes', async () => {
    const proxy = await startProxy(cluster.port);
    try {
      const run = await startBusy(proxy.via(db.url));
      await untilRows(db.knex, `select count(*)::int as n ${ACTIVE_COPY}`, [db.name], 'a COPY was seen', run.running);
      proxy.cut();
      expectFaultReport(await run.result, LOST_ANY);
      await expectRerunMatchesClean(args, { url: proxy.via(db.url), knex: db.knex }, clean.knex);
    } finally {
      await proxy.close();
    }
  });

  test('connection silent mid-COPY (partition, nothing closed): noticed within ETL_NETWORK_TIMEOUT, exit 1, the rerun completes', async () => {
    const proxy = await startProxy(cluster.port);
    try {
      const env = { ETL_NETWORK_TIMEOUT: '2' };
      const run = await startBusy(proxy.via(db.url), env);
      await untilRows(db.knex, `select count(*)::int as n ${ACTIVE_COPY}`, [db.name], 'a COPY was seen', run.running);
      proxy.partition();
      expectFaultReport(await run.result, /^etl: The database server stopped answering for 2 s \(a network partition or a hung server; ETL_NETWORK_TIMEOUT sets this bound\), so etl dropped its connections; committed batches are kept: run the same command again once the server is reachable\.$/);
      // The partition ends: the server's half-open sessions are reset, which frees the run lock.
      proxy.heal();
      await expectRerunMatchesClean(args, { url: proxy.via(db.url), knex: db.knex }, clean.knex, env);
    } finally {
      await proxy.close();
    }
  });
});

