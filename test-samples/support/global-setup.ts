/**
 * `npm run test:samples` fails before starting PostgreSQL when the real samples are absent: one
 * sentence, not one failure per test.
 */
import fs from 'node:fs';
import startTestServer from '../../test/support/global-setup';
import { SAMPLES, SAMPLES_MISSING } from './samples';

export default async function globalSetup(): Promise<void> {
  if (!fs.existsSync(SAMPLES)) {
    process.stderr.write(`${SAMPLES_MISSING}\n`);
    process.exit(1);
  }
  await startTestServer();
}
