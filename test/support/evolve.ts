/**
 * For the tests of `etl migrate`'s schema changes: a target as the previous release left it, the
 * schema as text (pg_dump --schema-only where a pg_dump of the server's major version or newer is
 * at hand, and always from the catalog), and checksums of the columns a target already had.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import type { Knex } from 'knex';

export { asPreviousRelease } from '../../bench/backfill';

/** A delta pass's digest set (src/pipeline/delta/sets.ts): a table of each load's data, not of the schema. */
const DIGEST_SET = /\betl_digest_\d+\b/;

/** Tables, columns, constraints, indexes, triggers and functions of the target's schema (digest sets aside), one per line, sorted. */
export async function catalogSchema(knex: Knex): Promise<string[]> {
  const rows = (
    await knex.raw(`
      with s as (select oid from pg_namespace where nspname = current_schema())
      select 'relation ' || c.relname || ' ' || c.relkind::text as l from pg_class c where c.relnamespace = (select oid from s) and c.relkind in ('r', 'v', 'S', 'p')
      union all
      select 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || case when a.attnotnull then ' not null' else '' end
             || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
      from pg_attribute a join pg_class c on c.oid = a.attrelid left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where c.relnamespace = (select oid from s) and c.relkind = 'r' and a.attnum > 0 and not a.attisdropped
      union all
      select 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid) from pg_constraint k join pg_class c on c.oid = k.conrelid where c.relnamespace = (select oid from s)
      union all
      select 'index ' || pg_get_indexdef(i.indexrelid) || case when i.indisvalid then '' else ' INVALID' end from pg_index i join pg_class c on c.oid = i.indexrelid where c.relnamespace = (select oid from s)
      union all
      select 'trigger ' || pg_get_triggerdef(t.oid) from pg_trigger t join pg_class c on c.oid = t.tgrelid where c.relnamespace = (select oid from s) and not t.tgisinternal
      union all
      select 'function ' || pg_get_functiondef(p.oid) from pg_proc p where p.pronamespace = (select oid from s)`)
  ).rows as { l: string }[];
  return rows.map((r) => r.l).filter((l) => !DIGEST_SET.test(l)).sort();
}

const PG_BINS = [process.env.PG_BIN, '/usr/lib/postgresql/18/bin', '/usr/lib/postgresql/17/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/15/bin'].filter((d): d is string => Boolean(d));

/**
 * `pg_dump --schema-only` of the database (digest sets aside), without the lines that name the dump itself, by a
 * pg_dump of the server's major version or newer (an older one refuses the server).
 */
export async function pgDumpSchema(knex: Knex, url: string): Promise<string> {
  const serverMajor = Math.floor(Number((await knex.raw('show server_version_num')).rows[0].server_version_num) / 10000);
  for (const dir of PG_BINS) {
    const bin = `${dir}/pg_dump`;
    if (!fs.existsSync(bin)) continue;
    const { stdout: v } = await promisify(execFile)(bin, ['--version']);
    if (Number(/(\d+)\./.exec(v)?.[1]) < serverMajor) continue;
    const { stdout } = await promisify(execFile)(bin, ['--schema-only', '--no-owner', '--no-privileges', '--exclude-table=etl_digest_*', '-d', url], { maxBuffer: 64 << 20 });
    return stdout
      .split('\n')
      .filter((l) => !/^-- Dumped (from|by)/.test(l) && !/^\\(un)?restrict /.test(l))
      .join('\n');
  }
  throw new Error(`no pg_dump of PostgreSQL ${serverMajor} or newer in ${PG_BINS.join(', ')} (set PG_BIN)`);
}

/** Row count and md5 of every row of `table` over `columns` (the columns the previous release had), in id order. */
export async function tableChecksum(knex: Knex, table: string, columns: readonly string[]): Promise<{ rows: number; md5: string }> {
  const cols = columns.map((c) => `t."${c}"`).join(', ');
  const r = (await knex.raw(`select count(*)::int as rows, coalesce(md5(string_agg(md5(row(${cols})::text), '' order by t.id)), '') as md5 from "${table}" t`)).rows[0];
  return { rows: r.rows, md5: r.md5 };
}

/** Checksums of every table of the target with an id, over the columns each has now. */
export async function targetChecksums(knex: Knex): Promise<Record<string, { columns: string[]; rows: number; md5: string }>> {
  const cols: { table_name: string; column_name: string }[] = (
    await knex.raw(
      `select c.table_name, c.column_name from information_schema.columns c
       where c.table_schema = current_schema() and exists (select 1 from information_schema.columns i where i.table_schema = c.table_schema and i.table_name = c.table_name and i.column_name = 'id')
       order by c.table_name, c.ordinal_position`,
    )
  ).rows;
  const byTable = new Map<string, string[]>();
  for (const c of cols) byTable.set(c.table_name, [...(byTable.get(c.table_name) ?? []), c.column_name]);
  const out: Record<string, { columns: string[]; rows: number; md5: string }> = {};
  for (const [table, columns] of byTable) out[table] = { columns, ...(await tableChecksum(knex, table, columns)) };
  return out;
}

/** The same checksums, now, over the columns `before` had (the new columns left out). */
export async function checksumsAgain(knex: Knex, before: Awaited<ReturnType<typeof targetChecksums>>): Promise<Awaited<ReturnType<typeof targetChecksums>>> {
  const out: Awaited<ReturnType<typeof targetChecksums>> = {};
  for (const [table, { columns }] of Object.entries(before)) out[table] = { columns, ...(await tableChecksum(knex, table, columns)) };
  return out;
}
