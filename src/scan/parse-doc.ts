import { EtlError } from '../errors';
import { findStructureProblem } from './json-structure';
import { locateJsonError, patchPythonJson, type PatchCounts } from './json-text';
import { corrupt, q } from './source-errors';

/**
 * JSON.parse of one document slice; the Python-ism path only for flagged slices. Throws the
 * SOURCE_CORRUPT error (with the exact byte offset where it can be found) on invalid JSON.
 */
export function parseDoc(
  path: string,
  table: string,
  id: string,
  buf: Buffer,
  a: number,
  b: number,
  offset: number,
  flags: number,
  counts: PatchCounts,
): Record<string, unknown> {
  let text: string;
  try {
    text = buf.toString('utf8', a, b);
  } catch {
    throw new EtlError(
      'SOURCE_UNREADABLE',
      `${path} has a document too large to read (table ${q(table)}, document ${q(id)}, ${b - a} bytes at byte ${offset}); etl reads documents of up to 512 MiB.`,
    );
  }
  try {
    return JSON.parse(flags === 0 ? text : patchPythonJson(text, counts)) as Record<string, unknown>;
  } catch (e) {
    const where = `in table ${q(table)}, document ${q(id)}`;
    const at = locateJsonError(text);
    if (at) {
      const byte = offset + Buffer.byteLength(text.slice(0, at.pos), 'utf8');
      throw corrupt(path, byte, `${at.reason} ${where}`);
    }
    // JSON.parse and the locator disagree: report the document's start and a sanitized reason
    // (V8's message may quote document text, which can hold secrets).
    const m = /^(.*?) in JSON at position/.exec((e as Error).message);
    throw corrupt(path, offset, `${m ? m[1] : 'invalid JSON'} ${where}`);
  }
}

/**
 * Own keys of every object in a parsed document (the scanner has bounded its depth). Loops without
 * allocating: this runs on every document of the preflight. JSON.parse's objects inherit no
 * enumerable keys, so for-in sees exactly their own.
 */
function keyCount(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  let n = 0;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) n += keyCount(v[i]);
    return n;
  }
  const o = v as Record<string, unknown>;
  for (const k in o) n += 1 + keyCount(o[k]);
  return n;
}

/**
 * Refuses a document with a key twice in one object, as the JSON readers do: Python's json (and
 * JSON.parse) would silently keep only the last value. `keys` is how many keys the scanner saw in
 * the text; the parsed document has fewer exactly when one repeats, and only then is the text
 * searched for where.
 */
export function assertUniqueKeys(path: string, table: string, id: string, buf: Buffer, a: number, b: number, offset: number, doc: unknown, keys: number): void {
  if (keyCount(doc) === keys) return;
  const text = buf.toString('utf8', a, b);
  const p = findStructureProblem(text);
  const where = `in table ${q(table)}, document ${q(id)}`;
  if (p?.kind !== 'duplicate') throw new EtlError('SOURCE_CORRUPT', `${path} has a key twice in one object ${where} (byte ${offset}); remove or rename one and run again, nothing was written.`);
  const byte = (o: number) => offset + Buffer.byteLength(text.slice(0, o), 'utf8');
  throw new EtlError(
    'SOURCE_CORRUPT',
    `${path} has the key ${q(p.key)} twice in one object ${where}, at byte ${byte(p.offset)} (first at byte ${byte(p.firstOffset)}); TinyDB would silently keep only the last value, so remove or rename one and run again, nothing was written.`,
  );
}

/** The preflight's check of one document: it parses, and no object has a key twice. */
export function checkDoc(path: string, table: string, id: string, buf: Buffer, a: number, b: number, offset: number, flags: number, keys: number, counts: PatchCounts): void {
  assertUniqueKeys(path, table, id, buf, a, b, offset, parseDoc(path, table, id, buf, a, b, offset, flags, counts), keys);
}
