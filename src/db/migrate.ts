import type { Knex } from 'knex';
import { migrationSource } from './migrations';

export const MIGRATION_TABLE = 'etl_migrations';

export async function migrateLatest(knex: Knex): Promise<string[]> {
  const [, applied] = (await knex.migrate.latest({ migrationSource, tableName: MIGRATION_TABLE })) as [number, string[]];
  return applied;
}

export async function migrateRollback(knex: Knex): Promise<string[]> {
  const [, undone] = (await knex.migrate.rollback({ migrationSource, tableName: MIGRATION_TABLE }, true)) as [number, string[]];
  return undone;
}

/** Names of the migrations the target has not applied yet; reads only (never creates the migrations table). */
export async function pendingMigrations(knex: Knex): Promise<string[]> {
  const all = await migrationSource.getMigrations([]);
  const exists = (await knex.raw('select to_regclass(?) as t', [MIGRATION_TABLE])).rows[0].t !== null;
  if (!exists) return all;
  const done = new Set((await knex(MIGRATION_TABLE).select('name')).map((r: { name: string }) => r.name));
  return all.filter((n) => !done.has(n));
}

/** Applies the pending migrations inside the caller's transaction without recording them (a dry run rolls them back). */
export async function migrateInTransaction(trx: Knex.Transaction): Promise<string[]> {
  const pending = await pendingMigrations(trx);
  for (const name of pending) await (await migrationSource.getMigration(name)).up(trx);
  return pending;
}
