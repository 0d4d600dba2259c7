/** Reading the source file, shared by preflight and readers: checks, chunk size, chunked streaming. */
import * as fs from 'node:fs';
import { EtlError } from '../errors';
import { fsError, isDirectory } from './source-errors';
import type { ScanOptions } from './types';

const DEFAULT_CHUNK = 1 << 20;

export function chunkSizeOf(opts: ScanOptions | undefined): number {
  const c = opts?.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isInteger(c) || c < 1) throw new RangeError(`chunkSize must be a positive integer, got ${c}`);
  return c;
}

export async function statSource(path: string): Promise<fs.Stats> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    throw fsError(path, e);
  }
  if (st.isDirectory()) throw isDirectory(path);
  if (!st.isFile()) {
    throw new EtlError('SOURCE_UNREADABLE', `${path} is not a regular file; pass the path of the TinyDB database's .json file.`);
  }
  return st;
}

/** Feeds the file's bytes [range.start, range.end) (default: all) to onChunk, one chunk at a time (the next once its promise, if any, settles). */
export async function forEachChunk(
  path: string,
  chunkSize: number,
  onChunk: (chunk: Buffer) => void | Promise<void>,
  range?: { start: number; end: number },
): Promise<void> {
  const bounds = range ? { start: range.start, end: range.end - 1 } : {};
  const stream = fs.createReadStream(path, { ...bounds, highWaterMark: chunkSize });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) await onChunk(chunk);
  } catch (e) {
    throw fsError(path, e);
  } finally {
    stream.destroy();
  }
}
