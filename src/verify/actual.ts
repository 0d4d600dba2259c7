/** The target side of `etl verify`: reads a table's rows in id order and hashes the checksum columns. */
import type { Knex } from 'knex';

const PAGE = 10_000;

export interface ActualRow {
  id: string;
  values: unknown[];
  etl_run_id: string | null;
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

/** The rows of `table` with ids in [lo, hi) (null: open), a page at a time (keyset on id), with `columns` in the source side's form. */
export async function* readRows(knex: Knex, table: string, columns: readonly string[], range: { lo: string | null; hi: string | null }): AsyncGenerator<ActualRow[]> {
  const types = await columnTypes(knex, table);
  const select = columns.map((c, i) => `${selectExpr(c, types.get(c))} as c${i}`).join(', ');
  const runId = types.has('etl_run_id') ? 'etl_run_id::text' : 'null::text';
  let after: string | null = null;
  for (;;) {
    const bounds: [string, string | null][] = [after === null ? ['id >= ?::uuid', range.lo] : ['id > ?::uuid', after], ['id < ?::uuid', range.hi]];
    const where = bounds.filter(([, v]) => v !== null);
    const bindings = where.map(([, v]) => v!);
    const res: { rows: Record<string, unknown>[] } = await knex.raw(
      `select id::text as _id, ${runId} as _run, ${select} from ${q(table)} ${where.length ? `where ${where.map(([sql]) => sql).join(' and ')}` : ''} order by id limit ${PAGE}`,
      bindings,
    );
    if (res.rows.length === 0) return;
    yield res.rows.map((r) => ({ id: r._id as string, etl_run_id: r._run as string | null, values: columns.map((_, i) => r[`c${i}`]) }));
    if (res.rows.length < PAGE) return;
    after = res.rows[res.rows.length - 1]._id as string;
  }
}
