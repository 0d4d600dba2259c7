/**
 * Projection of etl's canonical rows (schema "etl") onto an application's own tables with integer
 * SERIAL keys. Each app row is tied to its canonical row by the id map etl.id_map, so a rerun
 * updates the same row and a row is never written twice; an unmapped app row that already holds a
 * natural key (a user the app created, say) is taken over rather than duplicated. New rows get the
 * ids after the table's largest id in a fixed order and the sequence is set past them, so the app's
 * next insert never collides and a killed and rerun projection gives the same ids as a clean one.
 * Every statement is set-based and idempotent. Foreign keys resolve through the map (`mapped`).
 */
import type { Knex } from 'knex';
import type { Check } from '../src/verify/checks';
import type { Logger } from '../src/log';
import type { ProjectionCounts } from './target';
import { escapeIdentifier as q } from 'pg';

export const ID_MAP_DDL = `create table if not exists etl.id_map (
  tbl text not null,
  etl_id uuid not null,
  app_id integer not null,
  -- taken over from the app (same natural key), not created by etl: never deleted by etl
  adopted boolean not null default false,
  primary key (tbl, etl_id),
  unique (tbl, app_id)
)`;

/**
 * The canonical messages of an application target are etl's private copy, written only by the batch
 * writer, which settles every parent itself, and read by set-based statements: they need neither
 * foreign keys (the application's own tables have theirs) nor the content-key constraint (the
 * primary key is derived from it) nor the conversation index. Dropping them makes the bulk table
 * cheaper to load; the etl target keeps them, its tables being the ones users query.
 */
export async function slimCanonicalMessages(knex: Knex): Promise<void> {
  const present: { n: number } = (
    await knex.raw(
      `select count(*)::int as n from pg_constraint where conrelid = to_regclass('etl.messages') and (contype = 'f' or conname = 'messages_tenant_id_content_key_unique')`,
    )
  ).rows[0];
  if (present.n === 0) return;
  await knex.raw(`alter table etl.messages
    drop constraint if exists messages_conversation_id_foreign, drop constraint if exists messages_tenant_id_foreign,
    drop constraint if exists messages_user_id_foreign, drop constraint if exists messages_tenant_id_content_key_unique`);
  await knex.raw('drop index if exists etl.messages_conversation_id_created_at_index');
}

/** `etl.id_map <alias> on …`: the app id of the canonical row `etlId` of app table `tbl`, for a join. */
export const mapped = (tbl: string, alias: string, etlId: string): string => `etl.id_map ${alias} on ${alias}.tbl = '${tbl}' and ${alias}.etl_id = ${etlId}`;

export interface Projection {
  /** The app table in public, and its key in the id map. */
  table: string;
  /** App columns etl writes (besides id), in the order of `source`'s columns. */
  columns: readonly string[];
  /** `select etl_id, <columns> …` over the canonical tables: what each app row must hold. */
  source: string;
  /** Extra source columns (after `columns`) that only `insertOnly` reads. */
  helpers?: readonly string[];
  /** Written on insert only (never changed by a rerun): column → expression over a new source row `s`, which also has `_rank`. */
  insertOnly?: Readonly<Record<string, string>>;
  /** `_rank` of a new row: its place among new rows with the same value of this helper column. */
  rankBy?: string;
  /** The order new rows get their ids in. */
  order: string;
  /** Natural key: an app row with this value and no map entry is taken over. */
  adopt?: string;
  /** The canonical table the rows come from: an app row whose canonical row is gone (`etl rollback`) is deleted. */
  canonical: string;
  /** The canonical table's key column, when it is not `id`. */
  canonicalId?: string;
}

/** The source with named columns (`select etl_id, a, b …` positions → names). */
export function named(p: Projection): string {
  return `select * from (${p.source}) as src (etl_id, ${[...p.columns, ...(p.helpers ?? [])].map(q).join(', ')})`;
}

async function projectTable(trx: Knex.Transaction, p: Projection): Promise<ProjectionCounts> {
  const t = `public.${q(p.table)}`;
  const src = named(p);
  const notMapped = `not exists (select 1 from etl.id_map m where m.tbl = '${p.table}' and m.etl_id = s.etl_id)`;
  if (p.adopt) {
    await trx.raw(
      `insert into etl.id_map (tbl, etl_id, app_id, adopted)
       select '${p.table}', s.etl_id, t.id, true from (${src}) s join ${t} t on t.${q(p.adopt)} = s.${q(p.adopt)}
       where ${notMapped} and not exists (select 1 from etl.id_map m where m.tbl = '${p.table}' and m.app_id = t.id)`,
    );
  }
  const cols = p.columns.map(q);
  const updated = await trx.raw(
    `update ${t} t set (${cols.join(', ')}) = row(${cols.map((c) => `s.${c}`).join(', ')})
     from (${src}) s join ${mapped(p.table, 'm', 's.etl_id')}
     where t.id = m.app_id and (${cols.map((c) => `t.${c}`).join(', ')}) is distinct from (${cols.map((c) => `s.${c}`).join(', ')})`,
  );
  const insertOnly = Object.entries(p.insertOnly ?? {});
  const orderBy = p.order.split(',').map((o) => `s.${o.trim()}`).join(', ');
  const rank = p.rankBy ? `, row_number() over (partition by s.${q(p.rankBy)} order by ${orderBy}) as _rank` : '';
  const inserted = await trx.raw(
    `with base as (select coalesce(max(id), 0) as n from ${t}),
     ranked as (select s.*${rank}, (select n from base) + row_number() over (order by ${orderBy}) as _app_id
                from (${src}) s where ${notMapped}),
     fresh as materialized (select s.*${insertOnly.map(([c, e]) => `, ${e} as ${q(`_new_${c}`)}`).join('')} from ranked s),
     ins as (insert into ${t} (id, ${[...cols, ...insertOnly.map(([c]) => q(c))].join(', ')})
             select _app_id, ${[...cols, ...insertOnly.map(([c]) => q(`_new_${c}`))].join(', ')} from fresh)
     insert into etl.id_map (tbl, etl_id, app_id) select '${p.table}', etl_id, _app_id from fresh`,
  );
  // The app's next insert takes the id after the largest one.
  await trx.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), coalesce(max(id), 1), max(id) is not null) from ${t}`);
  return { table: p.table, inserted: inserted.rowCount ?? 0, updated: updated.rowCount ?? 0, deleted: 0 };
}

/** App rows etl created whose canonical row is gone (a rolled-back run's): deleted with their map entries. */
async function deleteGone(trx: Knex.Transaction, p: Projection): Promise<number> {
  const res = await trx.raw(
    `with gone as (delete from etl.id_map m where m.tbl = '${p.table}' and not exists (select 1 from ${p.canonical} c where c.${q(p.canonicalId ?? 'id')} = m.etl_id) returning m.app_id, m.adopted)
     delete from public.${q(p.table)} t using gone g where t.id = g.app_id and not g.adopted`,
  );
  return res.rowCount ?? 0;
}

/**
 * Projects every table: first the deletions, children first; then inserts and updates, parents
 * first. Each table in one transaction; every step is idempotent.
 */
export async function project(knex: Knex, projections: readonly Projection[], log: Logger): Promise<ProjectionCounts[]> {
  const deleted = new Map<string, number>();
  for (const p of [...projections].reverse()) deleted.set(p.table, await knex.transaction((trx) => deleteGone(trx, p)));
  const out: ProjectionCounts[] = [];
  for (const p of projections) {
    const counts = { ...(await knex.transaction((trx) => projectTable(trx, p))), deleted: deleted.get(p.table) ?? 0 };
    if (counts.inserted || counts.updated || counts.deleted) log.info(counts, "projected into the application's table");
    out.push(counts);
  }
  return out;
}

export const count = async (knex: Knex, sql: string): Promise<number> => (await knex.raw(`select count(*)::int as n from (${sql}) x`)).rows[0].n;

/** The app rows of `p.table` against the projection of the canonical rows: none missing, differing, or written by another. */
export async function checkProjection(knex: Knex, app: string, p: Projection): Promise<Check> {
  const t = `public."${p.table}"`;
  const cols = p.columns.map((c) => `"${c}"`);
  const src = named(p);
  const map = `etl.id_map m on m.tbl = '${p.table}' and m.etl_id = s.etl_id`;
  const missing = await count(knex, `select 1 from (${src}) s left join ${map} left join ${t} t on t.id = m.app_id where t.id is null`);
  const changed = await count(knex, `select 1 from (${src}) s join ${map} join ${t} t on t.id = m.app_id where (${cols.map((c) => `t.${c}`).join(', ')}) is distinct from (${cols.map((c) => `s.${c}`).join(', ')})`);
  const extra = await count(knex, `select 1 from ${t} t where not exists (select 1 from etl.id_map m where m.tbl = '${p.table}' and m.app_id = t.id)`);
  const rows = await count(knex, `select 1 from ${t}`);
  return {
    name: `${app}'s ${p.table} hold exactly etl's rows`,
    ok: missing + changed + extra === 0,
    detail: `${rows} rows; ${missing} missing, ${changed} differing from etl's canonical rows, ${extra} not written by etl`,
  };
}

/** Every table's id sequence is past its largest id: the app's next insert cannot collide. */
export async function checkSequences(knex: Knex, app: string, projections: readonly Projection[]): Promise<Check> {
  const behind: string[] = [];
  for (const { table } of projections) {
    const { seq, max } = (await knex.raw(`select pg_get_serial_sequence('public."${table}"', 'id') as seq, coalesce((select max(id) from public."${table}"), 0) as max`)).rows[0];
    const { last } = (await knex.raw(`select case when is_called then last_value else last_value - 1 end as last from ${seq}`)).rows[0];
    const r = { max, last };
    if (Number(r.last ?? 0) < Number(r.max)) behind.push(`${table} (largest id ${r.max}, sequence at ${r.last})`);
  }
  return { name: `${app}'s id sequences are ahead of every id`, ok: behind.length === 0, detail: behind.length ? `behind: ${behind.join(', ')}` : `${projections.length} sequences` };
}
