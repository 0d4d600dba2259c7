import * as fs from 'node:fs';
import { EtlError } from '../errors';
import { shortDigest } from '../short-digest';
import type { PatchCounts } from './json-text';
import { parseDoc } from './parse-doc';
import { Scanner, type Sink } from './scanner';
import { changed, fsError, q } from './source-errors';
import { chunkSizeOf, statSource } from './source-file';
import {
  TINYDB_SEEK_EVERY,
  type ReadOptions,
  type TinyDbDoc,
  type TinyDbIndex,
  type TinyDbOrder,
  type TinyDbTable,
} from './types';

async function checkUnchanged(index: TinyDbIndex): Promise<void> {
  let st: fs.Stats;
  try {
    st = await statSource(index.path);
  } catch (e) {
    if (e instanceof EtlError && e.code === 'SOURCE_NOT_FOUND') throw changed(index.path, 'it was removed or renamed');
    throw e;
  }
  if (st.size !== index.size || st.mtimeMs !== index.mtimeMs || st.ctimeMs !== index.ctimeMs || st.ino !== index.ino) {
    throw changed(index.path, `its size, modification time or inode differs from the preflight's`);
  }
}

/**
 * A document as the reader yields it: its bytes are parsed, or hashed, only when first asked for,
 * so a delta pass recognises an unchanged document without parsing it. The preflight has parsed
 * every document already, so a late parse cannot fail on valid input.
 */
class ReadDoc implements TinyDbDoc {
  readonly #path: string;
  /** The document's slice of its read chunk; let go once parsed and hashed, so the chunk can be freed. */
  #bytes: Buffer | null;
  readonly #flags: number;
  readonly #counts: PatchCounts;
  #parsed: Record<string, unknown> | undefined;
  #digest: string | undefined;

  constructor(path: string, readonly table: string, readonly id: string, readonly ordinal: number, readonly offset: number, bytes: Buffer, flags: number, counts: PatchCounts) {
    this.#path = path;
    this.#bytes = bytes;
    this.#flags = flags;
    this.#counts = counts;
  }

  get doc(): Record<string, unknown> {
    if (this.#parsed === undefined) {
      const b = this.#bytes!;
      this.#parsed = parseDoc(this.#path, this.table, this.id, b, 0, b.length, this.offset, this.#flags, this.#counts);
      if (this.#digest !== undefined) this.#bytes = null;
    }
    return this.#parsed;
  }

  get digest(): string {
    if (this.#digest === undefined) {
      this.#digest = shortDigest(this.#bytes!);
      if (this.#parsed !== undefined) this.#bytes = null;
    }
    return this.#digest;
  }
}

/**
 * Streams one table's documents in stable order, from ordinal `fromOrdinal` on, as arrays of up
 * to `maxDocs` documents. Skipped documents are scanned but not parsed (ordered tables start at
 * the nearest seek point; unordered ones jump straight to the ordinal). Reads one chunk at a
 * time and only while the consumer asks for more: no read-ahead beyond one chunk.
 */
export async function* readTinyDbTable(
  index: TinyDbIndex,
  table: string,
  fromOrdinal: number,
  opts?: ReadOptions,
): AsyncGenerator<TinyDbDoc[], void, undefined> {
  const t = index.tables.find((x) => x.name === table);
  if (!t) {
    const names = index.tables.map((x) => q(x.name)).join(', ') || 'none';
    throw new EtlError('UNKNOWN_TABLE', `${index.path} has no table ${q(table)} (its tables: ${names}); pick one of those and run again.`);
  }
  if (!Number.isInteger(fromOrdinal) || fromOrdinal < 0) throw new RangeError(`fromOrdinal must be a non-negative integer, got ${fromOrdinal}`);
  const maxDocs = opts?.maxDocs ?? 1000;
  if (!Number.isInteger(maxDocs) || maxDocs < 1) throw new RangeError(`maxDocs must be a positive integer, got ${maxDocs}`);
  const chunkSize = chunkSizeOf(opts);
  if (fromOrdinal >= t.count) return;
  await checkUnchanged(index);
  if (t.order) yield* readByOrder(index, t, t.order, fromOrdinal, maxDocs, chunkSize);
  else if (t.ordered) yield* readByScan(index, t, fromOrdinal, maxDocs, chunkSize);
  else throw new Error(`table ${q(t.name)} is not in stable order and has no sorted index: pass the table object from preflightTinyDb, not a copy`);
}

async function* readByScan(
  index: TinyDbIndex,
  t: TinyDbTable,
  from: number,
  maxDocs: number,
  chunkSize: number,
): AsyncGenerator<TinyDbDoc[], void, undefined> {
  const path = index.path;
  const seek = t.seek ?? [];
  const m = Math.min(Math.floor(from / TINYDB_SEEK_EVERY), seek.length);
  const start = m > 0 ? seek[m - 1] : t.start;
  let ordinal = m * TINYDB_SEEK_EVERY;
  const counts: PatchCounts = { nonFinite: 0, bigInts: 0 };
  let out: TinyDbDoc[] = [];
  const sink: Sink = {
    tableStart() {},
    tableEnd() {},
    doc(id, _keyOffset, buf, a, b, offset, flags) {
      if (ordinal >= from) {
        // The scanner never reuses a chunk's memory: the slice stays valid while the document lives.
        out.push(new ReadDoc(path, t.name, id, ordinal, offset, buf.subarray(a, b), flags, counts));
      }
      ordinal++;
    },
  };
  const scanner = Scanner.forTable(path, sink, t.name, start, m > 0);
  const stream = fs.createReadStream(path, { start, end: t.end - 1, highWaterMark: chunkSize });
  try {
    const it = (stream as AsyncIterable<Buffer>)[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<Buffer>;
      try {
        r = await it.next();
      } catch (e) {
        throw fsError(path, e);
      }
      if (r.done) break;
      scanner.push(r.value);
      if (out.length >= maxDocs) {
        let k = 0;
        for (; out.length - k >= maxDocs; k += maxDocs) yield out.slice(k, k + maxDocs);
        out = out.slice(k);
      }
    }
  } finally {
    stream.destroy();
  }
  scanner.end();
  if (ordinal !== t.count) throw changed(path, `table ${q(t.name)} now has ${ordinal} documents, not ${t.count}`);
  if (out.length) yield out;
}

/** Bytes one positioned read may span to fetch several documents of an unordered table at once. */
const ORDER_SPAN = 4 << 20;

async function* readByOrder(
  index: TinyDbIndex,
  t: TinyDbTable,
  order: TinyDbOrder,
  from: number,
  maxDocs: number,
  chunkSize: number,
): AsyncGenerator<TinyDbDoc[], void, undefined> {
  const path = index.path;
  const counts: PatchCounts = { nonFinite: 0, bigInts: 0 };
  const { offsets, lengths, numIds, textIds, flags } = order;
  let fh: fs.promises.FileHandle;
  try {
    fh = await fs.promises.open(path, 'r');
  } catch (e) {
    throw fsError(path, e);
  }
  let scratch = Buffer.allocUnsafe(Math.max(chunkSize, 64 << 10));
  try {
    let k = from;
    while (k < t.count) {
      const batchEnd = Math.min(t.count, k + maxDocs);
      const batch: TinyDbDoc[] = [];
      while (k < batchEnd) {
        // group the next documents whose bytes lie within one span: one read for all of them
        let lo = offsets[k];
        let hi = lo + lengths[k];
        let g = k + 1;
        while (g < batchEnd) {
          const nlo = Math.min(lo, offsets[g]);
          const nhi = Math.max(hi, offsets[g] + lengths[g]);
          if (nhi - nlo > ORDER_SPAN) break;
          lo = nlo;
          hi = nhi;
          g++;
        }
        const span = hi - lo;
        if (span > scratch.length) scratch = Buffer.allocUnsafe(span);
        let got = 0;
        while (got < span) {
          let r: { bytesRead: number };
          try {
            r = await fh.read(scratch, got, span - got, lo + got);
          } catch (e) {
            throw fsError(path, e);
          }
          if (r.bytesRead === 0) throw changed(path, 'it is shorter than before');
          got += r.bytesRead;
        }
        for (; k < g; k++) {
          const a = offsets[k] - lo;
          const b = a + lengths[k];
          if (scratch[a] !== 0x7b || scratch[b - 1] !== 0x7d) throw changed(path, `no document at byte ${offsets[k]}`);
          const id = numIds[k] >= 0 ? String(numIds[k]) : textIds.get(k)!;
          // A copy: the scratch buffer is read into again for the next span.
          batch.push(new ReadDoc(path, t.name, id, k, offsets[k], Buffer.from(scratch.subarray(a, b)), flags[k], counts));
        }
      }
      yield batch;
    }
  } finally {
    await fh.close();
  }
}

/** Every table's documents, table by table in file order (convenient for tests and small files). */
export async function* readAllTinyDb(index: TinyDbIndex, opts?: ReadOptions): AsyncGenerator<TinyDbDoc[], void, undefined> {
  for (const t of index.tables) yield* readTinyDbTable(index, t.name, 0, opts);
}
