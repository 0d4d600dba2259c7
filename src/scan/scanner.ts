/**
 * The byte-level scanner both passes share: it walks the `{table: {doc_id: document}}` structure
 * and hands each document's bytes to a Sink (see tinydb-scan.ts for the design).
 */
import type { EtlError } from '../errors';
import { isWs, locateJsonError } from './json-text';
import { MAX_DEPTH, tooDeep } from './limits';
import { corrupt, notTinyDb, q } from './source-errors';

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

/**
 * Scanner flags: the document may hold NaN/Infinity or a number with an exponent (which may
 * overflow to Infinity, like 1e400), or an integer of 16+ digits (both: the slow path).
 */
const F_NONFINITE = 1;
const F_BIG = 2;

export interface Sink {
  tableStart(name: string, offset: number): void;
  tableEnd(end: number): void;
  /**
   * A document's bytes are buf[a, b); offset is the file offset of buf[a]; keyOffset that of its
   * id's quote; keys the number of keys its objects have in the text (its `:` outside strings),
   * which JSON.parse's result has fewer of exactly when a key appears twice in one object.
   */
  doc(id: string, keyOffset: number, buf: Buffer, a: number, b: number, offset: number, flags: number, keys: number): void;
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

export class Scanner {
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
  private keys = 0;
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
        let keys = this.keys;
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
            // An exponent right after digits (not the e of true/false) may overflow: 1e400.
            if (c !== 0x2e && digits !== 0) flags |= F_NONFINITE;
            digits = -0x40000000; // fraction or exponent digits are not an integer
          } else {
            digits = 0;
            if (c === 0x3a) keys++;
            else if (c === 0x7b || c === 0x5b) {
              // Refused here, while scanning, so no recursive walk ever sees a record this deep.
              if (++depth > MAX_DEPTH) throw tooDeep(this.path, `in table ${q(this.table)}, document ${q(this.key)} (byte ${base + i - 1})`);
            } else if (c === 0x7d || c === 0x5d) {
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
        this.keys = keys;
        this.inStr = inStr;
        if (!closed) break;
        const parts = this.docParts;
        if (parts.length === 0) {
          this.sink.doc(this.key, this.keyOffset, buf, seg, i, this.docOffset, flags, keys);
        } else {
          parts.push(buf.subarray(seg, i));
          const whole = Buffer.concat(parts);
          parts.length = 0;
          this.sink.doc(this.key, this.keyOffset, whole, 0, whole.length, this.docOffset, flags, keys);
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
              this.keys = 0;
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
