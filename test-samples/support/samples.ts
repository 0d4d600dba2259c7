import fs from 'node:fs';
import path from 'node:path';

/**
 * The real legacy files live beside the project (`../shared/legacy-samples`, in CI too); they are
 * never copied in. Only `npm run test:samples` reads them: `npm test` covers the same formats and
 * quirks with the fixtures in `fixtures/`.
 */
export const SAMPLES = path.resolve(__dirname, '../../../shared/legacy-samples');

/** The one sentence `npm run test:samples` fails with when the folder is absent. */
export const SAMPLES_MISSING = `The real legacy samples are expected at ${SAMPLES} (a folder \`shared/legacy-samples\` beside the project); npm test needs none of them.`;

/** Path of a real sample; a missing file fails its test, saying where it is expected. */
export function sample(...parts: string[]): string {
  const p = path.join(SAMPLES, ...parts);
  if (!fs.existsSync(p)) throw new Error(`The real legacy sample ${p} is missing: ${SAMPLES_MISSING}`);
  return p;
}
