/**
 * `etl rollback --run ID`: undoes one run. The rows it inserted (their etl_run_id is the run's) are
 * deleted, children first; the rows it updated get back the values they had before it (etl_undo,
 * written by the writer as it updates). Refused while a later run changed or depends on those rows:
 * that run is named, to be rolled back first. The rollback is recorded as a run of its own.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { dependencyLevels, ENTITY_KINDS, TABLES } from '../../loaders/tables';
import type { ProjectionCounts } from '../../loaders/target';
import { targetFor } from '../../loaders/targets';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { tenantId as tenantIdOf } from '../normalize/ids';
import { finalizeConversations } from './finalize';
import { acquireRunLock } from './lock';
import { ROLLBACK_PIPELINE } from './runs';
import { rollBackSets } from './delta/sets';
import { escapeIdentifier as q } from 'pg';

export interface RollbackReport {
  /** The run that records this rollback. */
  runId: string;
  rolledBack: string;
  /** Per table: rows the run had inserted, now deleted; rows it had updated, now as before. */
  tables: { table: string; deleted: number; restored: number }[];
  projected: ProjectionCounts[];
}

interface RunRow {
  id: string;
  pipeline: string;
  tenant: string;
  state: string;
  started_at: string;
  options: { target?: string };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tables children first (rows are deleted in this order), each once. */
function tablesChildrenFirst(): string[] {
  const order = dependencyLevels(ENTITY_KINDS).flat().map((k) => TABLES[k].table);
  return [...new Set(order)].reverse();
}

async function exists(knex: Knex, sql: string, bindings: readonly unknown[]): Promise<boolean> {
  return (await knex.raw(`select exists (${sql}) as x`, bindings as Knex.RawBinding[])).rows[0].x;
}

interface Reference {
  table: string;
  column: string;
  parent: string;
}

/** Every reference between etl's tables: the specs' parent references and the schema's own foreign keys. */
async function references(knex: Knex): Promise<Reference[]> {
  const fks: Reference[] = (
    await knex.raw(
      `select cl.relname as table, a.attname as column, fcl.relname as parent
       from pg_constraint c join pg_class cl on cl.oid = c.conrelid join pg_class fcl on fcl.oid = c.confrelid
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       where c.contype = 'f' and array_length(c.conkey, 1) = 1 and cl.relnamespace = current_schema()::regnamespace and cl.relname not like 'etl\\_%'`,
    )
  ).rows;
  const specs = Object.values(TABLES).flatMap((spec) => spec.parents.map((ref) => ({ table: spec.table, column: ref.column, parent: ref.table })));
  const seen = new Set<string>();
  return [...fks, ...specs].filter((r) => !seen.has(`${r.table}.${r.column}`) && seen.add(`${r.table}.${r.column}`));
}

/** Does a later run `later` hold on to rows `run` wrote: changed them since, or wrote rows that reference them? */
async function holdsOn(knex: Knex, run: string, later: string, tables: readonly string[], refs: readonly Reference[]): Promise<boolean> {
  // Both changed the same row: restoring `run`'s old values would undo `later`'s change too.
  if (await exists(knex, 'select 1 from etl_undo a join etl_undo b on b.tbl = a.tbl and b.id = a.id where a.run_id = ? and b.run_id = ?', [run, later])) return true;
  for (const table of tables) {
    // `later` changed (or, as a delta pass, deleted) a row `run` inserted.
    if (await exists(knex, `select 1 from etl_undo u where u.run_id = ? and u.tbl = ? and u.old->>'etl_run_id' = ?`, [later, table, run])) return true;
  }
  for (const ref of refs) {
    // A row `later` wrote or changed references a row `run` inserted.
    const sql = `select 1 from ${q(ref.table)} c join ${q(ref.parent)} p on p.id = c.${q(ref.column)}
                 where p.etl_run_id = ? and (c.etl_run_id = ? or exists (select 1 from etl_undo u where u.run_id = ? and u.tbl = ? and u.id = c.id))`;
    if (await exists(knex, sql, [run, later, later, ref.table])) return true;
  }
  return false;
}

async function findRun(knex: Knex, id: string): Promise<RunRow> {
  const run: RunRow | undefined = UUID.test(id) ? await knex('etl_runs').where({ id }).first() : undefined;
  if (!run) throw new EtlError('USAGE', `There is no run ${id} in this target; \`etl status\` lists the runs and their ids.`);
  if (run.pipeline === ROLLBACK_PIPELINE) throw new EtlError('USAGE', `Run ${id} is itself a rollback; load the run it undid again with \`etl run\` instead.`);
  if (run.state === 'rolled_back') throw new EtlError('USAGE', `Run ${id} is already rolled back.`);
  return run;
}

/**
 * Restores the rows `run` updated to their values before it; returns the count per table. A column
 * the entry predates (added by a schema change since, e.g. persona_id) keeps its value.
 */
async function restore(trx: Knex.Transaction, run: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const undone = new Set((await trx.raw('select distinct tbl from etl_undo where run_id = ?', [run])).rows.map((r: { tbl: string }) => r.tbl));
  const tables = tablesChildrenFirst().reverse().filter((t) => undone.has(t));
  for (const table of tables) {
    const cols: string[] = (await trx.raw("select column_name from information_schema.columns where table_schema = current_schema() and table_name = ? and column_name <> 'id'", [table])).rows.map((r: { column_name: string }) => r.column_name);
    const res = await trx.raw(
      `update ${q(table)} t set ${cols.map((c) => `${q(c)} = case when u.old -> '${c}' is not null then r.${q(c)} else t.${q(c)} end`).join(', ')}
       from etl_undo u cross join lateral jsonb_populate_record(null::${q(table)}, u.old) r
       where u.run_id = ? and u.tbl = ? and t.id = u.id`,
      [run, table],
    );
    // Rows the run deleted (a delta pass's replaced or pruned rows) come back whole, parents before children.
    const back = await trx.raw(
      `insert into ${q(table)} select r.* from etl_undo u cross join lateral jsonb_populate_record(null::${q(table)}, u.old) r
       where u.run_id = ? and u.tbl = ? and not exists (select 1 from ${q(table)} t where t.id = u.id)`,
      [run, table],
    );
    out.set(table, (res.rowCount ?? 0) + (back.rowCount ?? 0));
  }
  return out;
}

export async function rollbackRun(knex: Knex, id: string, log: Logger): Promise<RollbackReport> {
  const lock = await acquireRunLock(knex);
  try {
    const run = await findRun(knex, id);
    const named = targetFor(run.options?.target ?? 'etl');
    // A target whose rows belong to an owner (Mul-in-One) was bound to it as the run's tenant; etl recorded it then.
    const target = named.forOwner ? named.forOwner({ username: run.tenant, bcryptCost: 12 }) : named;
    if (!target.undoable) {
      throw new EtlError('USAGE', `etl rollback cannot undo a run of --target ${target.name} yet: the application's tables keep no record of which rows etl wrote there, so it would be left half undone. Nothing was changed.`);
    }
    const tables = tablesChildrenFirst();
    const later: RunRow[] = await knex('etl_runs')
      .where('started_at', '>', run.started_at)
      .whereNot('state', 'rolled_back')
      .whereNot('pipeline', ROLLBACK_PIPELINE)
      .orderBy('started_at', 'desc');
    const refs = await references(knex);
    for (const l of later) {
      if (await holdsOn(knex, run.id, l.id, tables, refs)) {
        throw new EtlError('USAGE', `Run ${run.id} cannot be rolled back: the later run ${l.id} (${l.pipeline}, started ${l.started_at}) changed or refers to rows it wrote; roll that run back first (etl rollback --run ${l.id}).`);
      }
    }
    const figures = await knex.transaction(async (trx) => {
      // Old values first: a restored row may point back at a row this run inserted no longer.
      const restored = await restore(trx, run.id);
      const deleted = new Map<string, number>();
      for (const table of tables) deleted.set(table, (await trx.raw(`delete from ${q(table)} where etl_run_id = ?`, [run.id])).rowCount ?? 0);
      await finalizeConversations(trx, tenantIdOf(run.tenant));
      for (const t of ['etl_undo', 'etl_checkpoints', 'etl_rejects']) await trx(t).where({ run_id: run.id }).delete();
      // The digests of the run's passes go with it; those it superseded describe the rows again.
      await rollBackSets(trx, run.id);
      const summary = tables.map((table) => ({ table, deleted: deleted.get(table) ?? 0, restored: restored.get(table) ?? 0 })).filter((t) => t.deleted || t.restored);
      const runId = randomUUID();
      await trx('etl_runs').where({ id: run.id }).update({ state: 'rolled_back' });
      await trx('etl_runs').insert({
        id: runId,
        pipeline: ROLLBACK_PIPELINE,
        tenant: run.tenant,
        fingerprint: `rollback:${run.id}`,
        sources: JSON.stringify([]),
        state: 'done',
        options: JSON.stringify({ target: target.name, rolledBack: run.id }),
        summary: JSON.stringify({ rolledBack: run.id, tables: summary }),
        finished_at: trx.fn.now(),
      });
      return { runId, summary };
    });
    // An application target drops the app rows whose canonical rows are gone, and rewrites the restored ones.
    const projected = await target.project(knex, log);
    log.info({ runId: figures.runId, rolledBack: run.id }, 'run rolled back');
    return { runId: figures.runId, rolledBack: run.id, tables: figures.summary, projected };
  } finally {
    await lock.release();
  }
}
