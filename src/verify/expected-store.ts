/**
 * Where verify keeps the rows the sources give, in bounded memory: one fixed-size record per
 * occurrence (id, row hash, order, stream, source, locator), in 256 buckets per table by the id's
 * first byte, spilled to files in a temporary folder once the buffers reach SPILL_BYTES. The
 * comparison then reads a few buckets at a time (an id range), sorted by id and order of loading.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EtlError } from '../errors';

const RECORD = 56;
const BUCKETS = 256;
/** Buffered bytes over all tables before everything is written out. */
const SPILL_BYTES = 8 * 2 ** 20;
/** Occurrences per id range compared at once (the memory of the comparison: short-lived objects, collected young). */
const RANGE_RECORDS = 4096;

/** One record of the sources that (may) make a row: the writer's order decides what becomes of it. */
export interface Occurrence {
  id: string;
  /** rowhash.ts's hash: 16 latin1 characters. */
  hash: string;
  seq: number;
  /** Index of the stream whose figures it counts in; -1 for a row no record counts (inferred, the run's tenant). */
  stream: number;
  source: string;
  /** A 53-bit hash of the locator (only compared for equality). */
  locator: number;
}

/** An id range of a table: [lo, hi), null for open ends, and its occurrences sorted by (id, seq). */
export interface IdRange {
  lo: string | null;
  hi: string | null;
  occurrences: Occurrence[];
}

class Bucket {
  buf = Buffer.alloc(0);
  used = 0;
  /** [offset, length] of the parts written to the table's file. */
  spilled: [number, number][] = [];
}

interface TableStore {
  buckets: Bucket[];
  count: number;
  /** Bytes in the table's spill file. */
  fileSize: number;
}

/** Runs file work on verify's temporary files; a failure there (a full disk, an unwritable TMPDIR) becomes one sentence. */
export function inTempFiles<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new EtlError('RUN_FAILED', `verify could not use its temporary files in ${os.tmpdir()} (${code}); free space there or set TMPDIR to a folder with room (about 60 bytes per source record and 40 per row).`);
  }
}

/** A cheap 53-bit hash (two 32-bit FNV-1a variants) of a locator: exact in a double. */
function locatorHash(s: string): number {
  let a = 0x811c9dc5;
  let b = 0x01000193;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 11) * 2 ** 32 + (b >>> 0);
}

const NIBBLE = new Uint8Array(128);
for (let i = 0; i < 16; i++) {
  NIBBLE['0123456789abcdef'.charCodeAt(i)] = i;
  NIBBLE['0123456789ABCDEF'.charCodeAt(i)] = i;
}

/** A uuid's 16 bytes at `at` (records sort by them as PostgreSQL sorts uuids). */
export function uuidBytes(id: string, into: Buffer, at: number): void {
  // By hand: a regex replace and a hex write cost as much as an md5 of the row.
  for (let i = 0, j = at; i < 36; i += 2) {
    if (id.charCodeAt(i) === 45) i++;
    into[j++] = (NIBBLE[id.charCodeAt(i)] << 4) | NIBBLE[id.charCodeAt(i + 1)];
  }
}

/** The bytes of hex text (dashes skipped) in `from[start, end)`, written at `at`: uuids and md5s read from COPY output. */
export function hexBytes(from: Buffer, start: number, end: number, into: Buffer, at: number): void {
  for (let i = start, j = at; i < end; i += 2) {
    if (from[i] === 45) i++;
    into[j++] = (NIBBLE[from[i]] << 4) | NIBBLE[from[i + 1]];
  }
}

export function uuidText(buf: Buffer, at: number): string {
  const h = buf.toString('hex', at, at + 16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function bucketStart(b: number): string {
  return `${b.toString(16).padStart(2, '0')}000000-0000-0000-0000-000000000000`;
}

export class ExpectedStore {
  private readonly tables = new Map<string, TableStore>();
  private readonly sources: string[] = [];
  private readonly sourceIndex = new Map<string, number>();
  private dir: string | null = null;
  private buffered = 0;
  private seq = 0;

  /** Smaller limits than the defaults are for tests, to go through the files and many ranges. */
  constructor(private readonly limits = { spillBytes: SPILL_BYTES, rangeRecords: RANGE_RECORDS }) {}

  /** Occurrences recorded for `table`. */
  count(table: string): number {
    return this.tables.get(table)?.count ?? 0;
  }

  add(table: string, id: string, hash: string, stream: number, source: string, locator: string): void {
    let t = this.tables.get(table);
    if (!t) this.tables.set(table, (t = { buckets: Array.from({ length: BUCKETS }, () => new Bucket()), count: 0, fileSize: 0 }));
    let src = this.sourceIndex.get(source);
    if (src === undefined) {
      this.sourceIndex.set(source, (src = this.sources.length));
      this.sources.push(source);
    }
    const bucket = t.buckets[parseInt(id.slice(0, 2), 16)];
    if (bucket.used + RECORD > bucket.buf.length) {
      const bigger = Buffer.alloc(Math.max(RECORD * 64, bucket.buf.length * 2));
      bucket.buf.copy(bigger, 0, 0, bucket.used);
      this.buffered += bigger.length - bucket.buf.length;
      bucket.buf = bigger;
    }
    const at = bucket.used;
    uuidBytes(id, bucket.buf, at);
    bucket.buf.write(hash, at + 16, 16, 'latin1');
    bucket.buf.writeDoubleLE(this.seq++, at + 32);
    bucket.buf.writeInt32LE(stream, at + 40);
    bucket.buf.writeUInt32LE(src, at + 44);
    bucket.buf.writeDoubleLE(locatorHash(locator), at + 48);
    bucket.used += RECORD;
    t.count++;
    if (this.buffered > this.limits.spillBytes) inTempFiles(() => this.spill());
  }

  /** Appends every buffered bucket to its table's file and frees the buffers. */
  private spill(): void {
    this.dir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'etl-verify-'));
    for (const [table, t] of this.tables) {
      const fd = fs.openSync(this.file(table), 'a');
      try {
        for (const b of t.buckets) {
          if (!b.used) continue;
          fs.writeSync(fd, b.buf, 0, b.used);
          b.spilled.push([t.fileSize, b.used]);
          t.fileSize += b.used;
          b.buf = Buffer.alloc(0);
          b.used = 0;
        }
      } finally {
        fs.closeSync(fd);
      }
    }
    this.buffered = 0;
  }

  private file(table: string): string {
    return path.join(this.dir!, encodeURIComponent(table));
  }

  /** A bucket's records: its parts on disk, then what is buffered. */
  private bytes(table: string, b: Bucket): Buffer {
    if (!b.spilled.length) return b.buf.subarray(0, b.used);
    const out = Buffer.alloc(b.spilled.reduce((n, [, len]) => n + len, 0) + b.used);
    const fd = fs.openSync(this.file(table), 'r');
    try {
      let at = 0;
      for (const [offset, len] of b.spilled) {
        for (let done = 0; done < len; ) done += fs.readSync(fd, out, at + done, len - done, offset + done);
        at += len;
      }
    } finally {
      fs.closeSync(fd);
    }
    b.buf.copy(out, out.length - b.used, 0, b.used);
    return out;
  }

  private read(table: string, b: Bucket, into: Occurrence[]): void {
    const buf = inTempFiles(() => this.bytes(table, b));
    for (let at = 0; at < buf.length; at += RECORD) {
      into.push({
        id: uuidText(buf, at),
        hash: buf.toString('latin1', at + 16, at + 32),
        seq: buf.readDoubleLE(at + 32),
        stream: buf.readInt32LE(at + 40),
        source: this.sources[buf.readUInt32LE(at + 44)],
        locator: buf.readDoubleLE(at + 48),
      });
    }
  }

  /** The table's id space in ranges of about RANGE_RECORDS occurrences each, in id order; together they cover every id. */
  *ranges(table: string): Generator<IdRange> {
    const t = this.tables.get(table);
    if (!t) {
      yield { lo: null, hi: null, occurrences: [] };
      return;
    }
    let lo: string | null = null;
    let occurrences: Occurrence[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      this.read(table, t.buckets[i], occurrences);
      if (occurrences.length < this.limits.rangeRecords && i < BUCKETS - 1) continue;
      const hi = i < BUCKETS - 1 ? bucketStart(i + 1) : null;
      occurrences.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : a.seq - b.seq));
      yield { lo, hi, occurrences };
      lo = hi;
      occurrences = [];
    }
  }

  /** The folder of the spilled files, once there are any. */
  get spillDir(): string | null {
    return this.dir;
  }

  /** Removes the spilled files. */
  close(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}
