/**
 * Running a step's DDL next to live writers: every statement waits at most a few seconds for its
 * lock and is retried (a writer's batch commits in between), so a waiting ALTER never queues the
 * writers behind it for long. Indexes are built CONCURRENTLY on a connection of their own; a build
 * killed half-way leaves an invalid index, which is dropped and built again.
 */
import type { Knex } from 'knex';
import type pg from 'pg';
import type { Logger } from '../../log';
import type { Ddl, StepContext } from './change';

const LOCK_TIMEOUT = '3s';
const ATTEMPTS = 40;
const RETRYABLE = new Set(['55P03', '40P01']); // lock_not_available, deadlock_detected

export async function withRetry<T>(what: string, log: Logger | undefined, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (!code || !RETRYABLE.has(code) || attempt >= ATTEMPTS) throw e;
      log?.debug({ what, attempt, code }, 'waiting for writers: retrying');
      await new Promise((r) => setTimeout(r, Math.min(2000, 50 * attempt)));
    }
  }
}

async function onOwnConnection<T>(knex: Knex, fn: (conn: pg.Client) => Promise<T>): Promise<T> {
  const conn: pg.Client = await knex.client.acquireConnection();
  try {
    await conn.query(`set lock_timeout = '${LOCK_TIMEOUT}'`);
    return await fn(conn);
  } finally {
    await conn.query('reset lock_timeout').catch(() => undefined);
    await knex.client.releaseConnection(conn).catch(() => undefined);
  }
}

/** `create index concurrently if not exists <name> …` without CONCURRENTLY, for a transaction. */
const inTransaction = (sql: string): string => sql.replace(/\s+concurrently\b/i, '');

export async function runDdl(knex: Knex, statements: readonly Ddl[], ctx: StepContext, log?: Logger): Promise<void> {
  if (!ctx.concurrently) {
    for (const s of statements) await knex.raw(typeof s === 'string' ? s : inTransaction(s.sql));
    return;
  }
  // Each statement commits on its own: a VALIDATE scans under a lock writers pass, and the
  // brief ACCESS EXCLUSIVE of an ALTER is not held through it.
  for (const s of statements) {
    if (typeof s === 'string') {
      await withRetry('ddl', log, () => onOwnConnection(knex, (conn) => conn.query(s)));
      continue;
    }
    await withRetry(s.concurrentIndex, log, () =>
      onOwnConnection(knex, async (conn) => {
        const invalid = (await conn.query('select 1 from pg_index i where i.indexrelid = to_regclass($1) and not i.indisvalid', [s.concurrentIndex])).rowCount;
        if (invalid) await conn.query(`drop index concurrently if exists ${s.concurrentIndex}`);
        await conn.query(s.sql);
      }),
    );
  }
}

const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/** ADD CONSTRAINT once (PostgreSQL has no IF NOT EXISTS for it). */
export function addConstraint(table: string, name: string, definition: string): string {
  return `do $$ begin
    if not exists (select 1 from pg_constraint where conname = ${lit(name)} and conrelid = to_regclass(${lit(table)})) then
      alter table ${table} add constraint ${name} ${definition};
    end if;
  end $$`;
}

/**
 * SET NOT NULL without holding writers through a scan: a NOT VALID check (brief lock), validated
 * (a scan under a lock writers pass), then SET NOT NULL, which trusts the valid check; the check is dropped.
 */
export function setNotNull(table: string, column: string): string[] {
  const check = `${table}_${column}_not_null`;
  return [
    addConstraint(table, check, `check (${column} is not null) not valid`),
    `alter table ${table} validate constraint ${check}`,
    `alter table ${table} alter column ${column} set not null`,
    `alter table ${table} drop constraint if exists ${check}`,
  ];
}
