import { EtlError } from '../errors';
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
