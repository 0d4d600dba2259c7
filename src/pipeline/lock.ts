import type { Knex } from 'knex';
import { EtlError } from '../errors';

/** One advisory lock for all runs on a target: a second `etl run` is refused, not interleaved. */
export const RUN_LOCK_KEY = 0x45544c31; // "ETL1"

export interface RunLock {
  release(): Promise<void>;
}

/**
 * Held on a dedicated connection for the whole run; PostgreSQL frees it when the process dies.
 * A killed run's server session can linger until its current statement ends, hence a short wait
 * before refusing.
 */
export async function acquireRunLock(knex: Knex, waitMs = 5000, inTransaction = false): Promise<RunLock> {
  // Inside a transaction (a dry run) the lock is the transaction's: freed by its rollback, whatever happens.
  const lockFn = inTransaction ? 'pg_try_advisory_xact_lock' : 'pg_try_advisory_lock';
  const conn = await knex.client.acquireConnection();
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const res = await conn.query(`select ${lockFn}($1) as ok`, [RUN_LOCK_KEY]);
      if (res.rows[0].ok) break;
      if (Date.now() >= deadline) {
        throw new EtlError('RUN_LOCKED', 'Another etl run is in progress on this database; wait for it to finish, then run again.');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await knex.client.releaseConnection(conn);
    throw e;
  }
  return {
    async release() {
      try {
        if (!inTransaction) await conn.query('select pg_advisory_unlock($1)', [RUN_LOCK_KEY]);
      } finally {
        await knex.client.releaseConnection(conn);
      }
    },
  };
}
