import fs from 'node:fs';
import path from 'node:path';

/** The real legacy files live beside the project (../shared), in CI too; they are never copied in. */
export const SAMPLES = path.resolve(__dirname, '../../../shared/legacy-samples');

/**
 * Path of a real sample. When the folder is absent the test fails with a message that says where
 * it is expected, rather than silently passing.
 */
export function sample(...parts: string[]): string {
  const p = path.join(SAMPLES, ...parts);
  if (!fs.existsSync(p)) throw new Error(`real legacy sample ${p} is missing: these tests need ../shared/legacy-samples next to the project (CI has it there)`);
  return p;
}

export const samplesPresent = fs.existsSync(SAMPLES);
