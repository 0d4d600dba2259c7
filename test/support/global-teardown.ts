/** Stops and deletes the embedded PostgreSQL that global-setup started (nothing for TEST_DATABASE_URL). */
import { rm } from 'node:fs/promises';
import type { TestPgHandle } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const handle: TestPgHandle | undefined = globalThis.__ETL_TEST_PG__;
  globalThis.__ETL_TEST_PG__ = undefined;
  if (!handle) return;
  try {
    await handle.server?.stop();
  } finally {
    if (handle.tempDir) await rm(handle.tempDir, { recursive: true, force: true });
  }
}
