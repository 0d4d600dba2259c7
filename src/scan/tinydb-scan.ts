/**
 * Streaming, validating reader for TinyDB JSON databases (`{table: {doc_id: document}}`).
 *
 * One byte-level scanner (class `Scanner`) serves both passes:
 * - `preflightTinyDb` reads the whole file once (fs stream, 1 MiB chunks): sha256, size, UTF-8
 *   validity, the exact TinyDB shape, and `JSON.parse` of every document slice. It records each
 *   table's byte range, count and whether its ids are already in stable order.
 * - `readTinyDbTable` streams one table's byte range again and parses each document slice.
 *
 * The scanner tracks only: in-string / escape state, bracket depth inside a document, and the
 * small structural state of depths 0-2 (top object, table objects, document keys). String bodies
 * are skipped with `Buffer#indexOf('"')` plus a count of the backslashes before the quote; the rest
 * is a numeric byte loop. Each document's bytes go to native `JSON.parse`; a document (or key) that
 * straddles chunks is the only thing carried over (its partial tail, as buffer slices), so memory
 * does not grow with the file, only with the largest single document. Documents that contain
 * `NaN`/`Infinity` or a run of 16+ integer digits outside strings take a slower path
 * (json-text.ts `patchPythonJson`); everything else goes straight to `JSON.parse`.
 *
 * Stable order: numeric ids (canonical decimal: no sign, no leading zero) by numeric value, then
 * every other id in UTF-8 byte order. TinyDB writes ids in that order already, so the common case
 * needs O(1) memory per table (plus a seek point every TINYDB_SEEK_EVERY documents, for resumes).
 * Ascending order also proves ids unique there; a table that is not in order gets a sorted index
 * from a second scan of just that table (see `TinyDbOrder`: about 21 bytes per document plus its
 * non-numeric ids, twice that while sorting), and duplicates are found as equal neighbours.
 *
 * Measured on a 467 MiB / 1.05 M-document file (2 cores, Node 20): preflight ~2.6-3.3 s, a full
 * read ~2.1-2.9 s, 125-160 MiB peak RSS for the whole process.
 */
import * as fs from 'node:fs';
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { EtlError } from '../errors';
import { firstInvalidUtf8, incompleteUtf8Tail, locateJsonError, patchPythonJson, type PatchCounts } from './json-text';

export interface TinyDbTable {
  name: string;
  count: number;
  /** Byte offset of the table's `{`. */
  start: number;
  /** Byte offset just past the table's `}` (exclusive). */
  end: number;
  /** Doc ids ascending (numeric ids by number; non-numeric ids after numeric ones, in byte order). */
  ordered: boolean;
  /**
   * Ordered tables of more than TINYDB_SEEK_EVERY documents: `seek[k]` is the byte offset of the
   * id (its opening quote) of the document with ordinal `(k + 1) * TINYDB_SEEK_EVERY`, so a resume
   * starts near its ordinal instead of rescanning the table. One number per TINYDB_SEEK_EVERY docs.
   * Non-enumerable (like `order`), so logging or JSON.stringify of an index stays small.
   */
  seek?: number[];
  /**
   * Present exactly when `ordered` is false (non-enumerable): the documents' positions in stable
   * order. A copy of the table object without it cannot be read.
   */
  order?: TinyDbOrder;
}

/**
 * Sorted index of an unordered table, in stable order (position k = ordinal k). Memory: 21 bytes
 * per document in typed arrays, plus the table's non-numeric ids as strings; about twice that
 * while it is being sorted.
 */
export interface TinyDbOrder {
  /** Byte offset of each document's value (`{`). */
  offsets: Float64Array;
  /** Byte length of each document's value. */
  lengths: Uint32Array;
  /** Numeric id value (ids of up to 15 digits), or -1 when the id is in `textIds`. */
  numIds: Float64Array;
  /** Ordinal → id for every id that is not a numeric id of up to 15 digits. */
  textIds: Map<number, string>;
  /** Scanner flags of each document (whether it needs the NaN / big-integer path). */
  flags: Uint8Array;
}

export interface TinyDbIndex {
  path: string;
  size: number;
  sha256: string;
  tables: TinyDbTable[];
  /** NaN/Infinity values seen (read as null). */
  nonFinite: number;
  /** Integers beyond 2^53 seen (kept as decimal strings). */
  bigInts: number;
  /** The file starts with a UTF-8 byte order mark (skipped). */
  bom: boolean;
  /** mtime at preflight; a reader refuses a file whose size or mtime changed since. */
  mtimeMs: number;
}

export interface TinyDbDoc {
  table: string;
  id: string;
  /** 0-based position in the table's stable order. */
  ordinal: number;
  /** Byte offset of the doc value. */
  offset: number;
  doc: Record<string, unknown>;
}

export interface ScanOptions {
  /** Read size in bytes; default 1 MiB. Tests use tiny values to exercise chunk boundaries. */
  chunkSize?: number;
}

export interface ReadOptions extends ScanOptions {
  /** Documents per yielded array; default 1000. */
  maxDocs?: number;
}

/** Ordered tables get a seek point every this many documents. */
export const TINYDB_SEEK_EVERY = 16384;

const DEFAULT_CHUNK = 1 << 20;
const EXPECTS = 'etl expects {table: {doc_id: document}}';
const RESTORE = 'restore the file from a backup or re-export it from the legacy app';

// ---------------------------------------------------------------------------------------------
// errors

function q(s: string): string {
  return JSON.stringify(s.length > 200 ? s.slice(0, 200) + '…' : s);
}

function corrupt(path: string, offset: number, reason: string): EtlError {
  return new EtlError('SOURCE_CORRUPT', `${path} is truncated or corrupt at byte ${offset} (${reason}); ${RESTORE}.`);
}

function notTinyDb(path: string, offset: number, what: string): EtlError {
  return new EtlError('SOURCE_NOT_TINYDB', `${path} is not a TinyDB database: ${what} (byte ${offset}); ${EXPECTS}.`);
}

function changed(path: string, detail: string): EtlError {
  return new EtlError(
    'RUN_FAILED',
    `${path} changed after it was checked (${detail}); stop the legacy app so the file stays still, then run again.`,
  );
}

function fsError(path: string, e: unknown): EtlError {
  if (e instanceof EtlError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new EtlError('SOURCE_NOT_FOUND', `${path} does not exist. Check the path and run again.`);
  }
  if (code === 'EISDIR') {
    return new EtlError('SOURCE_UNREADABLE', `${path} is a directory, not a TinyDB file; pass the path of the database's .json file.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (permission denied); give this user read access to it and run again.`);
  }
  const what = code ?? (e instanceof Error ? e.message : String(e));
  return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (${what}); check the file and run again.`);
}

/** What a JSON value starting with byte c is, for SOURCE_NOT_TINYDB messages; null if no JSON value starts so. */
function valueKind(c: number): string | null {
  if (c === 0x5b) return 'an array';
  if (c === 0x22) return 'a string';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  if (c === 0x6e) return 'null';
  if (c === 0x4e || c === 0x49) return 'a non-finite number';
  return null;
}

function showByte(c: number): string {
  return c >= 0x20 && c < 0x7f ? `'${String.fromCharCode(c)}'` : `byte 0x${c.toString(16).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// document parsing

/** Scanner flags: the document may hold NaN/Infinity, or an integer of 16+ digits (both: the slow path). */
const F_NONFINITE = 1;
const F_BIG = 2;

/**
 * JSON.parse of one document slice; the Python-ism path only for flagged slices. Throws the
 * SOURCE_CORRUPT error (with the exact byte offset where it can be found) on invalid JSON.
 */
function parseDoc(
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

// ---------------------------------------------------------------------------------------------
// scanner

interface Sink {
  tableStart(name: string, offset: number): void;
  tableEnd(end: number): void;
  /** A document's bytes are buf[a, b); offset is the file offset of buf[a]; keyOffset that of its id's quote. */
  doc(id: string, keyOffset: number, buf: Buffer, a: number, b: number, offset: number, flags: number): void;
}

// states
const S_BEGIN = 0; // before the top-level value (optional BOM, whitespace)
const S_BOM = 1; // inside the BOM
const S_KEY_OR_CLOSE = 2; // after `{`: a key or `}`
const S_KEY = 3; // after `,`: a key
const S_KEY_STR = 4; // inside a key string
const S_COLON = 5;
const S_VALUE = 6; // after `:`: a value, which must be `{`
const S_DOC = 7; // inside a document
const S_AFTER = 8; // after a value: `,` or `}`
const S_TRAIL = 9; // after the top-level object: whitespace only
const S_END = 10; // table mode: after the table's `}`

function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

class Scanner {
  state: number;
  /** 1 = inside the top-level object (keys are table names), 2 = inside a table (keys are doc ids). */
  level: number;
  /** File offset of the next chunk's first byte. */
  pos: number;
  table = '';
  bom = false;
  /** Scanning one table's range (readTinyDbTable), not a whole file. */
  private tableMode = false;
  private bomSeen = 0;
  // current key
  private key = '';
  private keyOffset = 0;
  private keyEsc = false;
  private keyParse = false;
  private keyHigh = false;
  private readonly keyParts: Buffer[] = [];
  // current document
  private docOffset = 0;
  private depth = 0;
  private inStr = false;
  private esc = false;
  private digits = 0;
  private flags = 0;
  private readonly docParts: Buffer[] = [];

  constructor(
    private readonly path: string,
    private readonly sink: Sink,
    start: { pos: number; state: number; level: number; table?: string },
  ) {
    this.pos = start.pos;
    this.state = start.state;
    this.level = start.level;
    if (start.table !== undefined) {
      this.tableMode = true;
      this.table = start.table;
      this.key = start.table;
    }
  }

  /** Scanner for a whole file. */
  static forFile(path: string, sink: Sink): Scanner {
    return new Scanner(path, sink, { pos: 0, state: S_BEGIN, level: 0 });
  }

  /** Scanner for one table's range: from its `{` (offset = table.start), or from a seek point (a doc id's quote). */
  static forTable(path: string, sink: Sink, table: string, pos: number, atSeekPoint: boolean): Scanner {
    return atSeekPoint
      ? new Scanner(path, sink, { pos, state: S_KEY, level: 2, table })
      : new Scanner(path, sink, { pos, state: S_VALUE, level: 1, table });
  }

  /** Where the scanner is, for messages; `state` is the current state (push keeps it in a local). */
  private where(state: number): string {
    if (this.level === 2) {
      if (state === S_DOC) return `in table ${q(this.table)}, document ${q(this.key)}`;
      if (state === S_AFTER) return `after document ${q(this.key)} in table ${q(this.table)}`;
      return `in table ${q(this.table)}`;
    }
    if (this.level === 1) return this.table ? `after table ${q(this.table)}` : 'in the top-level object';
    return 'at the top level';
  }

  private unexpected(state: number, c: number, offset: number, expected: string): EtlError {
    return corrupt(this.path, offset, `unexpected ${showByte(c)} ${this.where(state)}; expected ${expected}`);
  }

  push(buf: Buffer): void {
    const n = buf.length;
    const base = this.pos;
    let i = 0;
    let seg = 0; // where the current key's or document's bytes start in this chunk
    let state = this.state;
    while (i < n) {
      if (state === S_DOC) {
        // The hot loop: everything inside a document.
        let depth = this.depth;
        let digits = this.digits;
        let flags = this.flags;
        let inStr = this.inStr;
        if (this.esc) {
          this.esc = false;
          i++;
        }
        let closed = false;
        while (i < n) {
          if (inStr) {
            // Skip the string body natively: find the next quote, and count the backslashes
            // before it (back to i, which never points into an escape) to see if it is escaped.
            const qt = buf.indexOf(0x22, i);
            if (qt < 0) {
              let k = n - 1;
              while (k >= i && buf[k] === 0x5c) k--;
              if (((n - 1 - k) & 1) === 1) this.esc = true;
              i = n;
              break;
            }
            let k = qt - 1;
            while (k >= i && buf[k] === 0x5c) k--;
            i = qt + 1;
            if (((qt - 1 - k) & 1) === 0) inStr = false;
            continue;
          }
          const c = buf[i++];
          if (c === 0x22) {
            inStr = true;
            digits = 0;
          } else if (c <= 0x39 && c >= 0x30) {
            if (++digits === 16) flags |= F_BIG;
          } else if (c === 0x2e || c === 0x65 || c === 0x45) {
            digits = -0x40000000; // fraction or exponent digits are not an integer
          } else {
            digits = 0;
            if (c === 0x7b || c === 0x5b) depth++;
            else if (c === 0x7d || c === 0x5d) {
              if (--depth === 0) {
                closed = true;
                break;
              }
            } else if (c === 0x4e || c === 0x49) flags |= F_NONFINITE;
          }
        }
        this.depth = depth;
        this.digits = digits;
        this.flags = flags;
        this.inStr = inStr;
        if (!closed) break;
        const parts = this.docParts;
        if (parts.length === 0) {
          this.sink.doc(this.key, this.keyOffset, buf, seg, i, this.docOffset, flags);
        } else {
          parts.push(buf.subarray(seg, i));
          const whole = Buffer.concat(parts);
          parts.length = 0;
          this.sink.doc(this.key, this.keyOffset, whole, 0, whole.length, this.docOffset, flags);
        }
        state = S_AFTER;
        continue;
      }

      if (state === S_KEY_STR) {
        let esc = this.keyEsc;
        for (; i < n; i++) {
          const c = buf[i];
          if (esc) esc = false;
          else if (c === 0x5c) {
            esc = true;
            this.keyParse = true;
          } else if (c === 0x22) break;
          else if (c < 0x20) this.keyParse = true;
          else if (c >= 0x80) this.keyHigh = true;
        }
        this.keyEsc = esc;
        if (i === n) break;
        let bytes = buf;
        let a = seg;
        let b = i;
        if (this.keyParts.length) {
          this.keyParts.push(buf.subarray(seg, i));
          bytes = Buffer.concat(this.keyParts);
          this.keyParts.length = 0;
          a = 0;
          b = bytes.length;
        }
        if (this.keyParse) {
          try {
            this.key = JSON.parse('"' + bytes.toString('utf8', a, b) + '"') as string;
          } catch {
            const text = '"' + bytes.toString('utf8', a, b) + '"';
            const at = locateJsonError(text);
            const off = this.keyOffset + (at ? Buffer.byteLength(text.slice(0, at.pos), 'utf8') : 0);
            const what = this.level === 1 ? 'a table name' : 'a document id';
            const reason = at ? at.reason.replace(/ (in|inside) a string$/, '') : 'invalid string';
            throw corrupt(this.path, off, `${reason} in ${what} ${this.where(state)}`);
          }
        } else {
          this.key = bytes.toString(this.keyHigh ? 'utf8' : 'latin1', a, b);
        }
        i++;
        state = S_COLON;
        continue;
      }

      const c = buf[i];
      if (isWs(c)) {
        if (state === S_BOM) throw corrupt(this.path, base + i, 'a broken byte order mark');
        i++;
        continue;
      }
      switch (state) {
        case S_BEGIN:
          if (c === 0x7b) {
            state = S_KEY_OR_CLOSE;
            this.level = 1;
          } else if (c === 0xef && base + i === 0) {
            state = S_BOM;
            this.bomSeen = 1;
          } else {
            const kind = valueKind(c);
            if (kind) throw notTinyDb(this.path, base + i, `the file holds ${kind}, not an object of tables`);
            throw this.unexpected(state, c, base + i, "'{'");
          }
          i++;
          break;
        case S_BOM:
          if (c !== (this.bomSeen === 1 ? 0xbb : 0xbf)) throw corrupt(this.path, base + i, 'a broken byte order mark');
          if (++this.bomSeen === 3) {
            state = S_BEGIN;
            this.bom = true;
          }
          i++;
          break;
        case S_KEY_OR_CLOSE:
        case S_KEY:
          if (c === 0x22) {
            this.keyOffset = base + i;
            this.keyEsc = false;
            this.keyParse = false;
            this.keyHigh = false;
            i++;
            seg = i;
            state = S_KEY_STR;
          } else if (c === 0x7d && state === S_KEY_OR_CLOSE) {
            i++;
            state = this.close(base + i);
          } else {
            const what = this.level === 1 ? 'a table name' : 'a document id';
            throw this.unexpected(state, c, base + i, state === S_KEY ? `${what} in quotes` : `${what} in quotes or '}'`);
          }
          break;
        case S_COLON:
          if (c !== 0x3a) throw this.unexpected(state, c, base + i, `':' after ${q(this.key)}`);
          i++;
          state = S_VALUE;
          break;
        case S_VALUE:
          if (c === 0x7b) {
            if (this.level === 1) {
              this.table = this.key;
              this.level = 2;
              this.sink.tableStart(this.table, base + i);
              i++;
              state = S_KEY_OR_CLOSE;
            } else {
              this.docOffset = base + i;
              this.depth = 1;
              this.inStr = false;
              this.esc = false;
              this.digits = 0;
              this.flags = 0;
              i++;
              seg = i - 1;
              state = S_DOC;
            }
          } else {
            const kind = valueKind(c);
            if (kind && this.level === 1) {
              throw notTinyDb(this.path, base + i, `table ${q(this.key)} is ${kind}, not an object of documents`);
            }
            if (kind) {
              throw notTinyDb(this.path, base + i, `document ${q(this.key)} in table ${q(this.table)} is ${kind}, not an object`);
            }
            throw this.unexpected(state, c, base + i, `a value for ${q(this.key)}`);
          }
          break;
        case S_AFTER:
          if (c === 0x2c) {
            i++;
            state = S_KEY;
          } else if (c === 0x7d) {
            i++;
            state = this.close(base + i);
          } else {
            throw this.unexpected(state, c, base + i, "',' or '}'");
          }
          break;
        case S_TRAIL:
          throw corrupt(this.path, base + i, `unexpected ${showByte(c)} after the end of the top-level object; only whitespace may follow it`);
        case S_END:
          throw this.unexpected(state, c, base + i, 'the end of the table');
        default:
          throw new Error(`scanner in unknown state ${state}`);
      }
    }
    if (state === S_DOC) this.docParts.push(buf.subarray(seg));
    else if (state === S_KEY_STR) this.keyParts.push(buf.subarray(seg));
    this.state = state;
    this.pos = base + n;
  }

  /** A `}` closed the current level; end is the offset just past it. Returns the next state. */
  private close(end: number): number {
    if (this.level === 2) {
      this.sink.tableEnd(end);
      this.level = 1;
      return this.tableMode ? S_END : S_AFTER;
    }
    this.level = 0;
    return S_TRAIL;
  }

  /** End of input: throws unless the value is complete. */
  end(): void {
    const s = this.state;
    if (s === S_BEGIN || s === S_TRAIL || s === S_END) return;
    let reason: string;
    if (s === S_DOC) {
      reason = this.inStr
        ? `unterminated string ${this.where(s)}`
        : `document ${q(this.key)} of table ${q(this.table)} is not closed`;
    } else if (s === S_KEY_STR) {
      reason = `unterminated ${this.level === 1 ? 'table name' : 'document id'} ${this.where(s)}`;
    } else if (s === S_BOM) {
      reason = 'a broken byte order mark';
    } else if (this.level === 2) {
      reason = `table ${q(this.table)} is not closed`;
    } else {
      reason = 'the top-level object is not closed';
    }
    throw corrupt(this.path, this.pos, reason);
  }
}

// ---------------------------------------------------------------------------------------------
// stable order of ids

/** 0: numeric id of up to 15 digits, 1: longer numeric id, 2: any other id. */
function idClass(id: string): number {
  const n = id.length;
  if (n === 0) return 2;
  const c0 = id.charCodeAt(0);
  if (c0 < 0x30 || c0 > 0x39 || (c0 === 0x30 && n > 1)) return 2;
  for (let k = 1; k < n; k++) {
    const c = id.charCodeAt(k);
    if (c < 0x30 || c > 0x39) return 2;
  }
  return n <= 15 ? 0 : 1;
}

/** Compares two strings in UTF-8 byte order (= code point order; UTF-16 unit order differs above U+D7FF). */
function compareUtf8(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let k = 0; k < n; k++) {
    let x = a.charCodeAt(k);
    let y = b.charCodeAt(k);
    if (x !== y) {
      if (x >= 0xd800 && y >= 0xd800) {
        x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
        y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
      }
      return x - y;
    }
  }
  return a.length - b.length;
}

/** Stable-order comparison of two ids given their classes (and values for class 0). */
function compareIds(ca: number, na: number, sa: string, cb: number, nb: number, sb: string): number {
  if (ca !== cb) return ca - cb;
  if (ca === 0) return na - nb;
  if (ca === 1) return sa.length - sb.length || (sa < sb ? -1 : sa > sb ? 1 : 0);
  return compareUtf8(sa, sb);
}

/** Sorts ids into stable order (a test helper and documentation of the order). */
export function compareTinyDbIds(a: string, b: string): number {
  const ca = idClass(a);
  const cb = idClass(b);
  return compareIds(ca, ca === 0 ? +a : 0, a, cb, cb === 0 ? +b : 0, b);
}

/** Sets a non-enumerable property (kept out of logs, JSON and equality checks). */
function hide<K extends 'seek' | 'order'>(t: TinyDbTable, key: K, value: TinyDbTable[K]): void {
  Object.defineProperty(t, key, { value, enumerable: false, writable: true, configurable: true });
}

function duplicateId(path: string, table: string, id: string, first: number, second: number): EtlError {
  return new EtlError(
    'SOURCE_CORRUPT',
    `${path} has document id ${q(id)} twice in table ${q(table)} (at bytes ${first} and ${second}); etl will not silently keep only one of them, so remove or renumber one and run again.`,
  );
}

// ---------------------------------------------------------------------------------------------
// preflight

class PreflightSink implements Sink {
  readonly tables: TinyDbTable[] = [];
  readonly counts: PatchCounts = { nonFinite: 0, bigInts: 0 };
  private readonly names = new Set<string>();
  private cur: TinyDbTable | null = null;
  private prevCls = -1;
  private prevNum = 0;
  private prevId = '';
  private prevOffset = 0;
  private seek: number[] = [];

  constructor(private readonly path: string) {}

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

  doc(id: string, keyOffset: number, buf: Buffer, a: number, b: number, offset: number, flags: number): void {
    const t = this.cur!;
    parseDoc(this.path, t.name, id, buf, a, b, offset, flags, this.counts);
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

/** Carries an incomplete UTF-8 sequence across chunks and checks each chunk with `buffer.isUtf8`. */
class Utf8Check {
  private tail: Buffer | null = null;

  constructor(private readonly path: string) {}

  private bad(offset: number): EtlError {
    return new EtlError(
      'SOURCE_CORRUPT',
      `${this.path} is not valid UTF-8 at byte ${offset}; if the legacy app wrote it in another encoding (TinyDB uses the system locale's encoding when ensure_ascii is off), convert it to UTF-8 first (e.g. iconv -f cp1254 -t utf-8), otherwise ${RESTORE}.`,
    );
  }

  push(chunk: Buffer, base: number): void {
    let start = 0;
    const t = this.tail;
    if (t) {
      const lead = t[0];
      const len = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      const need = len - t.length;
      if (chunk.length < need) {
        this.tail = Buffer.concat([t, chunk]);
        return;
      }
      if (!isUtf8(Buffer.concat([t, chunk.subarray(0, need)]))) throw this.bad(base - t.length);
      this.tail = null;
      start = need;
    }
    const cut = chunk.length - incompleteUtf8Tail(start ? chunk.subarray(start) : chunk);
    if (cut > start && !isUtf8(chunk.subarray(start, cut))) {
      const k = firstInvalidUtf8(chunk, start, cut);
      throw this.bad(base + (k < 0 ? start : k));
    }
    if (cut < chunk.length) this.tail = Buffer.from(chunk.subarray(cut));
  }

  end(size: number): void {
    if (this.tail) throw this.bad(size - this.tail.length);
  }
}

function chunkSizeOf(opts: ScanOptions | undefined): number {
  const c = opts?.chunkSize ?? DEFAULT_CHUNK;
  if (!Number.isInteger(c) || c < 1) throw new RangeError(`chunkSize must be a positive integer, got ${c}`);
  return c;
}

async function statSource(path: string): Promise<fs.Stats> {
  let st: fs.Stats;
  try {
    st = await fs.promises.stat(path);
  } catch (e) {
    throw fsError(path, e);
  }
  if (st.isDirectory()) throw fsError(path, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
  if (!st.isFile()) {
    throw new EtlError('SOURCE_UNREADABLE', `${path} is not a regular file; pass the path of the TinyDB database's .json file.`);
  }
  return st;
}

/**
 * Reads the whole file once and validates everything before anything is written: sha256 and
 * size, UTF-8, the `{table: {doc_id: document}}` shape, JSON.parse of every document, unique ids.
 * Tables whose ids are not in stable order get a sorted index (`TinyDbTable.order`) from a second
 * scan of that table only.
 */
export async function preflightTinyDb(path: string, opts?: ScanOptions): Promise<TinyDbIndex> {
  const chunkSize = chunkSizeOf(opts);
  const before = await statSource(path);
  const hash = createHash('sha256');
  const sink = new PreflightSink(path);
  const scanner = Scanner.forFile(path, sink);
  const utf8 = new Utf8Check(path);
  let size = 0;
  const stream = fs.createReadStream(path, { highWaterMark: chunkSize });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      scanner.push(chunk);
      utf8.push(chunk, size);
      size += chunk.length;
    }
  } catch (e) {
    throw fsError(path, e);
  } finally {
    stream.destroy();
  }
  scanner.end();
  utf8.end(size);
  const after = await statSource(path);
  if (after.size !== size || before.size !== size || after.mtimeMs !== before.mtimeMs) {
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
    nonFinite: sink.counts.nonFinite,
    bigInts: sink.counts.bigInts,
    bom: scanner.bom,
    mtimeMs: before.mtimeMs,
  };
}

/** Second scan of one unordered table: positions and ids into typed arrays, sorted into stable order. */
async function buildOrder(path: string, t: TinyDbTable, chunkSize: number): Promise<TinyDbOrder> {
  const n = t.count;
  const offsets = new Float64Array(n);
  const lengths = new Uint32Array(n);
  const numIds = new Float64Array(n);
  const cls = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const text = new Map<number, string>();
  let k = 0;
  const sink: Sink = {
    tableStart() {},
    tableEnd() {},
    doc(id, _keyOffset, _buf, a, b, offset, f) {
      if (k >= n) throw changed(path, `table ${q(t.name)} has more documents than before`);
      offsets[k] = offset;
      lengths[k] = b - a;
      flags[k] = f;
      const c = idClass(id);
      cls[k] = c;
      if (c === 0) numIds[k] = +id;
      else {
        numIds[k] = -1;
        text.set(k, id);
      }
      k++;
    },
  };
  await scanRange(path, Scanner.forTable(path, sink, t.name, t.start, false), t.start, t.end, chunkSize);
  if (k !== n) throw changed(path, `table ${q(t.name)} has fewer documents than before`);

  const perm = new Uint32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  perm.sort((x, y) => {
    const cx = cls[x];
    const cy = cls[y];
    if (cx !== cy) return cx - cy;
    if (cx === 0) return numIds[x] - numIds[y];
    return compareIds(cx, 0, text.get(x)!, cy, 0, text.get(y)!);
  });
  const order: TinyDbOrder = {
    offsets: new Float64Array(n),
    lengths: new Uint32Array(n),
    numIds: new Float64Array(n),
    textIds: new Map(),
    flags: new Uint8Array(n),
  };
  for (let j = 0; j < n; j++) {
    const p = perm[j];
    if (j > 0) {
      const o = perm[j - 1];
      const same = cls[p] === 0 ? cls[o] === 0 && numIds[o] === numIds[p] : cls[o] === cls[p] && text.get(o) === text.get(p);
      if (same) {
        const id = cls[p] === 0 ? String(numIds[p]) : text.get(p)!;
        throw duplicateId(path, t.name, id, Math.min(offsets[o], offsets[p]), Math.max(offsets[o], offsets[p]));
      }
    }
    order.offsets[j] = offsets[p];
    order.lengths[j] = lengths[p];
    order.flags[j] = flags[p];
    order.numIds[j] = numIds[p];
    if (cls[p] !== 0) order.textIds.set(j, text.get(p)!);
  }
  return order;
}

/** Streams file bytes [start, end) through a scanner. */
async function scanRange(path: string, scanner: Scanner, start: number, end: number, chunkSize: number): Promise<void> {
  if (end <= start) return;
  const stream = fs.createReadStream(path, { start, end: end - 1, highWaterMark: chunkSize });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      scanner.push(chunk);
    }
  } catch (e) {
    throw fsError(path, e);
  } finally {
    stream.destroy();
  }
  scanner.end();
}

// ---------------------------------------------------------------------------------------------
// reading

async function checkUnchanged(index: TinyDbIndex): Promise<void> {
  const st = await statSource(index.path);
  if (st.size !== index.size || st.mtimeMs !== index.mtimeMs) {
    throw changed(index.path, `its size or modification time differs from the preflight's`);
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
        out.push({ table: t.name, id, ordinal, offset, doc: parseDoc(path, t.name, id, buf, a, b, offset, flags, counts) });
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
          batch.push({
            table: t.name,
            id,
            ordinal: k,
            offset: offsets[k],
            doc: parseDoc(path, t.name, id, scratch, a, b, offsets[k], flags[k], counts),
          });
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
