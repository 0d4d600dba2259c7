/** How real PostgreSQL errors (raised by the server with the SQLSTATE of each fault) read for the user. */
import { databaseFault, errorFields, isTransient } from '../../src/db/faults';
import { withRetry } from '../../src/db/retry';
import { type FreshDatabase, freshDatabase } from '../support/db';

describe('database faults as one sentence', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(() => db.drop());

  /** The error of a statement that carries a bound value, raised by the server with `state`. */
  async function raised(state: string, message: string): Promise<unknown> {
    const sql = `do $$ begin if ? <> '' then raise exception using errcode = '${state}', message = '${message}'; end if; end $$`;
    return db.knex.raw(sql.replace('?', "'secret-bound-value'")).then(
      () => {
        throw new Error('did not fail');
      },
      (e: unknown) => e,
    );
  }

  test.each([
    ['53100', 'could not extend file "base/1/2": No space left on device', 'DB_DISK_FULL', /^The database ran out of disk space \(PostgreSQL: could not extend file "base\/1\/2": No space left on device\); free space/],
    ['57014', 'canceling statement due to statement timeout', 'DB_STATEMENT_TIMEOUT', /statement_timeout/],
    ['55P03', 'canceling statement due to lock timeout', 'DB_LOCK_TIMEOUT', /lock_timeout/],
    ['53200', 'out of memory', 'DB_RESOURCES', /ran out of a resource/],
    ['22012', 'division by zero', 'DB_ERROR', /^The database refused a statement \(PostgreSQL: division by zero, SQLSTATE 22012\)/],
    ['57P01', 'terminating connection due to administrator command', 'DB_CONNECTION_LOST', /^The database server closed the connection during the load/],
  ])('SQLSTATE %s', async (state, message, code, sentence) => {
    const e = await raised(state, message);
    expect(String((e as Error).message)).toMatch(/^do \$\$/); // knex puts the statement in front: it must not reach the user
    const fault = databaseFault(e)!;
    expect(fault.code).toBe(code);
    expect(fault.exitCode).toBe(1);
    expect(fault.message).toMatch(sentence);
    expect(fault.message).toMatch(/run the same command again/);
    expect(fault.message).not.toMatch(/secret-bound-value|raise exception|\bdo \$\$/);
    expect(JSON.stringify(errorFields(e))).not.toMatch(/secret-bound-value|\[object Object\]/);
  });

  test('connection faults, restarts, serialization failures and deadlocks are transient; the rest is not', async () => {
    for (const state of ['57P01', '57P02', '57P03', '40001', '40P01', '08006']) expect(isTransient(await raised(state, 'x'))).toBe(true);
    for (const state of ['53100', '57014', '55P03', '22012', '23505']) expect(isTransient(await raised(state, 'x'))).toBe(false);
    expect(isTransient(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(databaseFault(new TypeError('a bug'))).toBeUndefined();
  });

  test('withRetry retries a transient failure a bounded number of times, and a permanent one never', async () => {
    let tries = 0;
    const deadlock = await raised('40P01', 'deadlock detected');
    await expect(withRetry(async () => { tries++; throw deadlock; }, { what: 'test', tries: 3 })).rejects.toBe(deadlock);
    expect(tries).toBe(3);
    tries = 0;
    const full = await raised('53100', 'disk full');
    await expect(withRetry(async () => { tries++; throw full; }, { what: 'test' })).rejects.toBe(full);
    expect(tries).toBe(1);
    tries = 0;
    expect(await withRetry(async () => (++tries < 2 ? Promise.reject(deadlock) : 'done'), { what: 'test' })).toBe('done');
  });
});
