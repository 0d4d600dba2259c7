/**
 * Finds any of many secrets inside COPY output in one pass over the bytes, whatever their number:
 * a rolling hash of every 8-byte window is looked up in a bit filter, and only the windows that
 * pass are compared with the secrets starting with those bytes (Rabin–Karp with many patterns).
 * The previous check ran one `strpos` per secret over every text value (rows × secrets).
 */
import { copyEscape, fieldText, hasEscape } from '../db/copy-out';

/** The window: every secret looked for inside other text has at least this many characters (so bytes). */
export const WINDOW = 8;
const BASE = 257;
/** BASE^(WINDOW-1) mod 2^32, to drop the byte leaving the window. */
const BASE_OUT = (() => {
  let p = 1;
  for (let i = 1; i < WINDOW; i++) p = Math.imul(p, BASE);
  return p;
})();
const FILTER_BITS = 23;

function slot(h: number): number {
  return Math.imul(h, 0x9e3779b1) >>> (32 - FILTER_BITS);
}

interface Pattern {
  /** The secret as COPY TO writes it (escaped), in UTF-8. */
  bytes: Buffer;
  secret: string;
}

export class SecretMatcher {
  private readonly filter = new Uint8Array(1 << (FILTER_BITS - 3));
  private readonly byHash = new Map<number, Pattern[]>();

  /** `secrets`: each at least WINDOW characters long. */
  constructor(secrets: Iterable<string>) {
    for (const secret of secrets) {
      if (secret.length < WINDOW) throw new Error(`a secret shorter than ${WINDOW} characters cannot be looked for inside text`);
      const bytes = Buffer.from(copyEscape(secret), 'utf8');
      const h = hashOf(bytes, 0);
      const s = slot(h);
      this.filter[s >>> 3] |= 1 << (s & 7);
      const list = this.byHash.get(h);
      if (list) list.push({ bytes, secret });
      else this.byHash.set(h, [{ bytes, secret }]);
    }
  }

  get size(): number {
    return this.byHash.size;
  }

  /** Whether the COPY field `buf[start, end)` contains one of the secrets (exact: on the decoded text when it has escapes). */
  inField(buf: Buffer, start: number, end: number): boolean {
    if (end - start < WINDOW || this.byHash.size === 0) return false;
    let h = hashOf(buf, start);
    for (let p = start; ; p++) {
      const s = slot(h >>> 0);
      if (this.filter[s >>> 3] & (1 << (s & 7)) && this.confirm(buf, p, start, end, h >>> 0)) return true;
      if (p + WINDOW >= end) return false;
      h = (Math.imul(h - Math.imul(buf[p], BASE_OUT), BASE) + buf[p + WINDOW]) | 0;
    }
  }

  private confirm(buf: Buffer, p: number, start: number, end: number, h: number): boolean {
    for (const pat of this.byHash.get(h) ?? []) {
      const n = pat.bytes.length;
      if (p + n > end || buf.compare(pat.bytes, 0, n, p, p + n) !== 0) continue;
      // Without escapes in the field the bytes are the text; with them, an escaped backslash could have lined up.
      if (!hasEscape(buf, start, end) || fieldText(buf, start, end).includes(pat.secret)) return true;
    }
    return false;
  }
}

function hashOf(buf: Buffer, at: number): number {
  let h = 0;
  for (let i = at; i < at + WINDOW; i++) h = (Math.imul(h, BASE) + buf[i]) | 0;
  return h >>> 0;
}
