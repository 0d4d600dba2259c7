import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import type { Locator } from '../extractors/types';
import type { StreamCounts } from '../src/pipeline/counts';
import { copyRows } from './copy';
import { type DirectCopyState, tryDirectCopy } from './direct-copy';
import type { AnyRow } from './rows';
import type { InferRule, ParentRef, TableSpec } from './tables';
import type { RejectEntry } from './rejects';
import { escapeIdentifier as q } from 'pg';

export type OrphanPolicy = 'infer' | 'reject';

export interface BatchContext {
  runId: string;
  fingerprint: string;
  stream: string;
  orphans: OrphanPolicy;
  /** Set by a stream to let its batches take the fast path (loaders/direct-copy.ts). */
  direct?: DirectCopyState;
}

/** A normalized batch: rows[i] came from the record at locators[i] (raw record kept for reject reports). */
export interface RowBatch {
  rows: AnyRow[];
  locators: Locator[];
  records: unknown[];
  /** The rows as COPY text for the fast path, when made ahead (loaders/direct-copy.ts). */
  copyText?: Buffer;
}

export interface WriteResult extends Pick<StreamCounts, 'loaded' | 'merged' | 'rejected' | 'inferredUsers' | 'inferredConversations' | 'inferredPersonas' | 'importedHistory' | 'inserted' | 'updated'> {
  /** Merge/orphan/inferred outcomes found by the database, to be written with the batch. */
  entries: RejectEntry[];
}

const STAGE = 'etl_stage';
const EXISTING = 'etl_stage_existing';

/**
 * Writes one batch in the caller's transaction: stage the rows with COPY, settle parents
 * (infer or reject orphans), count duplicates, upsert with the table's conflict policy.
 * The caller adds the normalization rejects and the checkpoint to the same transaction.
 */
export async function writeRows(trx: Knex.Transaction, spec: TableSpec, batch: RowBatch, ctx: BatchContext): Promise<WriteResult> {
  const result: WriteResult = { loaded: 0, merged: 0, rejected: 0, inferredUsers: 0, inferredConversations: 0, inferredPersonas: 0, importedHistory: 0, inserted: 0, updated: 0, entries: [] };
  if (batch.rows.length === 0) return result;
  const direct = await tryDirectCopy(trx, spec, batch, ctx.direct);
  if (direct) return direct;
  const entry = (i: number, outcome: RejectEntry['outcome'], reasonCode: string, message: string, mergedInto?: string): RejectEntry => ({
    stream: ctx.stream,
    outcome,
    locator: batch.locators[i],
    reasonCode,
    message,
    mergedInto,
    record: batch.records[i],
  });
  // The first record referencing each id, per column: built once per column, not scanned per inferred parent.
  const firstIndex = new Map<string, Map<unknown, number>>();
  const firstIndexOf = (column: string, id: string): number => {
    let ids = firstIndex.get(column);
    if (!ids) {
      const built = new Map<unknown, number>();
      batch.rows.forEach((r, i) => {
        const value = (r as unknown as Record<string, unknown>)[column];
        if (!built.has(value)) built.set(value, i);
      });
      firstIndex.set(column, (ids = built));
    }
    return ids.get(id) ?? -1;
  };

  await trx.raw(`create temp table ${STAGE} (like ${q(spec.table)} including defaults) on commit drop`);
  const extra = ['add column _ord integer', ...spec.refs.map((r) => `add column ${q(r.name)} ${r.type}`)].join(', ');
  await trx.raw(`alter table ${STAGE} ${extra}`);
  const conn = (await trx.client.acquireConnection()) as PoolClient;
  await copyRows(conn, STAGE, [...spec.columns, ...spec.refs.map((r) => r.name)], batch.rows, (i) => i);

  const rejectMissing = async (where: string, ref: ParentRef): Promise<void> => {
    const gone = await trx.raw(`delete from ${STAGE} s where ${where} returning s._ord, ${ref.label ?? 'null'} as label`);
    const hint = ref.missing === 'orphans' ? ' (use --orphans infer to create it from the reference)' : '';
    for (const { _ord, label } of gone.rows as { _ord: number; label: string | null }[]) {
      result.rejected++;
      result.entries.push(entry(_ord, 'rejected', ref.code, ref.message(label) + hint));
    }
  };
  const inferParents = async (ref: ParentRef, rule: InferRule, missing: string): Promise<void> => {
    const columns = [...Object.keys(rule.values), 'etl_run_id', 'etl_source', 'etl_locator'];
    const values = [...Object.values(rule.values), '?', 's.etl_source', 's.etl_locator'];
    const returning = rule.report ? `id, ${q(rule.report.column)} as label` : 'id';
    const res = await trx.raw(
      `insert into ${q(ref.table)} (${columns.map(q).join(', ')})
       select distinct on (s.${q(ref.column)}) ${values.join(', ')}
       from ${STAGE} s where ${missing}${rule.when ? ` and s.${q(rule.when.column)} = ?` : ''} order by s.${q(ref.column)}, s._ord
       on conflict (id) do nothing returning ${returning}`,
      rule.when ? [ctx.runId, rule.when.equals] : [ctx.runId],
    );
    for (const { id, label } of res.rows as { id: string; label?: string }[]) {
      result[rule.counter]++;
      if (rule.report) result.entries.push(entry(firstIndexOf(ref.column, id), 'inferred', rule.report.code, rule.report.message(String(label)), id));
    }
  };

  // Parents, in the spec's order (a conversation inferred from a message needs its user first).
  for (const ref of spec.parents) {
    const missing = `s.${q(ref.column)} is not null and not exists (select 1 from ${q(ref.table)} p where p.id = s.${q(ref.column)})`;
    const rules = ref.infer ?? [];
    for (const rule of rules.filter((r) => r.always)) await inferParents(ref, rule, missing);
    if (ref.missing === 'reject' || ctx.orphans === 'reject') {
      await rejectMissing(missing, ref);
    } else {
      for (const rule of rules.filter((r) => !r.always)) await inferParents(ref, rule, missing);
    }
  }

  // A duplicate is a record whose row another record of the same source (another locator) produced:
  // earlier in this batch, or in an earlier batch of this or an interrupted run.
  const inBatch = await trx.raw(
    `select r._ord, r.id from (select s._ord, s.id, row_number() over (partition by s.id order by ${spec.pick}) as rn from ${STAGE} s) r where r.rn > 1`,
  );
  const merged = (rows: { _ord: number; id: string }[]): void => {
    for (const { _ord, id } of rows) {
      if (spec.duplicates?.reject) {
        result.rejected++;
        result.entries.push(entry(_ord, 'rejected', spec.duplicates.code, spec.duplicates.message, id));
      } else {
        result.merged++;
        result.entries.push(entry(_ord, 'merged', `duplicate_${spec.table}`, `same ${spec.table} key as another record of this source; merged into it`, id));
      }
    }
  };
  merged(inBatch.rows);
  if (spec.duplicates?.reject && inBatch.rows.length) {
    await trx.raw(`delete from ${STAGE} s where s._ord = any(?::int[])`, [inBatch.rows.map((r: { _ord: number }) => r._ord)]);
  }

  // New rows first (the common case on a first load): one index probe per row, nothing to compare.
  const cols = spec.columns.map(q).join(', ');
  const pickOne = (from: string) => `select distinct on (s.id) ${spec.columns.map((c) => `s.${q(c)}`).join(', ')} from ${from} s order by s.id, ${spec.pick}`;
  const inserted = await trx.raw(`insert into ${q(spec.table)} (${cols}) ${pickOne(STAGE)} on conflict (id) do nothing returning id`);
  result.inserted = inserted.rows.length;
  const distinctRows = batch.rows.length - result.rejected - result.merged;
  if (inserted.rows.length < distinctRows) {
    // Rows that already existed: count duplicates of this source, then merge where distinct.
    await trx.raw(
      `create temp table ${EXISTING} on commit drop as select s.* from ${STAGE} s
       where not exists (select 1 from unnest(?::uuid[]) as i(id) where i.id = s.id)`,
      [inserted.rows.map((r: { id: string }) => r.id)],
    );
    const crossBatch = await trx.raw(
      `select r._ord, r.id from (select s._ord, s.id, s.etl_source, s.etl_locator, row_number() over (partition by s.id order by ${spec.pick}) as rn from ${EXISTING} s) r
       join ${q(spec.table)} t on t.id = r.id
       where r.rn = 1 and t.etl_source = r.etl_source and t.etl_locator <> r.etl_locator`,
    );
    merged(crossBatch.rows);
    const updated = [...spec.update, ...Object.keys(spec.updateExpr ?? {})];
    const newValue = (c: string) => spec.updateExpr?.[c] ?? `excluded.${q(c)}`;
    const set = updated.map((c) => `${q(c)} = ${newValue(c)}`).join(', ');
    const distinct = `(${updated.map((c) => `t.${q(c)}`).join(', ')}) is distinct from (${updated.map(newValue).join(', ')})`;
    const sameSourceDuplicate = 't.etl_source = excluded.etl_source and t.etl_locator <> excluded.etl_locator';
    const allowed = spec.duplicateWins ? `(not (${sameSourceDuplicate}) or ${spec.duplicateWins})` : `not (${sameSourceDuplicate})`;
    // What this run is about to overwrite, as it was before the run's first change to it: `etl rollback` gives it back.
    const overSelect = (expr: string) => expr.replace(/\bexcluded\./g, 'e.');
    await trx.raw(
      `insert into etl_undo (run_id, tbl, id, old)
       select ?, ?, t.id, to_jsonb(t) from ${q(spec.table)} t join (${pickOne(EXISTING)}) e on e.id = t.id
       where (${overSelect(distinct)} and ${overSelect(allowed)}) or t.etl_source <> e.etl_source
       on conflict do nothing`,
      [ctx.runId, spec.table],
    );
    const upserted = await trx.raw(`insert into ${q(spec.table)} as t (${cols}) ${pickOne(EXISTING)} on conflict (id) do update set ${set} where ${distinct} and ${allowed} returning t.id`);
    const mergedIds = new Set((crossBatch.rows as { id: string }[]).map((r) => r.id));
    result.updated = (upserted.rows as { id: string }[]).filter((r) => !mergedIds.has(r.id)).length;
    // A row another source produced now belongs to this one: a later record of this source with the
    // same key is then a duplicate (merged), as on a first load. Bookkeeping only, after the upsert.
    await trx.raw(
      `update ${q(spec.table)} t set etl_source = e.etl_source, etl_locator = e.etl_locator
       from (${pickOne(EXISTING)}) e
       where t.id = e.id and t.etl_source <> e.etl_source`,
    );
    await trx.raw(`drop table ${EXISTING}`);
  }
  // Dropped now rather than at commit: inside an enclosing transaction (etl run --dry-run) a batch
  // is a savepoint, and the next batch creates the stage again.
  await trx.raw(`drop table ${STAGE}`);
  result.loaded = batch.rows.length - result.merged - result.rejected;
  return result;
}
