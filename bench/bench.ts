/**
 * `npm run bench [-- --messages N] [--batch-size N] [--target chatcore]`: the cutover's figures in one
 * table. Generates a ChatCore-layout TinyDB file and the legacy app's later rewrite of it (1% new
 * messages, 0.1% edited), then, with the CLI as a user runs it (a child process, peak RSS sampled):
 * the first load into a fresh database, PostgreSQL's own COPY of exactly the rows it loaded into the
 * same empty schema, an unchanged rerun, `--restart`, verify, the delta pass on the rewrite and
 * verify again; each with its ratio and goal. With an application target, the raw COPY is of the
 * application's tables, and the etl target is loaded from the same file too.
 * Uses DATABASE_URL's server when set (it must allow CREATE DATABASE), else an embedded one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { knex as createKnex, type Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startEmbedded } from '../src/db/embedded';
import { EtlError } from '../src/errors';
import { createLogger } from '../src/log';
import { measureBackfill } from './backfill';
import { generateChatCore } from './generate';
import { mutateChatCore } from './mutate';

const ROOT = path.resolve(__dirname, '../..');
/** The tables a target's rows land in, parents first; the raw COPY baseline writes the same rows into them. */
const TABLES_IN_FK_ORDER: Record<string, { tables: string[] }> = {
  etl: { tables: ['tenants', 'users', 'user_personas', 'conversations', 'messages', 'auth_sessions'] },
  chatcore: { tables: ['public.users', 'public.conversations', 'public.messages', 'public.sessions'] },
};


function deltaNote(report: { mode: string; delta?: Record<string, number> }): string {
  return report.delta ? Object.entries(report.delta).map(([k, v]) => `${k} ${v}`).join(', ') : 'no delta counts';
}

function verifyNote(run: { code: number }): string {
  return run.code === 0 ? 'exit 0' : `exit ${run.code}: verify found differences`;
}

function target(): string {
  const i = process.argv.indexOf('--target');
  const name = i > 0 ? process.argv[i + 1] : 'etl';
  if (!name || !TABLES_IN_FK_ORDER[name]) throw new EtlError('USAGE', `--target expects one of ${Object.keys(TABLES_IN_FK_ORDER).join(', ')}, got "${name ?? ''}".`);
  return name;
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i <= 0) return fallback;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value)) throw new EtlError('USAGE', `--${name} expects an integer, got "${process.argv[i + 1] ?? ''}".`);
  return value;
}

/** Runs the CLI and samples its peak RSS (VmHWM) from /proc while it runs. */
function timedEtl(args: string[], url: string, exitCodes: readonly number[] = [0]): Promise<{ seconds: number; peakMiB: number; stdout: string; code: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, [path.join(ROOT, 'bin/etl.js'), ...args], {
      env: { ...process.env, DATABASE_URL: url, ETL_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let peakKiB = 0;
    const sample = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKiB = Math.max(peakKiB, Number(m[1]));
      } catch {
        // the process just exited
      }
    }, 50);
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(sample);
      if (code === null || !exitCodes.includes(code)) return reject(new Error(`etl ${args[0]} exited with ${code}`));
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakMiB: peakKiB / 1024, stdout, code });
    });
  });
}

/** COPY each loaded table out to a file: the rows the raw COPY baseline writes back. */
async function dumpTables(knex: Knex, tables: readonly string[], dir: string): Promise<{ files: string[]; rows: number }> {
  const conn = (await knex.client.acquireConnection()) as PoolClient;
  try {
    const files: string[] = [];
    let rows = 0;
    for (const t of tables) {
      const file = path.join(dir, `${t}.copy`);
      let lines = 0;
      const count = new Transform({
        transform(chunk: Buffer, _e, cb) {
          for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
          cb(null, chunk);
        },
      });
      await pipeline(conn.query(copyTo(`COPY ${t} TO STDOUT`)), count, fs.createWriteStream(file));
      files.push(file);
      rows += lines;
    }
    return { files, rows };
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/** Times PostgreSQL's own COPY of the dumped rows into the same, empty schema (same indexes and keys). */
async function rawCopySeconds(knex: Knex, tables: readonly string[], files: readonly string[]): Promise<number> {
  const conn = (await knex.client.acquireConnection()) as PoolClient;
  try {
    await conn.query('CHECKPOINT');
    const t0 = process.hrtime.bigint();
    for (const [i, t] of tables.entries()) await pipeline(fs.createReadStream(files[i]), conn.query(copyFrom(`COPY ${t} FROM STDIN`)));
    return Number(process.hrtime.bigint() - t0) / 1e9;
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

/** One line of the bench's table: a step, its time and memory, and its ratio against the goal. */
interface Step {
  step: string;
  seconds: number;
  rowsPerSecond?: number;
  peakRssMiB?: number;
  ratio?: number;
  /** What the ratio is measured against. */
  of?: string;
  goal?: number;
  note?: string;
}

const fixed = (n: number | undefined, digits: number): string => (n === undefined ? '' : n.toFixed(digits));

function formatTable(steps: readonly Step[]): string {
  const header = ['step', 'seconds', 'rows/s', 'peak RSS MiB', 'ratio', 'goal', '', 'note'];
  const lines = steps.map((s) => [
    s.step,
    fixed(s.seconds, 1),
    s.rowsPerSecond === undefined ? '' : String(s.rowsPerSecond),
    fixed(s.peakRssMiB, 0),
    s.ratio === undefined ? '' : `${s.ratio.toFixed(2)}× ${s.of}`,
    s.goal === undefined ? '' : `≤ ${s.goal}×`,
    s.goal === undefined || s.ratio === undefined ? '' : s.ratio <= s.goal ? 'ok' : 'MISSED',
    s.note ?? '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const row = (cells: string[]) => cells.map((c, i) => (i === 0 || i >= 4 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ').trimEnd();
  return [row(header), ...lines.map(row)].join('\n');
}

const RSS_GOAL_MIB = 256;

async function main(): Promise<void> {
  const messages = flag('messages', 1_000_000);
  const batchSize = flag('batch-size', 5000);
  const targetName = target();
  const log = createLogger({ level: 'warn' });
  const work = path.join(ROOT, '.etl', 'bench');
  fs.mkdirSync(work, { recursive: true });
  const file = path.join(work, `chatcore-${messages}.json`);
  if (!fs.existsSync(file)) await generateChatCore(file, { messages, users: 1000, perConversation: 20 });
  const size = fs.statSync(file).size;
  const rewritten = path.join(work, `chatcore-${messages}-rewritten.json`);
  // The legacy app's rewrite of the file between the first load and the cutover.
  if (!fs.existsSync(rewritten)) await mutateChatCore(file, rewritten, { newPercent: 1, editedPercent: 0.1 });

  const server = process.env.DATABASE_URL ? undefined : await startEmbedded({ dataDir: path.join(work, 'pg'), log });
  const adminUrl = process.env.DATABASE_URL ?? server!.url;
  const admin = createKnex({ client: 'pg', connection: adminUrl });
  const databases: string[] = [];
  try {
    const database = async (name: string): Promise<string> => {
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.raw(`create database ${name}`);
      databases.push(name);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    };
    const { tables } = TABLES_IN_FK_ORDER[targetName];
    const load = (source: string, ...more: string[]) => ['run', 'tinydb', source, '--json', '--batch-size', String(batchSize), '--target', targetName, ...more];
    const url = await database('etl_bench');
    // The legacy app's file at one path, as in a cutover: loaded, then rewritten by the app, then loaded again (the delta pass).
    const live = path.join(work, 'chatcore-live.json');
    fs.copyFileSync(file, live);
    const first = await timedEtl(load(live), url);
    const report = JSON.parse(first.stdout);

    const target = createKnex({ client: 'pg', connection: url });
    const dump = await dumpTables(target, tables, work).finally(() => target.destroy());
    const perSecond = (seconds: number) => Math.round(dump.rows / seconds);
    const copyUrl = await database('etl_bench_copy');
    await timedEtl(['migrate', '--target', targetName], copyUrl);
    const copyKnex = createKnex({ client: 'pg', connection: copyUrl });
    const copySeconds = await rawCopySeconds(copyKnex, tables, dump.files).finally(() => copyKnex.destroy());
    for (const f of dump.files) fs.rmSync(f);

    const rerun = await timedEtl(load(live), url);
    const restart = await timedEtl(load(live, '--restart'), url);
    const verify = await timedEtl(['verify', '--json'], url, [0, 1]);
    fs.copyFileSync(rewritten, live);
    const delta = await timedEtl(load(live), url);
    const deltaReport = JSON.parse(delta.stdout);
    const deltaVerify = await timedEtl(['verify', '--json'], url, [0, 1]);

    const vs = (s: { seconds: number }, goal?: number) => ({ ratio: s.seconds / first.seconds, of: 'first load', goal });
    const steps: Step[] = [
      { step: 'first load', seconds: first.seconds, rowsPerSecond: perSecond(first.seconds), peakRssMiB: first.peakMiB, ratio: first.seconds / copySeconds, of: 'raw COPY', goal: 1.5 },
      { step: 'raw COPY', seconds: copySeconds, rowsPerSecond: perSecond(copySeconds), note: `${dump.rows} rows into the same empty tables` },
      { step: 'rerun, unchanged', seconds: rerun.seconds, peakRssMiB: rerun.peakMiB, ...vs(rerun), note: `mode ${JSON.parse(rerun.stdout).mode}` },
      { step: '--restart', seconds: restart.seconds, peakRssMiB: restart.peakMiB, ...vs(restart, 1.0) },
      { step: 'delta', seconds: delta.seconds, peakRssMiB: delta.peakMiB, ...vs(delta, 0.15), note: `mode ${deltaReport.mode}; ${deltaNote(deltaReport)}` },
      { step: 'verify', seconds: verify.seconds, rowsPerSecond: perSecond(verify.seconds), peakRssMiB: verify.peakMiB, ...vs(verify, 0.5), note: verifyNote(verify) },
      { step: 'verify after delta', seconds: deltaVerify.seconds, peakRssMiB: deltaVerify.peakMiB, ...vs(deltaVerify, 0.5), note: verifyNote(deltaVerify) },
    ];
    // etl migrate's upgrade of the loaded target (issue 11's schema changes), rolled back to the previous release's shape first.
    if (targetName === 'etl') {
      const upgrade = await measureBackfill(url);
      for (const c of upgrade.changes) steps.push({ step: `backfill ${c.change}`, seconds: c.seconds, rowsPerSecond: c.rowsPerSecond, note: `${c.rows} rows` });
      steps.push({ step: 'upgrade, both changes', seconds: upgrade.seconds, ...vs(upgrade, 1.0), note: 'expand, backfill, checks, contract' });
    }
    // An application target is compared with the etl target on the same file.
    if (targetName !== 'etl') {
      const etlTarget = await timedEtl(['run', 'tinydb', file, '--json', '--batch-size', String(batchSize)], await database('etl_bench_etl'));
      steps.push({ step: 'etl target, same file', seconds: etlTarget.seconds, peakRssMiB: etlTarget.peakMiB, note: `--target ${targetName} took ${(first.seconds / etlTarget.seconds).toFixed(2)}× this (goal ≤ 1.2×)` });
    }
    const peak = Math.max(...steps.map((s) => s.peakRssMiB ?? 0));
    const figures = {
      target: targetName,
      messages,
      fileMiB: +(size / 2 ** 20).toFixed(1),
      rowsLoaded: dump.rows,
      tables: report.tables.map((t: { table: string; read: number; loaded: number; seconds: number }) => `${t.table} ${t.read}/${t.loaded} in ${t.seconds.toFixed(1)}s`),
      steps: steps.map((s) => ({ ...s, seconds: +s.seconds.toFixed(2), ratio: s.ratio === undefined ? undefined : +s.ratio.toFixed(3), peakRssMiB: s.peakRssMiB === undefined ? undefined : Math.round(s.peakRssMiB) })),
    };
    process.stdout.write(JSON.stringify(figures, null, 2) + '\n\n');
    process.stdout.write(`--target ${targetName}, ${messages} messages (${figures.fileMiB} MiB file, ${dump.rows} rows)\n${formatTable(steps)}\n`);
    process.stdout.write(
      `\nfirst load: ratio ${(first.seconds / copySeconds).toFixed(2)}× raw COPY (goal ≤ 1.5×); peak RSS of any step ${peak.toFixed(0)} MiB (goal ≤ ${RSS_GOAL_MIB} MiB${peak <= RSS_GOAL_MIB ? ', ok' : ', MISSED'})\n`,
    );
  } finally {
    for (const name of databases) await admin.raw(`drop database if exists ${name} with (force)`).catch(() => undefined);
    await admin.destroy();
    await server?.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exit(1);
});
