/**
 * Applying the changes of src/db/evolve/: `etl migrate` takes each pending change through expand,
 * backfill, checks and contract; `etl run` applies expand only (its own rows fill the new columns:
 * the writer and the database's trigger do), except on a target with no rows yet, where the whole
 * change costs nothing and is completed. DDL steps hold the migrate lock (as knex's migrations);
 * a backfill holds a lock of its own, so a run can start (and expand) while it goes on.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import { EtlError } from '../../errors';
import type { Logger } from '../../log';
import { discardOnRelease } from '../connect';
import { underMigrateLock } from '../migrate';
import { type BackfillFigures, type BackfillOptions, backfillStep } from './backfill';
import type { Change, StepContext } from './change';
import { runDdl } from './ddl';
import { CHANGES } from './index';
import { ensureStateTable, forgetChange, readSteps, STATE_TABLE, setStep, stateTableExists, stepState } from './state';

/** Serializes backfills (two `etl migrate` at once); never taken by `etl run`. */
export const BACKFILL_LOCK_KEY = 0x45544c33; // "ETL3"

export interface CheckResult {
  change: string;
  name: string;
  ok: boolean;
  violations: number;
  detail: string;
}

export interface EvolveReport {
  change: string;
  /** Contracted before this `etl migrate`: nothing was done. */
  alreadyDone: boolean;
  expanded: boolean;
  backfilled: BackfillFigures[];
  checks: CheckResult[];
  contracted: boolean;
}

export const DEFAULT_BATCH_ROWS = 20_000;

async function tablesEmpty(knex: Knex, change: Change): Promise<boolean> {
  for (const s of change.backfill) if ((await knex.raw(`select exists (select 1 from ${s.table}) as x`)).rows[0].x) return false;
  return true;
}

async function isDone(knex: Knex, change: Change, step: string): Promise<boolean> {
  return (await stepState(knex, change.name, step))?.state === 'done';
}

async function expandOne(knex: Knex, change: Change, ctx: StepContext, log?: Logger): Promise<boolean> {
  if (await isDone(knex, change, 'expand')) return false;
  await runDdl(knex, await change.expand(knex), ctx, log);
  await setStep(knex, change.name, 'expand', 'done');
  log?.info({ change: change.name }, `expanded: ${change.summary}`);
  return true;
}

/**
 * The expand step of every change not expanded yet; what `etl run` calls after the knex
 * migrations (`record` false: inside the dry run's transaction, no CONCURRENTLY). A change whose
 * tables hold no rows yet is completed at once (backfill of nothing, checks, contract).
 */
export async function expandForRun(knex: Knex, record: boolean, log?: Logger): Promise<string[]> {
  const ctx: StepContext = { concurrently: record };
  const applied: string[] = [];
  const apply = async (): Promise<void> => {
    await ensureStateTable(knex);
    for (const change of CHANGES) {
      if (await isDone(knex, change, 'contract')) continue;
      if (await expandOne(knex, change, ctx, log)) applied.push(`${change.name} (expand)`);
      if (!(await stepState(knex, change.name, 'contract')) && (await tablesEmpty(knex, change))) {
        for (const s of change.backfill) await setStep(knex, change.name, `backfill:${s.name}`, 'done');
        await contractOne(knex, change, ctx, log);
        applied.push(`${change.name} (contract: no rows to backfill)`);
      }
    }
  };
  if (record) await underMigrateLock(knex, log, apply);
  else await apply();
  return applied;
}

export async function runChecks(knex: Knex, change: Change): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of change.checks) {
    const r = (await knex.raw(c.sql)).rows[0] as { n: string; sample: string[] };
    const n = Number(r.n);
    out.push({ change: change.name, name: c.name, ok: n === 0, violations: n, detail: n === 0 ? 'none' : c.sentence(n, r.sample) });
  }
  return out;
}

async function contractOne(knex: Knex, change: Change, ctx: StepContext, log?: Logger): Promise<void> {
  // Recorded before its first statement: from here on a rollback is refused (a half-contracted change is finished, not undone).
  await setStep(knex, change.name, 'contract', 'running');
  await runDdl(knex, await change.contract(knex), ctx, log);
  await setStep(knex, change.name, 'contract', 'done');
  log?.info({ change: change.name }, 'contracted');
}

async function withBackfillLock<T>(knex: Knex, fn: () => Promise<T>): Promise<T> {
  const conn: pg.Client = await knex.client.acquireConnection();
  try {
    const got = (await conn.query('select pg_try_advisory_lock($1) as ok', [BACKFILL_LOCK_KEY])).rows[0].ok;
    if (!got) throw new EtlError('RUN_LOCKED', 'Another `etl migrate` is backfilling this target; wait for it to finish (`etl migrate --status` shows its progress).');
    try {
      return await fn();
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [BACKFILL_LOCK_KEY]).catch(() => discardOnRelease(conn, 'the backfill lock could not be released'));
    }
  } finally {
    await knex.client.releaseConnection(conn).catch(() => undefined);
  }
}

/**
 * `etl migrate`: every change to its contract step. A change whose checks fail stays expanded and
 * backfilled (the report names the violations) and the later changes still go as far as they can.
 */
export async function evolveAll(knex: Knex, o: Partial<BackfillOptions>, log: Logger): Promise<EvolveReport[]> {
  const opts: BackfillOptions = { batchRows: o.batchRows ?? DEFAULT_BATCH_ROWS, onBatch: o.onBatch };
  const ctx: StepContext = { concurrently: true };
  await underMigrateLock(knex, log, () => ensureStateTable(knex));
  const reports: EvolveReport[] = [];
  for (const change of CHANGES) {
    const contracted = await isDone(knex, change, 'contract');
    const report: EvolveReport = { change: change.name, alreadyDone: contracted, expanded: contracted, backfilled: [], checks: [], contracted };
    reports.push(report);
    if (contracted) continue;
    report.expanded = (await underMigrateLock(knex, log, () => expandOne(knex, change, ctx, log))) || (await isDone(knex, change, 'expand'));
    report.backfilled = await withBackfillLock(knex, async () => {
      const figures: BackfillFigures[] = [];
      for (const s of change.backfill) figures.push(await backfillStep(knex, change, s, opts, log));
      return figures;
    });
    report.checks = await runChecks(knex, change);
    const failed = report.checks.filter((c) => !c.ok);
    await setStep(knex, change.name, 'checks', failed.length ? 'failed' : 'done', { detail: { checks: report.checks } });
    if (failed.length) {
      log.warn({ change: change.name, failed: failed.map((c) => c.detail) }, `${change.name}: checks failed; not contracted`);
      continue;
    }
    await underMigrateLock(knex, log, () => contractOne(knex, change, ctx, log));
    report.contracted = true;
  }
  return reports;
}

/**
 * `etl migrate --rollback`: undoes the last change that is expanded and not contracted (its
 * bookkeeping too; the state table goes with the last one, so the schema is exactly as before).
 * Refused once the change's contract step has started, unless its tables are still empty. Returns the change undone, or null when none is applied.
 */
export async function rollbackLast(knex: Knex, log: Logger): Promise<string | null> {
  return underMigrateLock(knex, log, async () => {
    if (!(await stateTableExists(knex))) return null;
    const steps = await readSteps(knex);
    const applied = [...CHANGES].reverse().find((c) => steps.some((s) => s.change === c.name));
    if (!applied) return null;
    const contract = steps.find((s) => s.change === applied.name && s.step === 'contract');
    // A contracted change on tables still empty loses nothing by going (a fresh `etl migrate` completes the changes).
    if (contract && !(await tablesEmpty(knex, applied))) {
      const what = contract.state === 'done' ? 'it was contracted' : 'its contract step has started (`etl migrate` finishes it)';
      throw new EtlError('USAGE', `Change ${applied.name} cannot be rolled back: ${what} (${new Date(contract.updated_at).toISOString()}), and ${applied.irreversible}. To go back, restore a backup taken before it.`);
    }
    await knex.transaction(async (trx) => {
      await trx.raw("set local lock_timeout = '10s'");
      for (const sql of applied.rollback) await trx.raw(sql);
      await forgetChange(trx, applied.name);
      const left = (await trx(STATE_TABLE).count<{ n: string }[]>('* as n'))[0].n;
      if (Number(left) === 0) await trx.raw(`drop table ${STATE_TABLE}`);
    });
    log.info({ change: applied.name }, 'rolled back');
    return applied.name;
  });
}

export interface ChangeStatus {
  change: string;
  summary: string;
  steps: { step: string; state: string; rows?: number; inferred?: number; progress?: string; detail?: string; updated_at?: string }[];
}

/** `etl migrate --status`: each change's steps and their state, from the bookkeeping only (reads nothing else). */
export async function evolveStatus(knex: Knex): Promise<ChangeStatus[]> {
  const rows = await readSteps(knex);
  return CHANGES.map((change) => {
    const of = (step: string) => rows.find((r) => r.change === change.name && r.step === step);
    const names = ['expand', ...change.backfill.map((s) => `backfill:${s.name}`), 'checks', 'contract'];
    return {
      change: change.name,
      summary: change.summary,
      steps: names.map((step) => {
        const r = of(step);
        if (!r) return { step, state: 'pending' };
        const out: ChangeStatus['steps'][number] = { step, state: r.state, updated_at: new Date(r.updated_at).toISOString() };
        if (step.startsWith('backfill:')) {
          Object.assign(out, { rows: r.rows, inferred: r.inferred });
          if (r.end_position) out.progress = `${Math.min(100, Math.floor((100 * r.position) / r.end_position))}% of ${r.end_position} blocks`;
        }
        if (step === 'checks' && r.state === 'failed') out.detail = ((r.detail.checks ?? []) as CheckResult[]).filter((c) => !c.ok).map((c) => c.detail).join('; ');
        return out;
      }),
    };
  });
}
