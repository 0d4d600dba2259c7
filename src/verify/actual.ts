/** The target side of `etl verify`: reads a table's rows in id order with the hash of their checksum columns. */
import type { Knex } from 'knex';
import { rowHash } from './rowhash';

const PAGE = 10_000;

export interface ActualRow {
  id: string;
  etl_run_id: string | null;
  /** rowhash.ts's hash of the checksum columns. */
  hash: string;
}

function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
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

/**
 * Every row of `table`, a page at a time (keyset on id), each with
 * the hash of `columns` in the source side's form: computed by PostgreSQL where every column is a
 * plain scalar (only ids and hashes cross the wire), else here from the values (jsonb columns).
 */
export async function* readRows(knex: Knex, table: string, columns: readonly string[]): AsyncGenerator<ActualRow[]> {
  const types = await columnTypes(knex, table);
  const values = columns.map((c) => selectExpr(c, types.get(c)));
  const inSql = columns.every((c) => HASHED_IN_SQL.has(types.get(c) ?? ''));
  const select = inSql ? `md5(convert_to(json_build_array(${values.join(', ')})::text, 'UTF8')) as _hash` : values.map((v, i) => `${v} as c${i}`).join(', ');
  const runId = types.has('etl_run_id') ? 'etl_run_id::text' : 'null::text';
  let after: string | null = null;
  for (;;) {
    const res: { rows: Record<string, unknown>[] } = await knex.raw(
      `select id::text as _id, ${runId} as _run, ${select} from ${q(table)} ${after === null ? '' : 'where id > ?::uuid'} order by id limit ${PAGE}`,
      after === null ? [] : [after],
    );
    if (res.rows.length === 0) return;
    yield res.rows.map((r) => ({
      id: r._id as string,
      etl_run_id: r._run as string | null,
      hash: inSql ? Buffer.from(r._hash as string, 'hex').toString('latin1') : rowHash(columns.map((_, i) => r[`c${i}`])),
    }));
    if (res.rows.length < PAGE) return;
    after = res.rows[res.rows.length - 1]._id as string;
  }
}
