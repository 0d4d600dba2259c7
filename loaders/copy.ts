import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

const CHUNK_BYTES = 64 * 1024;
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/** One value in PostgreSQL's COPY text format. */
function encodeValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\\\t\n\r]/.test(s) ? s.replace(/[\\\t\n\r]/g, escapeChar) : s;
}

function escapeChar(c: string): string {
  switch (c) {
    case '\\':
      return '\\\\';
    case '\t':
      return '\\t';
    case '\n':
      return '\\n';
    default:
      return '\\r';
  }
}

/** Rows as COPY text in ~64 KiB chunks: one write per row was ~3× slower (research/libraries.md §5). */
function* encodeRows(rows: readonly object[], columns: readonly string[], ordinal?: (i: number) => number): Generator<string> {
  let chunk = '';
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as Record<string, unknown>;
    let line = ordinal ? String(ordinal(i)) + '\t' : '';
    for (let c = 0; c < columns.length; c++) line += (c ? '\t' : '') + encodeValue(row[columns[c]]);
    chunk += line + '\n';
    if (chunk.length >= CHUNK_BYTES) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** COPY rows into `table` (a staging table whose first column is `_ord`) on the given connection. */
export async function copyRows(client: PoolClient, table: string, columns: readonly string[], rows: readonly object[], ordinal: (i: number) => number): Promise<void> {
  const cols = ['_ord', ...columns].map((c) => `"${c}"`).join(', ');
  await pipeline(Readable.from(encodeRows(rows, columns, ordinal)), client.query(copyFrom(`COPY ${table} (${cols}) FROM STDIN`)));
}

/** Rows as one COPY text buffer (no ordinal column), for `copyBuffer`. */
export function copyText(rows: readonly object[], columns: readonly string[]): Buffer {
  return Buffer.from([...encodeRows(rows, columns)].join(''));
}

/**
 * COPY an encoded batch (`copyText`) into `table` on the given connection, written as one buffer: the
 * socket drains it without waiting for this thread, which meanwhile normalizes the next batch.
 */
export async function copyBuffer(client: PoolClient, table: string, columns: readonly string[], text: Buffer): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(', ');
  // Each write is one CopyData message, and the server refuses a message of 1 GiB or more.
  const pieces: Buffer[] = [];
  for (let at = 0; at < text.length; at += MAX_MESSAGE_BYTES) pieces.push(text.subarray(at, at + MAX_MESSAGE_BYTES));
  await pipeline(Readable.from(pieces), client.query(copyFrom(`COPY ${table} (${cols}) FROM STDIN`)));
}
