/**
 * ChatCore's schema: created with its Alembic revision's DDL on a database that has none of it,
 * otherwise checked (tables, columns, types, enum labels, Alembic revision) before anything is
 * written. etl's bookkeeping and canonical rows live in the schema "etl", out of Alembic's sight.
 */
import type { Knex } from 'knex';
import { migrateInTransaction, migrateLatest } from '../../src/db/migrate';
import { EtlError } from '../../src/errors';
import type { Logger } from '../../src/log';
import type { TargetSchema } from '../target';
import { CHATCORE_DDL, KNOWN_REVISIONS, NEEDED, NEEDED_ENUMS, type NeededColumn } from './ddl';
import { ID_MAP_DDL, slimCanonicalMessages } from '../projection';

interface CatalogColumn {
  table_name: string;
  column_name: string;
  udt_name: string;
  length: number | null;
  nullable: boolean;
}

const fail = (difference: string): never => {
  throw new EtlError('TARGET_SCHEMA', `${difference}; etl writes nothing into a ChatCore schema it does not know (run ChatCore's \`alembic upgrade head\`, or point etl at an empty database and it creates the schema).`);
};

function typeName(c: NeededColumn): string {
  return c.length === undefined ? c.udt : `${c.udt}(${c.length})`;
}

/** The first difference between the database's ChatCore tables and what etl writes, or null. */
async function difference(knex: Knex): Promise<string | null> {
  const tables = Object.keys(NEEDED);
  const rows: CatalogColumn[] = (
    await knex.raw(
      `select table_name, column_name, udt_name, character_maximum_length as length, is_nullable = 'YES' as nullable
       from information_schema.columns where table_schema = 'public' and table_name = any(?)`,
      [tables],
    )
  ).rows;
  for (const table of tables) {
    const have = new Map(rows.filter((r) => r.table_name === table).map((r) => [r.column_name, r]));
    if (have.size === 0) return `the database has ChatCore tables but no public.${table}`;
    for (const [column, need] of Object.entries(NEEDED[table])) {
      const c = have.get(column);
      const where = `public.${table}.${column}`;
      if (!c) return `${where} is missing`;
      if (c.udt_name !== need.udt) return `${where} is ${c.udt_name}, etl writes ${typeName(need)}`;
      if (need.length !== undefined && c.length !== null && c.length < need.length) return `${where} is ${c.udt_name}(${c.length}), etl writes up to ${need.length} characters`;
      if (need.nullable && !c.nullable) return `${where} is NOT NULL, where etl writes NULL for a value the source lacks`;
    }
  }
  const enums: { name: string; labels: string[] }[] = (
    await knex.raw(
      `select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
       from pg_type t join pg_enum e on e.enumtypid = t.oid join pg_namespace n on n.oid = t.typnamespace
       where n.nspname = 'public' and t.typname = any(?) group by t.typname`,
      [Object.keys(NEEDED_ENUMS)],
    )
  ).rows;
  for (const [name, labels] of Object.entries(NEEDED_ENUMS)) {
    const have = enums.find((e) => e.name === name)?.labels ?? [];
    const lacking = labels.filter((l) => !have.includes(l));
    if (lacking.length) return `the enum public.${name} lacks ${lacking.join(', ')}`;
  }
  return null;
}

async function exists(knex: Knex, name: string): Promise<boolean> {
  return (await knex.raw('select to_regclass(?) as t', [name])).rows[0].t !== null;
}

/** Creates ChatCore's schema on an empty database, or checks the one there. Returns what it created. */
async function prepareApp(knex: Knex): Promise<string[]> {
  const present = await Promise.all(Object.keys(NEEDED).map((t) => exists(knex, `public.${t}`)));
  const alembic = await exists(knex, 'public.alembic_version');
  if (alembic) {
    const revisions: string[] = (await knex.raw('select version_num from public.alembic_version')).rows.map((r: { version_num: string }) => r.version_num);
    const unknown = revisions.filter((r) => !KNOWN_REVISIONS.includes(r));
    if (unknown.length || revisions.length === 0) fail(`The database's ChatCore schema is at Alembic revision ${unknown.join(', ') || '(none)'}, which this etl does not know (it knows ${KNOWN_REVISIONS.join(', ')})`);
  }
  if (!alembic && !present.some(Boolean)) {
    await knex.transaction(async (trx) => void (await trx.raw(CHATCORE_DDL)));
    return [`ChatCore schema (Alembic revision ${KNOWN_REVISIONS[0]})`];
  }
  const diff = await difference(knex);
  if (diff) fail(`The target is not ChatCore's schema as etl knows it: ${diff}`);
  return [];
}

export const chatcoreSchema: TargetSchema = {
  async prepare(knex: Knex, record: boolean, log?: Logger): Promise<string[]> {
    if (await exists(knex, 'public.etl_runs')) {
      throw new EtlError('USAGE', "This database holds etl's own schema (--target etl) in public; load ChatCore into the database ChatCore uses, or use a new database.");
    }
    const created = await prepareApp(knex);
    await knex.raw('create schema if not exists etl');
    await knex.raw(ID_MAP_DDL);
    const applied = record ? await migrateLatest(knex, log) : await migrateInTransaction(knex as Knex.Transaction);
    await slimCanonicalMessages(knex);
    return [...created, ...applied];
  },
};
