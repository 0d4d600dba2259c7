import type { Knex } from 'knex';
import type pg from 'pg';
import type { Logger } from '../log';
import { discardOnRelease } from './connect';
import { migrationSource } from './migrations';

export const MIGRATION_TABLE = 'etl_migrations';
/** knex's own lock row (`is_locked`), next to the migrations table. */
export const MIGRATION_LOCK_TABLE = `${MIGRATION_TABLE}_lock`;
/** Serializes every etl migrate on a target (etl run migrates too); not the run lock, which a run already holds. */
export const MIGRATE_LOCK_KEY = 0x45544c32; // "ETL2"

export async function migrateLatest(knex: Knex, log?: Logger): Promise<string[]> {
  return underMigrateLock(knex, log, async () => {
    const [, applied] = (await knex.migrate.latest({ migrationSource, tableName: MIGRATION_TABLE })) as [number, string[]];
    return applied;
  });
}

export async function migrateRollback(knex: Knex, log?: Logger): Promise<string[]> {
  return underMigrateLock(knex, log, async () => {
    const [, undone] = (await knex.migrate.rollback({ migrationSource, tableName: MIGRATION_TABLE }, true)) as [number, string[]];
    return undone;
  });
}

/**
 * knex marks its lock row `is_locked = 1` while it migrates. etl's migrations run in one
 * transaction with that mark, so a killed migrate rolls it back; but a migrate run without a
 * transaction (the knex CLI with disableTransactions, an older knex) that dies leaves it set, and
 * every later migrate would fail with "Migration table is already locked". Every etl migrate holds
 * MIGRATE_LOCK_KEY, so a mark seen while holding it belongs to a dead migrator and is cleared.
 */
export async function underMigrateLock<T>(knex: Knex, log: Logger | undefined, fn: () => Promise<T>): Promise<T> {
  const conn: pg.Client = await knex.client.acquireConnection();
  try {
    await conn.query('select pg_advisory_lock($1)', [MIGRATE_LOCK_KEY]);
    try {
      const exists = (await conn.query('select to_regclass($1) as t', [MIGRATION_LOCK_TABLE])).rows[0].t !== null;
      const cleared = exists ? (await conn.query(`update ${MIGRATION_LOCK_TABLE} set is_locked = 0 where is_locked = 1`)).rowCount : 0;
      if (cleared) log?.warn(`cleared a stale knex migration lock (${MIGRATION_LOCK_TABLE}.is_locked = 1) left by an interrupted migrate`);
      return await fn();
    } finally {
      await conn.query('select pg_advisory_unlock($1)', [MIGRATE_LOCK_KEY]).catch(() => discardOnRelease(conn, 'the migrate lock could not be released'));
    }
  } finally {
    await knex.client.releaseConnection(conn).catch(() => undefined);
  }
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
