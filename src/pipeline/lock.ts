import type { Knex } from 'knex';
import type pg from 'pg';
import { discardOnRelease, networkTimeoutMs, severConnections } from '../db/connect';
import { connectionLost, notResponding } from '../db/faults';
import { withRetry } from '../db/retry';
import { EtlError } from '../errors';

/** One advisory lock for all runs on a target: a second `etl run` is refused, not interleaved. */
export const RUN_LOCK_KEY = 0x45544c31; // "ETL1"

export interface RunLock {
  /** Frees the lock; never throws (a dead connection freed it already), so it cannot hide the run's own error. */
  release(): Promise<void>;
  /** Set once the lock's connection died or the server stopped answering: the run must stop. */
  readonly lost: EtlError | undefined;
  /**
   * In a batch transaction, just before its commit: fails unless the server still sees this run's
   * session holding the lock. A lock that died with its connection is free for another run, and
   * a batch must then not commit (two writers).
   */
  assertHeld(trx: Knex.Transaction): Promise<void>;
}

const lockLost = () =>
  new EtlError('DB_CONNECTION_LOST', 'etl lost the database session that holds its run lock (server restart, terminated session or network fault), so it stopped rather than go on unlocked; committed batches are kept: run the same command again.');

/**
 * Held on a dedicated connection for the whole run; PostgreSQL frees it when the process dies.
 * A killed run's server session can linger until its current statement ends, hence a short wait
 * before refusing. A watchdog pings that connection: when it breaks or stays silent longer than
 * ETL_NETWORK_TIMEOUT, the lock is lost, every connection of the pool is cut (a batch hung on a
 * silent server fails at once) and the run stops with `lost` as its error.
 */
export async function acquireRunLock(knex: Knex, waitMs = 5000, inTransaction = false): Promise<RunLock> {
  // Inside a transaction (a dry run) the lock is the transaction's: freed by its rollback, whatever happens.
  const lockFn = inTransaction ? 'pg_try_advisory_xact_lock' : 'pg_try_advisory_lock';
  const timeoutMs = networkTimeoutMs(); // a bad setting fails before the lock is taken
  const conn: pg.Client = await withRetry(() => knex.client.acquireConnection(), { what: 'connecting' });
  let pid: number;
  try {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const res = await conn.query(`select ${lockFn}($1) as ok, pg_backend_pid() as pid`, [RUN_LOCK_KEY]);
      if (res.rows[0].ok) {
        pid = res.rows[0].pid;
        break;
      }
      if (Date.now() >= deadline) {
        throw new EtlError('RUN_LOCKED', 'Another etl run is in progress on this database; wait for it to finish, then run again.');
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  } catch (e) {
    await knex.client.releaseConnection(conn);
    throw e;
  }
  if (inTransaction) {
    return { lost: undefined, assertHeld: async () => undefined, release: () => knex.client.releaseConnection(conn) };
  }

  let lost: EtlError | undefined;
  let released = false;
  const lose = (err: EtlError): void => {
    if (lost || released) return;
    lost = err;
    clearInterval(timer);
    severConnections(knex);
  };
  const onError = (e: unknown) => lose(connectionLost(e));
  const onEnd = () => lose(lockLost());
  conn.on('error', onError);
  conn.on('end', onEnd);

  let pinging = false;
  const timer = setInterval(() => {
    if (pinging) return;
    pinging = true;
    const silent = setTimeout(() => lose(notResponding(timeoutMs / 1000)), timeoutMs);
    conn
      .query('select 1')
      .catch((e: unknown) => lose(connectionLost(e)))
      .finally(() => {
        clearTimeout(silent);
        pinging = false;
      });
  }, Math.max(100, Math.floor(timeoutMs / 4)));
  timer.unref();

  return {
    get lost() {
      return lost;
    },
    async assertHeld(trx) {
      if (lost) throw lost;
      const res = await trx.raw(
        "select exists (select 1 from pg_locks where locktype = 'advisory' and classid = 0 and objid = ? and objsubid = 1 and pid = ? and granted) as held",
        [RUN_LOCK_KEY, pid],
      );
      if (!res.rows[0].held) throw lockLost();
    },
    async release() {
      released = true;
      clearInterval(timer);
      conn.off('end', onEnd);
      conn.off('error', onError);
      try {
        await conn.query('select pg_advisory_unlock($1)', [RUN_LOCK_KEY]);
      } catch {
        // The session is gone or broken, and its lock with it: close the connection, never pool it.
        discardOnRelease(conn, 'the run lock could not be released');
      }
      await knex.client.releaseConnection(conn).catch(() => undefined);
    },
  };
}
