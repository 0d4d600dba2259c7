import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import pLimit from 'p-limit';
import type { Extractor, ExtractorOptions, OpenedSources, SourceStream } from '../../extractors/types';
import { dependencyLevels, INFERRED_TABLE, TABLES } from '../../loaders/tables';
import type { OrphanPolicy } from '../../loaders/writer';
import type { ProjectionCounts, Target } from '../../loaders/target';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import type { Fernet } from '../secrets/fernet';
import { tenantId as tenantIdOf } from '../normalize/ids';
import { clearCheckpoints } from './checkpoints';
import { addCounts, emptyCounts, type StreamCounts, subtractCounts } from './counts';
import { finalizeConversations } from './finalize';
import { databaseFault } from '../db/faults';
import { acquireRunLock, type RunLock } from './lock';
import type { Progress } from './progress';
import { finishRun, latestRun, resumeRun, startRun } from './runs';
import { runStream } from './stream';
import { optionsKey } from './delta/digest';
import { hasCurrentSets } from './delta/sets';

export interface RunOptions {
  /** Where the rows land: etl's own schema, or an application's. */
  target: Target;
  tenant: string;
  sourceTimeZone: string;
  /** `--tenant-map`: tenant names in the sources → target tenant slugs. */
  tenantMap?: Readonly<Record<string, string>>;
  batchSize: number;
  concurrency: number;
  bcryptCost: number;
  orphans: OrphanPolicy;
  restart: boolean;
  /** Delete the rows of records gone from a source since its last pass (else they are reported as disappeared). */
  prune?: boolean;
  /** Encrypts API keys; null (only with --allow-plaintext-keys) stores them as they are. Never recorded. */
  fernet?: Fernet | null;
  /** Stop the run (exit 1) once it has rejected more than this many records; committed batches stay. */
  maxRejects?: number;
  /** Run for real inside one transaction, then roll it back: the report says what a run would do. */
  dryRun?: boolean;
  /** How the sources were opened, recorded with the run so that `etl verify` can open them again. */
  inputs?: RunInputs;
}

/** What a run loads and how: everything but the target connection, which a dry run swaps for its transaction. */
export interface RunContext {
  extractor: Extractor;
  opened: OpenedSources;
  opts: RunOptions;
  log: Logger;
  progress: Progress;
}

export interface RunInputs {
  paths: string[];
  tableMap: ExtractorOptions['tableMap'];
  documentsDir?: string;
}

/** One line of a dry run's plan: what would happen to a table's rows. */
export interface PlanRow {
  table: string;
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  merged: number;
  rejected: number;
}

export type DeltaFigures = Pick<StreamCounts, 'deltaNew' | 'deltaChanged' | 'deltaUnchanged' | 'disappeared' | 'replaced' | 'pruned'>;

export interface TableReport extends StreamCounts {
  table: string;
}

export interface RunReport {
  runId: string;
  pipeline: string;
  target: string;
  tenant: string;
  fingerprint: string;
  /**
   * `resumed` continued an interrupted run; `already-done` found the source loaded and changed nothing;
   * `delta` is a new version of a source loaded before: only its new and changed records were written.
   */
  mode: 'fresh' | 'resumed' | 'already-done' | 'restarted' | 'delta';
  /** Over all streams: records new, changed, unchanged (skipped) and gone since the last pass; rows replaced and pruned. */
  delta?: DeltaFigures;
  sources: OpenedSources['sources'];
  tables: TableReport[];
  notes: string[];
  seconds: number;
  /** Only for --dry-run: nothing was written, and this is what the run would have done per table. */
  dryRun?: true;
  plan?: PlanRow[];
  /** An application target: rows this invocation inserted into or updated in the application's tables. */
  projected: ProjectionCounts[];
}

function sortedEntries<T>(o: Readonly<Record<string, T>>): [string, T][] {
  return Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Identity of a run: the sources' content and the options that change what rows they produce. */
function runFingerprint(pipeline: string, opened: OpenedSources, opts: RunOptions): string {
  const h = createHash('sha256');
  const tableMap = sortedEntries(opts.inputs?.tableMap ?? {});
  h.update(JSON.stringify({ pipeline, sources: opened.sources.map((s) => s.sha256), tz: opts.sourceTimeZone, orphans: opts.orphans, tableMap, tenantMap: sortedEntries(opts.tenantMap ?? {}) }));
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

/** `etl_source` of the tenant row a run creates from --tenant (no source file holds it). */
export const RUN_TENANT_SOURCE = 'cli';

async function ensureTenant(knex: Knex, slug: string, runId: string): Promise<string> {
  const id = tenantIdOf(slug);
  await knex('tenants')
    .insert({ id, slug, name: slug, created_at: null, etl_run_id: runId, etl_source: RUN_TENANT_SOURCE, etl_locator: `--tenant ${slug}` })
    .onConflict('id')
    .ignore();
  return id;
}

/** Per target table: rows of its own streams, plus the rows other streams inferred into it. */
function planOf(tables: readonly TableReport[]): PlanRow[] {
  const plan = new Map<string, PlanRow>();
  const row = (table: string): PlanRow => {
    let r = plan.get(table);
    if (!r) plan.set(table, (r = { table, read: 0, inserted: 0, updated: 0, unchanged: 0, merged: 0, rejected: 0 }));
    return r;
  };
  for (const t of tables) {
    const r = row(t.table);
    r.read += t.read;
    r.inserted += t.inserted;
    r.updated += t.updated;
    r.unchanged += t.loaded - t.inserted - t.updated;
    r.merged += t.merged;
    r.rejected += t.rejected;
  }
  for (const t of tables) {
    for (const [count, table] of Object.entries(INFERRED_TABLE) as [keyof typeof INFERRED_TABLE, string][]) {
      if (t[count] > 0) row(table).inserted += t[count];
    }
  }
  return [...plan.values()];
}

const ROLLBACK = Symbol('dry run: roll back');

/**
 * Runs a pipeline whose sources already passed preflight: migrate, lock, decide fresh / resume /
 * nothing to do, load the streams in dependency order, finalize, record the run.
 * With `dryRun`, all of it (the migrations of a fresh target too) happens in one transaction
 * that is rolled back, one stream at a time on that transaction's connection.
 */
export async function runPipeline(knex: Knex, run: RunContext): Promise<RunReport> {
  const { opts, log } = run;
  // The lock comes first: a refused run must not even create the schema.
  if (!opts.dryRun) {
    const lock = await acquireRunLock(knex);
    try {
      await opts.target.schema.prepare(knex, true, log);
      return (await runLocked(knex, run, lock)).report;
    } catch (e) {
      // A batch cut short because the lock was lost fails with a socket error: the lost lock is what happened.
      throw lock.lost ?? e;
    } finally {
      await lock.release();
    }
  }
  let result: { report: RunReport; thisInvocation: TableReport[] } | undefined;
  try {
    await knex.transaction(async (trx) => {
      const lock = await acquireRunLock(trx, 5000, true);
      try {
        await opts.target.schema.prepare(trx, false);
        result = await runLocked(trx, { ...run, opts: { ...opts, concurrency: 1 } });
      } finally {
        await lock.release();
      }
      throw ROLLBACK;
    });
  } catch (e) {
    if (e !== ROLLBACK) throw e;
  }
  const { report, thisInvocation } = result!;
  log.info({ runId: report.runId }, 'dry run: everything was rolled back; nothing was written');
  // The plan is what this invocation would do: a resumed run's earlier batches are already in the target.
  return { ...report, dryRun: true, plan: planOf(thisInvocation) };
}

async function runLocked(knex: Knex, run: RunContext, lock?: RunLock): Promise<{ report: RunReport; thisInvocation: TableReport[] }> {
  const { extractor, opened, opts, log, progress } = run;
  const t0 = Date.now();
  try {
    const fingerprint = runFingerprint(extractor.name, opened, opts);
    const digestOptions = optionsKey({ ...opts, pipeline: extractor.name, target: opts.target.name, tableMap: opts.inputs?.tableMap, fernet: opts.fernet ?? null });
    const key = { pipeline: extractor.name, tenant: opts.tenant, fingerprint };
    const previous = await latestRun(knex, key);
    let mode: RunReport['mode'];
    let runId: string;
    const { fernet, target, ...rest } = opts;
    const settings = { ...rest, target: target.name };
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
      mode = (await hasCurrentSets(knex, extractor.name, opts.tenant, opened.sources.map((s) => s.path), digestOptions)) ? 'delta' : 'fresh';
    }
    log.info({ runId, pipeline: extractor.name, tenant: opts.tenant, mode, sources: opened.sources.map((s) => ({ path: s.path, sha256: s.sha256, bytes: s.size })) }, 'run started');
    const tenantId = mode === 'already-done' ? tenantIdOf(opts.tenant) : await ensureTenant(knex, opts.tenant, runId);
    const counts = new Map<string, StreamCounts>();
    const live = new Map<string, StreamCounts>();
    const initial = new Map<string, StreamCounts>();
    const onCounts = (name: string, c: StreamCounts, batch: boolean): void => {
      live.set(name, c);
      if (!batch) initial.set(name, c);
      if (opts.maxRejects === undefined || !batch) return;
      // This invocation's rejects: a resumed run that already hit the limit gets a full new allowance.
      const rejected = [...live].reduce((n, [stream, x]) => n + x.rejected - (initial.get(stream)?.rejected ?? 0), 0);
      if (rejected > opts.maxRejects) {
        throw new EtlError(
          'TOO_MANY_REJECTS',
          `Stopped: ${rejected} records rejected, more than --max-rejects ${opts.maxRejects} (stream ${name}). The batches before this point are committed; see why with \`etl rejects --run ${runId}\`, fix the source or the mapping (or raise --max-rejects), then run the same command again to resume.`,
        );
      }
    };
    try {
      const limit = pLimit(Math.max(1, opts.concurrency));
      for (const level of dependencyLevels(opened.streams.map((s) => s.entity))) {
        const streams = opened.streams.filter((s) => level.includes(s.entity));
        await settleAll(
          streams.map((stream) =>
            limit(async () => {
              const c = await runStream(progress.track(stream), {
                knex,
                runId,
                pipeline: extractor.name,
                tenant: opts.tenant,
                tenantId,
                fingerprint,
                sourceTimeZone: opts.sourceTimeZone,
                tenantMap: opts.tenantMap,
                batchSize: opts.batchSize,
                bcryptCost: opts.bcryptCost,
                orphans: opts.orphans,
                digestOptions,
                prune: opts.prune ?? false,
                fernet: fernet ?? null,
                target,
                lock,
                log,
                onCounts,
                onProgress: (name, done, total, first) => (first ? progress.start(name, total, done) : progress.update(name, done)),
              });
              counts.set(stream.name, c);
              log.info({ stream: stream.name, table: TABLES[stream.entity].table, read: c.read, loaded: c.loaded, merged: c.merged, rejected: c.rejected }, 'stream finished');
            }),
          ),
        );
      }
      let projected: ProjectionCounts[] = [];
      if (mode !== 'already-done') {
        await finalizeConversations(knex, tenantId, mode === 'delta' ? runId : undefined);
        projected = await target.project(knex, log);
      }
      const report: RunReport = {
        runId,
        pipeline: extractor.name,
        target: target.name,
        tenant: opts.tenant,
        fingerprint,
        mode,
        sources: opened.sources,
        tables: tableReports(opened.streams, counts),
        notes: opened.notes,
        seconds: (Date.now() - t0) / 1000,
        projected,
      };
      if (mode !== 'fresh') report.delta = deltaFigures(report.tables);
      if (mode !== 'already-done') await finishRun(knex, runId, 'done', report);
      log.info({ runId, seconds: report.seconds }, 'run finished');
      const delta = new Map([...counts].map(([name, c]) => [name, subtractCounts(c, initial.get(name) ?? emptyCounts())]));
      return { report, thisInvocation: tableReports(opened.streams, delta) };
    } catch (e) {
      // Without the lock another run may already be resuming this run id: leave its record alone.
      if (opts.dryRun || lock?.lost) throw e;
      const message = databaseFault(e)?.message ?? (e as Error).message; // never the SQL knex puts in a database error's message
      await finishRun(knex, runId, 'failed', { tables: tableReports(opened.streams, counts) }, message).catch(() => undefined);
      throw e;
    }
  } finally {
    progress.stop();
  }
}

function deltaFigures(tables: readonly TableReport[]): DeltaFigures {
  const sum = (k: keyof DeltaFigures) => tables.reduce((n, t) => n + t[k], 0);
  return { deltaNew: sum('deltaNew'), deltaChanged: sum('deltaChanged'), deltaUnchanged: sum('deltaUnchanged'), disappeared: sum('disappeared'), replaced: sum('replaced'), pruned: sum('pruned') };
}

/** Like Promise.all, but waits for every stream to stop before rethrowing the first failure. */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
