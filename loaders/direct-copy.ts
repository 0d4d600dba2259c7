import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { sqlState } from '../src/db/faults';
import { copyBuffer, copyText } from './copy';
import type { TableSpec } from './tables';
import type { RowBatch, WriteResult } from './writer';
import { escapeIdentifier as q } from 'pg';

/**
 * Per stream: after a batch whose rows already existed (a rerun, a restart over loaded data), the
 * next batches most likely collide too, so the fast path rests for 1, 2, 4 … 64 batches.
 */
export interface DirectCopyState {
  skip: number;
  misses: number;
}

export function directCopyState(): DirectCopyState {
  return { skip: 0, misses: 0 };
}

const UNIQUE_VIOLATION = '23505';
const MAX_SKIP = 64;

/**
 * The batch's COPY text, made while the previous batch is being written (the stream calls this
 * when it prepares a batch) rather than inside the transaction, where the server would wait for it.
 */
export function encodeForDirectCopy(spec: TableSpec, rows: readonly object[]): Buffer | undefined {
  return spec.duplicates || rows.length === 0 ? undefined : copyText(rows, spec.columns);
}

/** Every parent the batch references exists (one query for all references): then the writer would infer and reject nothing. */
async function parentsPresent(trx: Knex.Transaction, spec: TableSpec, rows: readonly object[]): Promise<boolean> {
  const checks: { table: string; ids: string[] }[] = [];
  for (const ref of spec.parents) {
    const ids = new Set<string>();
    for (const r of rows) {
      const v = (r as Record<string, unknown>)[ref.column];
      if (v === null || v === undefined) continue;
      if (typeof v !== 'string') return false;
      ids.add(v);
    }
    if (ids.size) checks.push({ table: ref.table, ids: [...ids] });
  }
  if (checks.length === 0) return true;
  const counts = checks.map((c, i) => `(select count(*)::int from ${q(c.table)} where id = any(?::uuid[])) as n${i}`);
  const found = (await trx.raw(`select ${counts.join(', ')}`, checks.map((c) => c.ids))).rows[0] as Record<string, number>;
  return checks.every((c, i) => found[`n${i}`] === c.ids.length);
}

/**
 * The writer's fast path (the common case of a first load): a batch with no key twice, whose parents
 * all exist, COPYs straight into the table under a savepoint, without the stage, the set-based
 * parent and duplicate statements and the speculative insert. If any of its keys is already in the
 * table (a duplicate from an earlier batch, a row of another source, a rerun) the COPY fails on the
 * primary key, the savepoint undoes it, and undefined sends the batch to the general path. Either
 * way the table ends the same: this path writes exactly the rows the general one would insert.
 */
export async function tryDirectCopy(trx: Knex.Transaction, spec: TableSpec, batch: RowBatch, state: DirectCopyState | undefined): Promise<WriteResult | undefined> {
  if (!state || spec.duplicates || batch.rows.length === 0) return undefined;
  if (state.skip > 0) {
    state.skip--;
    return undefined;
  }
  const ids = new Set(batch.rows.map((r) => r.id));
  if (ids.size !== batch.rows.length || !(await parentsPresent(trx, spec, batch.rows))) return undefined;
  const conn = (await trx.client.acquireConnection()) as PoolClient;
  await trx.raw('savepoint etl_direct_copy');
  try {
    await copyBuffer(conn, q(spec.table), spec.columns, batch.copyText ?? copyText(batch.rows, spec.columns));
  } catch (e) {
    if (sqlState(e) !== UNIQUE_VIOLATION) throw e;
    await trx.raw('rollback to savepoint etl_direct_copy');
    state.misses++;
    state.skip = Math.min(MAX_SKIP, 2 ** (state.misses - 1));
    return undefined;
  }
  // Not released: the commit does that, one round trip fewer per batch.
  state.misses = 0;
  const n = batch.rows.length;
  return { loaded: n, inserted: n, merged: 0, rejected: 0, updated: 0, inferredUsers: 0, inferredConversations: 0, inferredPersonas: 0, importedHistory: 0, entries: [] };
}
