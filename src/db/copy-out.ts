/**
 * `COPY (query) TO STDOUT` in PostgreSQL's text format, read as blocks of whole rows: verify reads
 * every text column of a table this way (one pass, no row objects), and decodes only what it needs;
 * a delta pass reads the digests of the last pass so (pg's row parsing cost it twice as much).
 */
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const BLOCK = 256 * 1024;
export const TAB = 9;
export const NEWLINE = 10;
const BACKSLASH = 92;

/** Blocks of complete rows (each ends with a newline), about BLOCK bytes each. */
export async function* copyOutBlocks(conn: PoolClient, sql: string): AsyncGenerator<Buffer> {
  let parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of conn.query(copyTo(sql)) as AsyncIterable<Buffer>) {
    parts.push(chunk);
    size += chunk.length;
    // Cut only where this chunk ends a row: a row larger than a block is gathered once, not re-joined per chunk.
    const last = chunk.lastIndexOf(NEWLINE);
    if (size < BLOCK || last === -1) continue;
    const buf = parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
    const cut = buf.length - (chunk.length - last - 1);
    yield buf.subarray(0, cut);
    parts = cut < buf.length ? [buf.subarray(cut)] : [];
    size = buf.length - cut;
  }
  if (size) yield parts.length === 1 ? parts[0] : Buffer.concat(parts, size);
}

/** A field is `\N` for NULL. */
export function isNull(buf: Buffer, start: number, end: number): boolean {
  return end - start === 2 && buf[start] === BACKSLASH && buf[start + 1] === 78;
}

const UNESCAPE: Record<string, string> = { b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };

/** A field's text as COPY TO escapes it (`\\`, `\b`, `\f`, `\n`, `\r`, `\t`, `\v`), unescaped. */
export function unescapeField(raw: string): string {
  return raw.includes('\\') ? raw.replace(/\\(.)/gs, (_, c: string) => UNESCAPE[c] ?? c) : raw;
}

/** A field's text value. */
export function fieldText(buf: Buffer, start: number, end: number): string {
  return unescapeField(buf.toString('utf8', start, end));
}

/** Whether a field holds a backslash (an escape): a byte match in it is confirmed on the decoded text. */
export function hasEscape(buf: Buffer, start: number, end: number): boolean {
  const i = buf.indexOf(BACKSLASH, start);
  return i !== -1 && i < end;
}

/** COPY TO's escaping of a value, so that a value's bytes can be looked for in COPY output. */
export function copyEscape(text: string): string {
  return text.replace(/[\\\b\f\n\r\t\v]/g, (c) => '\\' + ({ '\\': '\\', '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't', '\v': 'v' } as Record<string, string>)[c]);
}
