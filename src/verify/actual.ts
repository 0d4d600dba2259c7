/** The target side of `etl verify`: reads a table's rows in id order with the hash of their checksum columns. */
import type { Knex } from 'knex';
import { rowHash } from './rowhash';
import { escapeIdentifier as q } from 'pg';

const PAGE = 10_000;

export interface ActualRow {
  id: string;
  etl_run_id: string | null;
  /** rowhash.ts's hash of the checksum columns. */
  hash: string;
}

/** Column types of a table in the current schema. */
async function columnTypes(knex: Knex, table: string): Promise<Map<string, string>> {
  const res = await knex.raw('select column_name, data_type from information_schema.columns where table_schema = current_schema() and table_name = ?', [table]);
  return new Map(res.rows.map((r: { column_name: string; data_type: string }) => [r.column_name, r.data_type]));
}

/** A column as the source side writes it: timestamps as `YYYY-MM-DDTHH:MM:SS.ffffffZ`, uuids as text. */
function selectExpr(column: string, type: string | undefined): string {
  if (type === 'timestamp with time zone') return `to_char(${q(column)} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
  if (type === 'uuid') return `${q(column)}::text`;
  return q(column);
}

/** Types whose json_build_array text is JSON.stringify's of the source side's value: such rows are hashed by the server. */
const HASHED_IN_SQL = new Set(['text', 'character varying', 'uuid', 'timestamp with time zone', 'integer', 'smallint', 'boolean']);

/** What the table side reads: the select list of a table's checksum columns, and whether the server hashes them. */
async function hashSelect(knex: Knex, table: string, columns: readonly string[]): Promise<{ inSql: boolean; select: string; runId: string }> {
  const types = await columnTypes(knex, table);
  const values = columns.map((c) => selectExpr(c, types.get(c)));
  const inSql = columns.every((c) => HASHED_IN_SQL.has(types.get(c) ?? ''));
  return {
    inSql,
    select: inSql ? `md5(convert_to(json_build_array(${values.join(', ')})::text, 'UTF8'))` : values.map((v, i) => `${v} as c${i}`).join(', '),
    runId: types.has('etl_run_id') ? 'etl_run_id::text' : 'null::text',
  };
}

/**
 * The query giving every row of `table` in id order as (id, etl_run_id, md5 hex of the checksum
 * columns in the source side's form), or null when the server cannot hash them (a jsonb column:
 * `readRows` then hashes here). Only ids and hashes cross the wire.
 */
export async function hashedRowsQuery(knex: Knex, table: string, columns: readonly string[]): Promise<string | null> {
  const { inSql, select, runId } = await hashSelect(knex, table, columns);
  return inSql ? `select id::text, ${runId}, ${select} from ${q(table)} order by id` : null;
}

/** Every row of `table`, a page at a time (keyset on id), each with the hash of `columns` computed here from their values. */
export async function* readRows(knex: Knex, table: string, columns: readonly string[]): AsyncGenerator<ActualRow[]> {
  const { select, runId } = await hashSelect(knex, table, columns);
  let after: string | null = null;
  for (;;) {
    const res: { rows: Record<string, unknown>[] } = await knex.raw(
      `select id::text as _id, ${runId} as _run, ${select} from ${q(table)} ${after === null ? '' : 'where id > ?::uuid'} order by id limit ${PAGE}`,
      after === null ? [] : [after],
    );
    if (res.rows.length === 0) return;
    yield res.rows.map((r) => ({ id: r._id as string, etl_run_id: r._run as string | null, hash: rowHash(columns.map((_, i) => r[`c${i}`])) }));
    if (res.rows.length < PAGE) return;
    after = res.rows[res.rows.length - 1]._id as string;
  }
}
