/**
 * Projection of etl's canonical rows onto an application's tables whose keys are UUIDs (ITL): the
 * app row's key is the canonical row's own deterministic UUID (or, for link tables, the pair of
 * them), so no id map is needed. Each table is one idempotent upsert in its own transaction:
 * new rows are inserted, existing ones updated only where a projected column differs, and the
 * insert-only columns (dates) are never rewritten; a kill at any point and a rerun converge on one
 * clean run's rows. (loaders/projection.ts does the same for SERIAL keys, through etl.id_map.)
 */
import type { Knex } from 'knex';
import type { Logger } from '../src/log';
import type { Check } from '../src/verify/checks';
import { count } from './projection';
import type { ProjectionCounts } from './target';
import { escapeIdentifier as q } from 'pg';

export interface UuidProjection {
  /** The app table in public. */
  table: string;
  /** The app's primary key columns, first in `source`. */
  key: readonly string[];
  /** Columns etl writes and a rerun keeps equal to the canonical rows, after the key in `source`. */
  columns: readonly string[];
  /** Source columns after `columns` that only `insertOnly` reads. */
  helpers?: readonly string[];
  /** Written on insert only: column → expression over the source row `s`. */
  insertOnly?: Readonly<Record<string, string>>;
  /** `select <key>, <columns>, <helpers> …` over the canonical tables. */
  source: string;
}

const list = (cols: readonly string[], alias = ''): string => cols.map((c) => `${alias}${q(c)}`).join(', ');

function named(p: UuidProjection): string {
  return `select * from (${p.source}) as src (${list([...p.key, ...p.columns, ...(p.helpers ?? [])])})`;
}

async function upsert(trx: Knex.Transaction, p: UuidProjection): Promise<ProjectionCounts> {
  const extra = Object.entries(p.insertOnly ?? {});
  const cols = [...p.key, ...p.columns, ...extra.map(([c]) => c)];
  const values = [...p.key, ...p.columns].map((c) => `s.${q(c)}`).concat(extra.map(([, e]) => e));
  const update = p.columns.length
    ? `do update set (${list(p.columns)}) = row(${list(p.columns, 'excluded.')}) where (${list(p.columns, 't.')}) is distinct from (${list(p.columns, 'excluded.')})`
    : 'do nothing';
  const { rows } = await trx.raw(
    `insert into public.${q(p.table)} as t (${list(cols)}) select ${values.join(', ')} from (${named(p)}) s
     on conflict (${list(p.key)}) ${update} returning (xmax = 0) as inserted`,
  );
  const inserted = rows.filter((r: { inserted: boolean }) => r.inserted).length;
  return { table: p.table, inserted, updated: rows.length - inserted, deleted: 0 };
}

/** Projects every table, parents first, each in one transaction. */
export async function projectUuid(knex: Knex, projections: readonly UuidProjection[], log: Logger): Promise<ProjectionCounts[]> {
  const out: ProjectionCounts[] = [];
  for (const p of projections) {
    const counts = await knex.transaction((trx) => upsert(trx, p));
    if (counts.inserted || counts.updated) log.info(counts, "projected into the application's table");
    out.push(counts);
  }
  return out;
}

/** Rows of the app table that no canonical row explains: written by someone else (the app, its seed scripts). */
export function foreignRows(knex: Knex, p: UuidProjection): Promise<number> {
  const on = p.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' and ');
  return count(knex, `select 1 from public.${q(p.table)} t where not exists (select 1 from (${named(p)}) s where ${on})`);
}

/** The app rows of `p.table` against the projection of the canonical rows: none missing, differing, or written by another. */
export async function checkUuidProjection(knex: Knex, app: string, p: UuidProjection): Promise<Check> {
  const t = `public.${q(p.table)}`;
  const on = p.key.map((k) => `t.${q(k)} = s.${q(k)}`).join(' and ');
  const src = named(p);
  const missing = await count(knex, `select 1 from (${src}) s where not exists (select 1 from ${t} t where ${on})`);
  const changed = p.columns.length ? await count(knex, `select 1 from (${src}) s join ${t} t on ${on} where (${list(p.columns, 't.')}) is distinct from (${list(p.columns, 's.')})`) : 0;
  const extra = await foreignRows(knex, p);
  const rows = await count(knex, `select 1 from ${t}`);
  return {
    name: `${app}'s ${p.table} hold exactly etl's rows`,
    ok: missing + changed + extra === 0,
    detail: `${rows} rows; ${missing} missing, ${changed} differing from etl's canonical rows, ${extra} not written by etl`,
  };
}
