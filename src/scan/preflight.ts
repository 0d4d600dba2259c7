import { createHash } from 'node:crypto';
import { EtlError } from '../errors';
import { DocChecker } from './doc-check';
import { compareIds, idClass } from './id-order';
import type { PatchCounts } from './json-text';
import { Scanner, type Sink } from './scanner';
import { buildOrder } from './sorted-index';
import { changed, duplicateId, q } from './source-errors';
import { chunkSizeOf, forEachChunk, statSource } from './source-file';
import { TINYDB_SEEK_EVERY, type ScanOptions, type TinyDbIndex, type TinyDbTable } from './types';
import { Utf8Check } from './utf8-check';

/** Sets a non-enumerable property (kept out of logs, JSON and equality checks). */
function hide<K extends 'seek' | 'order'>(t: TinyDbTable, key: K, value: TinyDbTable[K]): void {
  Object.defineProperty(t, key, { value, enumerable: false, writable: true, configurable: true });
}

class PreflightSink implements Sink {
  readonly tables: TinyDbTable[] = [];
  private readonly names = new Set<string>();
  private cur: TinyDbTable | null = null;
  private prevCls = -1;
  private prevNum = 0;
  private prevId = '';
  private prevOffset = 0;
  private seek: number[] = [];

  constructor(
    private readonly path: string,
    private readonly checker: DocChecker,
  ) {}

  tableStart(name: string, offset: number): void {
    if (this.names.has(name)) {
      throw new EtlError(
        'SOURCE_CORRUPT',
        `${this.path} has table ${q(name)} twice (the second at byte ${offset}); etl will not silently keep only one of them, so merge or rename one and run again.`,
      );
    }
    this.names.add(name);
    const t: TinyDbTable = { name, count: 0, start: offset, end: -1, ordered: true };
    this.tables.push(t);
    this.cur = t;
    this.seek = [];
    this.prevCls = -1;
  }

  tableEnd(end: number): void {
    const t = this.cur!;
    t.end = end;
    if (t.ordered && this.seek.length > 0) hide(t, 'seek', this.seek);
    this.cur = null;
  }

  doc(id: string, keyOffset: number, buf: Buffer, a: number, b: number, offset: number, flags: number, keys: number): void {
    const t = this.cur!;
    this.checker.add(t.name, id, buf, a, b, offset, flags, keys);
    const ordinal = t.count++;
    if (!t.ordered) return;
    if (ordinal > 0 && ordinal % TINYDB_SEEK_EVERY === 0) this.seek.push(keyOffset);
    const cls = idClass(id);
    const num = cls === 0 ? +id : 0;
    if (this.prevCls >= 0) {
      const d = compareIds(this.prevCls, this.prevNum, this.prevId, cls, num, id);
      if (d === 0) throw duplicateId(this.path, t.name, id, this.prevOffset, offset);
      if (d > 0) t.ordered = false;
    }
    this.prevCls = cls;
    this.prevNum = num;
    this.prevId = id;
    this.prevOffset = offset;
  }
}

/**
 * Reads the whole file once and validates everything before anything is written: sha256 and
 * size, UTF-8, the `{table: {doc_id: document}}` shape, JSON.parse of every document, unique ids,
 * no key twice in one object, nesting within MAX_DEPTH.
 * Tables whose ids are not in stable order get a sorted index (`TinyDbTable.order`) from a second
 * scan of that table only.
 */
export async function preflightTinyDb(path: string, opts?: ScanOptions): Promise<TinyDbIndex> {
  const chunkSize = chunkSizeOf(opts);
  const before = await statSource(path);
  const hash = createHash('sha256');
  const checker = new DocChecker(path, before.size);
  const sink = new PreflightSink(path, checker);
  const scanner = Scanner.forFile(path, sink);
  const utf8 = new Utf8Check(path);
  let size = 0;
  let counts: PatchCounts;
  try {
    await forEachChunk(path, chunkSize, async (chunk) => {
      hash.update(chunk);
      scanner.push(chunk);
      utf8.push(chunk, size);
      size += chunk.length;
      opts?.onBytes?.(size, before.size);
      await checker.keepUp();
    });
    scanner.end();
    utf8.end(size);
    counts = await checker.finish();
  } catch (e) {
    throw await checker.settle(e);
  } finally {
    await checker.close();
  }
  const after = await statSource(path);
  if (after.size !== size || before.size !== size || after.mtimeMs !== before.mtimeMs || after.ctimeMs !== before.ctimeMs || after.ino !== before.ino) {
    throw changed(path, 'it was written to while etl checked it');
  }
  for (const t of sink.tables) {
    if (!t.ordered) hide(t, 'order', await buildOrder(path, t, chunkSize));
  }
  return {
    path,
    size,
    sha256: hash.digest('hex'),
    tables: sink.tables,
    nonFinite: counts.nonFinite,
    bigInts: counts.bigInts,
    bom: scanner.bom,
    mtimeMs: before.mtimeMs,
    ctimeMs: before.ctimeMs,
    ino: before.ino,
  };
}
