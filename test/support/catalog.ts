import type { Knex } from 'knex';

/**
 * The catalog of schema public as one comparable value: each table's columns in order
 * (`name udt(len) [not null] [default …]`), each index (`[unique ]table(cols) method`), each
 * foreign key with its ON DELETE action (`a` none, `c` cascade). For schema tests that compare
 * what etl creates with a list written from the application's migrations.
 */
export async function publicCatalog(knex: Knex): Promise<{ columns: Record<string, string[]>; indexes: Record<string, string>; fks: string[] }> {
  const { rows: cols } = await knex.raw(
    `select table_name as t, column_name || ' ' || udt_name || coalesce('(' || character_maximum_length || ')', '')
            || case when is_nullable = 'NO' then ' not null' else '' end || coalesce(' default ' || column_default, '') as c
     from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
  );
  const columns: Record<string, string[]> = {};
  for (const r of cols as { t: string; c: string }[]) (columns[r.t] ??= []).push(r.c);
  const { rows: idx } = await knex.raw(
    `select ic.relname as name, concat(case when x.indisunique then 'unique ' end, tc.relname, '(',
            (select string_agg(a.attname, ', ' order by k.n) from unnest(x.indkey) with ordinality k(attnum, n)
             join pg_attribute a on a.attrelid = tc.oid and a.attnum = k.attnum), ') ', am.amname) as def
     from pg_index x join pg_class ic on ic.oid = x.indexrelid join pg_class tc on tc.oid = x.indrelid join pg_am am on am.oid = ic.relam
     where tc.relnamespace = 'public'::regnamespace`,
  );
  const { rows: fks } = await knex.raw(
    `select format('%s(%s) → %s(%s) %s', t.relname, a.attname, f.relname, fa.attname, c.confdeltype) as fk
     from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_class f on f.oid = c.confrelid
     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
     where c.contype = 'f' and c.connamespace = 'public'::regnamespace order by 1`,
  );
  return { columns, indexes: Object.fromEntries((idx as { name: string; def: string }[]).map((r) => [r.name, r.def])), fks: (fks as { fk: string }[]).map((r) => r.fk) };
}

/** Every row of each table as jsonb without the `omit` columns, in a stable order: two loads compare equal. */
export async function tableRows(knex: Knex, tables: readonly string[], omit: readonly string[]): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  const minus = omit.map((c) => ` - '${c}'`).join('');
  for (const t of tables) out[t] = (await knex.raw(`select r from (select to_jsonb(t)${minus} as r from public."${t}" t) x order by r::text`)).rows.map((r: { r: unknown }) => r.r);
  return out;
}

/** How many tables the schemas public and etl hold: unchanged by a refused run. */
export async function tableCount(knex: Knex): Promise<number> {
  return (await knex.raw("select count(*)::int as n from information_schema.tables where table_schema in ('public', 'etl')")).rows[0].n;
}
