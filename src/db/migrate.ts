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
