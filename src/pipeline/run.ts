import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import pLimit from 'p-limit';
import type { Extractor, OpenedSources, SourceStream } from '../../extractors/types';
import { dependencyLevels, TABLES } from '../../loaders/tables';
import type { OrphanPolicy } from '../../loaders/writer';
import { migrateLatest } from '../db/migrate';
import type { Logger } from '../log';
import type { Fernet } from '../secrets/fernet';
import { tenantId as tenantIdOf } from '../normalize/ids';
import { clearCheckpoints } from './checkpoints';
import { addCounts, emptyCounts, type StreamCounts } from './counts';
import { finalizeConversations } from './finalize';
import { acquireRunLock } from './lock';
import type { Progress } from './progress';
import { finishRun, latestRun, resumeRun, startRun } from './runs';
import { runStream } from './stream';

export interface RunOptions {
  tenant: string;
  sourceTimeZone: string;
  batchSize: number;
  concurrency: number;
  bcryptCost: number;
  orphans: OrphanPolicy;
  restart: boolean;
  /** Encrypts API keys; null (only with --allow-plaintext-keys) stores them as they are. Never recorded. */
  fernet?: Fernet | null;
}

export interface TableReport extends StreamCounts {
  table: string;
}

export interface RunReport {
  runId: string;
  pipeline: string;
  tenant: string;
  fingerprint: string;
  /** `resumed` continued an interrupted run; `already-done` found the source loaded and changed nothing. */
  mode: 'fresh' | 'resumed' | 'already-done' | 'restarted';
  sources: OpenedSources['sources'];
  tables: TableReport[];
  notes: string[];
  seconds: number;
}

/** Identity of a run: the sources' content and the options that change what rows they produce. */
export function runFingerprint(pipeline: string, opened: OpenedSources, opts: RunOptions): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ pipeline, sources: opened.sources.map((s) => s.sha256), tz: opts.sourceTimeZone, orphans: opts.orphans }));
  return h.digest('hex');
}

function tableReports(streams: readonly SourceStream[], counts: ReadonlyMap<string, StreamCounts>): TableReport[] {
  const byTable = new Map<string, StreamCounts>();
  for (const s of streams) {
    const table = TABLES[s.entity].table;
    byTable.set(table, addCounts(byTable.get(table) ?? emptyCounts(), counts.get(s.name) ?? emptyCounts()));
  }
  return [...byTable].map(([table, c]) => ({ table, ...c }));
}

async function ensureTenant(knex: Knex, slug: string, runId: string): Promise<string> {
  const id = tenantIdOf(slug);
  await knex('tenants')
    .insert({ id, slug, name: slug, created_at: null, etl_run_id: runId, etl_source: 'cli', etl_locator: `--tenant ${slug}` })
    .onConflict('id')
    .ignore();
  return id;
}

/**
 * Runs a pipeline whose sources already passed preflight: migrate, lock, decide fresh / resume /
 * nothing to do, load the streams in dependency order, finalize, record the run.
 */
export async function runPipeline(
  knex: Knex,
  extractor: Extractor,
  opened: OpenedSources,
  opts: RunOptions,
  log: Logger,
  progress: Progress,
): Promise<RunReport> {
  const t0 = Date.now();
  await migrateLatest(knex);
  const lock = await acquireRunLock(knex);
  try {
    const fingerprint = runFingerprint(extractor.name, opened, opts);
    const key = { pipeline: extractor.name, tenant: opts.tenant, fingerprint };
    const previous = await latestRun(knex, key);
    let mode: RunReport['mode'];
    let runId: string;
    const { fernet, ...settings } = opts;
    if (opts.restart) {
      await clearCheckpoints(knex, key);
      runId = await startRun(knex, key, opened.sources, settings);
      mode = 'restarted';
    } else if (previous?.state === 'done') {
      runId = previous.id;
      mode = 'already-done';
    } else if (previous) {
      runId = previous.id;
      await resumeRun(knex, runId);
      mode = 'resumed';
      log.info({ runId, attempt: previous.attempts + 1 }, 'resuming an interrupted run of this source from its checkpoints');
    } else {
      runId = await startRun(knex, key, opened.sources, settings);
      mode = 'fresh';
    }
    log.info({ runId, pipeline: extractor.name, tenant: opts.tenant, mode, sources: opened.sources.map((s) => ({ path: s.path, sha256: s.sha256, bytes: s.size })) }, 'run started');
    const tenantId = mode === 'already-done' ? tenantIdOf(opts.tenant) : await ensureTenant(knex, opts.tenant, runId);
    const counts = new Map<string, StreamCounts>();
    try {
      const limit = pLimit(Math.max(1, opts.concurrency));
      for (const level of dependencyLevels(opened.streams.map((s) => s.entity))) {
        const streams = opened.streams.filter((s) => level.includes(s.entity));
        await Promise.all(
          streams.map((stream) =>
            limit(async () => {
              const c = await runStream(stream, {
                knex,
                runId,
                pipeline: extractor.name,
                tenant: opts.tenant,
                tenantId,
                fingerprint,
                sourceTimeZone: opts.sourceTimeZone,
                batchSize: opts.batchSize,
                bcryptCost: opts.bcryptCost,
                orphans: opts.orphans,
                fernet: fernet ?? null,
                onProgress: (name, done, total, first) => (first ? progress.start(name, total, done) : progress.update(name, done)),
              });
              counts.set(stream.name, c);
              log.info({ stream: stream.name, table: TABLES[stream.entity].table, read: c.read, loaded: c.loaded, merged: c.merged, rejected: c.rejected }, 'stream finished');
            }),
          ),
        );
      }
      await finalizeConversations(knex, tenantId);
      const report: RunReport = {
        runId,
        pipeline: extractor.name,
        tenant: opts.tenant,
        fingerprint,
        mode,
        sources: opened.sources,
        tables: tableReports(opened.streams, counts),
        notes: opened.notes,
        seconds: (Date.now() - t0) / 1000,
      };
      if (mode !== 'already-done') await finishRun(knex, runId, 'done', report);
      log.info({ runId, seconds: report.seconds }, 'run finished');
      return report;
    } catch (e) {
      await finishRun(knex, runId, 'failed', { tables: tableReports(opened.streams, counts) }, (e as Error).message).catch(() => undefined);
      throw e;
    }
  } finally {
    progress.stop();
    await lock.release();
  }
}
