import type { Knex } from 'knex';
import { TABLES, type TableSpec } from './tables';
import { escapeIdentifier as q } from 'pg';

export interface ReplaceResult {
  /** Rows an edited record produced before and no record of its stream produces any more. */
  replaced: number;
  /** Rows of records gone from the source, deleted as `--prune` asked. */
  pruned: number;
}

/** No row of another table references it (such a row stays: deleting it would orphan them). */
function unreferenced(table: string): string {
  const refs = Object.values(TABLES).flatMap((s) => s.parents.filter((p) => p.table === table).map((p) => ({ child: s.table, column: p.column })));
  const seen = new Set<string>();
  return refs
    .filter((r) => !seen.has(`${r.child}.${r.column}`) && seen.add(`${r.child}.${r.column}`))
    .map((r) => ` and not exists (select 1 from ${q(r.child)} c where c.${q(r.column)} = t.id)`)
    .join('');
}

/**
 * Which rows records produced before, with the last pass's digests: an edited record's `old_id`;
 * with `prune`, a gone record's (`digest` null) `row_id`.
 */
function byDigests(digests: string, prune: boolean): string {
  return `select old_id as id, 'replaced' as kind from ${digests} where old_id is not null and digest is not null and old_id is distinct from row_id
          ${prune ? `union all select row_id, 'pruned' from ${digests} where digest is null and row_id is not null` : ''}`;
}

/**
 * Without them (rows an etl without digests loaded, or whose digests a rollback dropped): the rows
 * of the stream's earlier files whose locator a record of this pass has and that it no longer produces.
 */
function byLocators(spec: TableSpec, digests: string, locatorTable: string): string {
  return `select t.id, 'replaced' as kind from ${q(spec.table)} t join ${digests} d on t.etl_locator = '${locatorTable.replace(/'/g, "''")}/' || d.loc
          where d.digest is not null and t.id is distinct from d.row_id`;
}

/**
 * At the end of a stream's pass, in its last batch's transaction: deletes the rows that records
 * of the stream produced before and produce no longer. `digests` is the pass's digest table
 * (src/pipeline/delta/sets.ts), `previous` says how the rows are found (above). A row stays while
 * any record of the stream still produces it, when another source's file wrote it last (its
 * `etl_source` is not one of `sources`), and while other rows reference it. Every deleted row is
 * kept in etl_undo first, so `etl rollback` gives it back.
 */
export async function deleteReplaced(
  trx: Knex.Transaction,
  spec: TableSpec,
  digests: string,
  sources: readonly string[],
  runId: string,
  previous: { prune: boolean } | { locatorTable: string },
): Promise<ReplaceResult> {
  const t = q(spec.table);
  const prune = 'prune' in previous && previous.prune;
  const candidates = 'prune' in previous ? byDigests(digests, prune) : byLocators(spec, digests, previous.locatorTable);
  await trx.raw(
    `create temp table etl_replaced on commit drop as
     select distinct on (c.id) c.id, c.kind from (${candidates}) c
     where not exists (select 1 from ${digests} p where p.row_id = c.id and p.digest is not null)
     order by c.id, c.kind desc`,
  );
  const which = `from ${t} t join etl_replaced g on g.id = t.id where t.etl_source = any(?::text[])${unreferenced(spec.table)}`;
  await trx.raw(`insert into etl_undo (run_id, tbl, id, old) select ?, ?, t.id, to_jsonb(t) ${which} on conflict do nothing`, [runId, spec.table, [...sources]]);
  const deleted = await trx.raw(`delete from ${t} t using etl_replaced g where g.id = t.id and t.etl_source = any(?::text[])${unreferenced(spec.table)} returning g.kind`, [[...sources]]);
  // A gone record whose row is gone needs no more reporting; one whose row stayed is reported again next time.
  if (prune) await trx.raw(`delete from ${digests} d where d.digest is null and not exists (select 1 from ${t} t where t.id = d.row_id)`);
  await trx.raw('drop table etl_replaced');
  const kinds = (deleted.rows as { kind: string }[]).map((r) => r.kind);
  return { replaced: kinds.filter((k) => k === 'replaced').length, pruned: kinds.filter((k) => k === 'pruned').length };
}
