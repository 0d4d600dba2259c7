/**
 * `npm run bench [-- --messages N] [--batch-size N] [--target chatcore]`: generates a ChatCore-layout TinyDB file, runs
 * `etl run tinydb` on it into a fresh database (a child process, as a user runs it), then measures
 * PostgreSQL's own COPY of exactly the rows it loaded into the same schema, and prints the figures.
 * With an application target, the raw COPY is of the application's tables, and the etl target is
 * loaded from the same file too, for the ratio between the two.
 * Uses DATABASE_URL's server when set (it must allow CREATE DATABASE), else an embedded one.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { knex as createKnex, type Knex } from 'knex';
import type { PoolClient } from 'pg';
import { from as copyFrom, to as copyTo } from 'pg-copy-streams';
import { startEmbedded } from '../src/db/embedded';
import { EtlError } from '../src/errors';
import { createLogger } from '../src/log';
import { generateChatCore } from './generate';

const ROOT = path.resolve(__dirname, '../..');
/** The tables a target's rows land in, parents first; the raw COPY baseline writes the same rows into them. */
const TABLES_IN_FK_ORDER: Record<string, { tables: string[]; alsoTruncate: string[] }> = {
  etl: { tables: ['tenants', 'users', 'user_personas', 'conversations', 'messages', 'auth_sessions'], alsoTruncate: ['etl_checkpoints', 'etl_rejects'] },
  chatcore: { tables: ['public.users', 'public.conversations', 'public.messages', 'public.sessions'], alsoTruncate: [] },
};

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
function timedEtl(args: string[], url: string): Promise<{ seconds: number; peakMiB: number; stdout: string }> {
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
      if (code !== 0) return reject(new Error(`etl exited with ${code}`));
      resolve({ seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakMiB: peakKiB / 1024, stdout });
    });
  });
}

/** COPY every loaded table out, truncate, and time COPY back in (same schema, same indexes). */
async function rawCopySeconds(knex: Knex, targetName: string): Promise<{ seconds: number; rows: number }> {
  const { tables, alsoTruncate } = TABLES_IN_FK_ORDER[targetName];
  const conn = (await knex.client.acquireConnection()) as PoolClient;
  try {
    const dumps: Record<string, Buffer> = {};
    for (const t of tables) {
      const chunks: Buffer[] = [];
      await pipeline(conn.query(copyTo(`COPY ${t} TO STDOUT`)), new Writable({ write: (c, _e, cb) => (chunks.push(c), cb()) }));
      dumps[t] = Buffer.concat(chunks);
    }
    await conn.query(`TRUNCATE ${[...tables, ...alsoTruncate].join(', ')} CASCADE`);
    await conn.query('CHECKPOINT');
    const t0 = process.hrtime.bigint();
    let rows = 0;
    for (const t of tables) {
      await pipeline(Readable.from([dumps[t]]), conn.query(copyFrom(`COPY ${t} FROM STDIN`)));
      rows += dumps[t].toString('latin1').split('\n').length - 1;
    }
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, rows };
  } finally {
    await knex.client.releaseConnection(conn);
  }
}

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

  const server = process.env.DATABASE_URL ? undefined : await startEmbedded({ dataDir: path.join(work, 'pg'), log });
  const adminUrl = process.env.DATABASE_URL ?? server!.url;
  const admin = createKnex({ client: 'pg', connection: adminUrl });
  try {
    const database = async (name: string): Promise<string> => {
      await admin.raw(`drop database if exists ${name} with (force)`);
      await admin.raw(`create database ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      return url.toString();
    };
    const load = ['run', 'tinydb', file, '--json', '--batch-size', String(batchSize), '--target', targetName];
    const url = await database('etl_bench');
    const run = await timedEtl(load, url);
    const report = JSON.parse(run.stdout);
    const rerun = await timedEtl(load, url);
    // An application target is compared with the etl target on the same file.
    let etlTarget: { seconds: number } | undefined;
    if (targetName !== 'etl') {
      etlTarget = await timedEtl(['run', 'tinydb', file, '--json', '--batch-size', String(batchSize)], await database('etl_bench_etl'));
      await admin.raw('drop database if exists etl_bench_etl with (force)');
    }
    const target = createKnex({ client: 'pg', connection: url });
    try {
      const copy = await rawCopySeconds(target, targetName);
      const loadedRows = copy.rows;
      const figures = {
        target: targetName,
        messages,
        fileMiB: +(size / 2 ** 20).toFixed(1),
        rowsLoaded: loadedRows,
        etlSeconds: +run.seconds.toFixed(2),
        etlRowsPerSecond: Math.round(loadedRows / run.seconds),
        peakRssMiB: +run.peakMiB.toFixed(0),
        rawCopySeconds: +copy.seconds.toFixed(2),
        rawCopyRowsPerSecond: Math.round(loadedRows / copy.seconds),
        ratioEtlToRawCopy: +(run.seconds / copy.seconds).toFixed(2),
        rerunSeconds: +rerun.seconds.toFixed(2),
        rerunMode: JSON.parse(rerun.stdout).mode,
        ...(etlTarget && { etlTargetSeconds: +etlTarget.seconds.toFixed(2), ratioToEtlTarget: +(run.seconds / etlTarget.seconds).toFixed(2) }),
        tables: report.tables.map((t: { table: string; read: number; loaded: number; seconds: number }) => `${t.table} ${t.read}/${t.loaded} in ${t.seconds.toFixed(1)}s`),
      };
      process.stdout.write(JSON.stringify(figures, null, 2) + '\n');
      process.stdout.write(
        `\netl: ${figures.etlSeconds} s wall, ${figures.etlRowsPerSecond} rows/s, peak RSS ${figures.peakRssMiB} MiB; ` +
          `raw COPY of the same rows: ${figures.rawCopySeconds} s; ratio ${figures.ratioEtlToRawCopy}×; rerun ${figures.rerunSeconds} s (${figures.rerunMode})\n` +
          (etlTarget ? `--target ${targetName}: ${figures.ratioToEtlTarget}× the etl target's ${figures.etlTargetSeconds} s on the same file (goal ≤ 1.2×)\n` : '') +
          `targets: ratio ≤ 1.5× (first slice ≤ 3×), peak RSS ≤ 256 MiB (first slice ≤ 512 MiB)\n`,
      );
    } finally {
      await target.destroy();
    }
    await admin.raw('drop database if exists etl_bench with (force)');
  } finally {
    await admin.destroy();
    await server?.stop();
  }
}

main().catch((e) => {
  process.stderr.write(`bench failed: ${(e as Error).message}\n`);
  process.exit(1);
});
