/**
 * An application's own schema as a target holds it: created with the DDL of the app's Alembic head
 * on a database that has none of it, otherwise checked (Alembic revision, then every column etl
 * writes: type, width, NULL) before anything is written. etl's bookkeeping, canonical rows and id
 * map live in the schema "etl", out of Alembic's sight. Each target describes its app in one
 * `AppSchema`; this module does the rest.
 */
import type { Knex } from 'knex';
import { expandForRun } from '../src/db/evolve/apply';
import { migrateInTransaction, migrateLatest } from '../src/db/migrate';
import { EtlError } from '../src/errors';
import { type Check, checkForeignKeys, checkNoPlaintextSecrets } from '../src/verify/checks';
import type { Logger } from '../src/log';
import { count, ID_MAP_DDL, slimCanonicalMessages } from './projection';
import type { TargetSchema, VerifyContext } from './target';

/** A column etl writes: its PostgreSQL type (udt), the least width a varchar must allow, whether etl may write NULL. */
export interface AppColumn {
  udt: string;
  length?: number;
  nullable: boolean;
}

export const col = (udt: string, nullable = false): AppColumn => ({ udt, nullable });
export const varchar = (length: number, nullable = false): AppColumn => ({ udt: 'varchar', length, nullable });

export interface AppSchema {
  /** The application's name, for messages. */
  app: string;
  /** How the app creates its own schema, for the message that refuses a different one. */
  upgrade: string;
  /** Alembic revisions whose schema etl knows; the first is the one `ddl` creates. */
  revisions: readonly string[];
  /** The app's tables and indexes in schema public (the alembic_version table and row are added). */
  ddl: string;
  /** Table → column → what etl writes there. */
  needed: Readonly<Record<string, Readonly<Record<string, AppColumn>>>>;
  /** Enum types in public → the labels etl writes. */
  enums?: Readonly<Record<string, readonly string[]>>;
  /** Tables of etl's own this target needs in the schema "etl" (after the id map). */
  etlDdl?: readonly string[];
}

async function exists(knex: Knex, name: string): Promise<boolean> {
  return (await knex.raw('select to_regclass(?) as t', [name])).rows[0].t !== null;
}

async function revisionsOf(knex: Knex): Promise<string[]> {
  return (await knex.raw('select version_num from public.alembic_version')).rows.map((r: { version_num: string }) => r.version_num);
}

/** The first difference between the database's tables and the columns etl writes, or null. */
async function difference(knex: Knex, s: AppSchema): Promise<string | null> {
  const tables = Object.keys(s.needed);
  const rows: { table_name: string; column_name: string; udt_name: string; length: number | null; nullable: boolean }[] = (
    await knex.raw(
      `select table_name, column_name, udt_name, character_maximum_length as length, is_nullable = 'YES' as nullable
       from information_schema.columns where table_schema = 'public' and table_name = any(?)`,
      [tables],
    )
  ).rows;
  for (const table of tables) {
    const have = new Map(rows.filter((r) => r.table_name === table).map((r) => [r.column_name, r]));
    if (have.size === 0) return `public.${table} is missing`;
    for (const [column, need] of Object.entries(s.needed[table])) {
      const c = have.get(column);
      const at = `public.${table}.${column}`;
      if (!c) return `${at} is missing`;
      if (c.udt_name !== need.udt) return `${at} is ${c.udt_name}, etl writes ${need.udt}`;
      if (need.length !== undefined && c.length !== null && c.length < need.length) return `${at} holds ${c.length} characters, etl writes up to ${need.length}`;
      if (need.nullable && !c.nullable) return `${at} is NOT NULL, where etl writes NULL`;
    }
  }
  const enums: { name: string; labels: string[] }[] = (
    await knex.raw(
      `select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels
       from pg_type t join pg_enum e on e.enumtypid = t.oid where t.typnamespace = 'public'::regnamespace and t.typname = any(?) group by t.typname`,
      [Object.keys(s.enums ?? {})],
    )
  ).rows;
  for (const [name, labels] of Object.entries(s.enums ?? {})) {
    const lacking = labels.filter((l) => !(enums.find((e) => e.name === name)?.labels ?? []).includes(l));
    if (lacking.length) return `the enum public.${name} lacks ${lacking.join(', ')}`;
  }
  return null;
}

async function prepareApp(knex: Knex, s: AppSchema): Promise<string[]> {
  const refuse = (what: string): never => {
    throw new EtlError('TARGET_SCHEMA', `${what}; etl writes nothing into a ${s.app} schema it does not know (run ${s.upgrade}, or point etl at an empty database and it creates the schema).`);
  };
  const alembic = await exists(knex, 'public.alembic_version');
  if (alembic) {
    const revisions = await revisionsOf(knex);
    const unknown = revisions.filter((r) => !s.revisions.includes(r));
    if (unknown.length || revisions.length === 0) refuse(`The database's ${s.app} schema is at Alembic revision ${unknown.join(', ') || '(none)'}, which this etl does not know (it knows ${s.revisions.join(', ')})`);
  } else if (!(await Promise.all(Object.keys(s.needed).map((t) => exists(knex, `public.${t}`)))).some(Boolean)) {
    // The alembic_version row Alembic writes, so that the app's own `alembic upgrade head` finds the schema up to date.
    const version = `CREATE TABLE public.alembic_version (version_num VARCHAR(32) NOT NULL, CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num));
      INSERT INTO public.alembic_version (version_num) VALUES ('${s.revisions[0]}');`;
    await knex.transaction(async (trx) => void (await trx.raw(version + s.ddl)));
    return [`${s.app} schema (Alembic revision ${s.revisions[0]})`];
  }
  const diff = await difference(knex, s);
  if (diff) refuse(`The target is not ${s.app}'s schema as etl knows it: ${diff}`);
  return [];
}

/** The TargetSchema of an application: its own tables in public, etl's in the schema "etl". */
export function appSchema(s: AppSchema): TargetSchema {
  return {
    async prepare(knex: Knex, record: boolean, log?: Logger): Promise<string[]> {
      if (await exists(knex, 'public.etl_runs')) {
        throw new EtlError('USAGE', `This database holds etl's own schema (--target etl) in public; load ${s.app} into the database ${s.app} uses, or use a new database.`);
      }
      const created = await prepareApp(knex, s);
      await knex.raw('create schema if not exists etl');
      for (const ddl of [ID_MAP_DDL, ...(s.etlDdl ?? [])]) await knex.raw(ddl);
      const applied = record ? await migrateLatest(knex, log) : await migrateInTransaction(knex as Knex.Transaction);
      await slimCanonicalMessages(knex);
      return [...created, ...applied, ...(await expandForRun(knex, record, log))];
    },
  };
}

/** For `etl verify`: the app's Alembic revision is one etl knows. */
async function checkRevision(knex: Knex, s: AppSchema): Promise<Check> {
  const rows = await revisionsOf(knex);
  return { name: `${s.app}'s Alembic revision is one etl knows`, ok: rows.length === 1 && s.revisions.includes(rows[0]), detail: `alembic_version: ${rows.join(', ') || 'empty'}` };
}

/** For `etl verify`, every application target: a known Alembic revision, no orphan and no plaintext secret in public. */
export async function checkAppSchema(knex: Knex, s: AppSchema, ctx: VerifyContext): Promise<Check[]> {
  return [await checkRevision(knex, s), await checkForeignKeys(knex, 'public'), await checkNoPlaintextSecrets(knex, ctx.secrets, ctx.unread, 'public')];
}

/** For `etl verify`: a rule that holds when `sql` returns no row; the detail counts the rows that break it. */
export async function checkNone(knex: Knex, name: string, sql: string, what: string): Promise<Check> {
  const n = await count(knex, sql);
  return { name, ok: n === 0, detail: n ? `${n} ${what}` : 'holds' };
}
