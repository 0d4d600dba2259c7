/** UTF-8 validation of a file read in chunks. */
import { isUtf8 } from 'node:buffer';
import { notUtf8 } from './source-errors';

/** Carries an incomplete UTF-8 sequence across chunks and checks each chunk with `buffer.isUtf8`. */
export class Utf8Check {
  private tail: Buffer | null = null;

  constructor(private readonly path: string) {}

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
      if (!isUtf8(Buffer.concat([t, chunk.subarray(0, need)]))) throw notUtf8(this.path, base - t.length);
      this.tail = null;
      start = need;
    }
    const cut = chunk.length - incompleteUtf8Tail(start ? chunk.subarray(start) : chunk);
    if (cut > start && !isUtf8(chunk.subarray(start, cut))) {
      const k = firstInvalidUtf8(chunk, start, cut);
      throw notUtf8(this.path, base + (k < 0 ? start : k));
    }
    if (cut < chunk.length) this.tail = Buffer.from(chunk.subarray(cut));
  }

  end(size: number): void {
    if (this.tail) throw notUtf8(this.path, size - this.tail.length);
  }
}

/**
 * Index of the first byte in buf[from, to) that is not part of valid UTF-8 (overlong forms,
 * surrogates and code points above U+10FFFF are invalid, as for `buffer.isUtf8`), or -1.
 * A sequence cut off by `to` counts as invalid.
 */
export function firstInvalidUtf8(buf: Uint8Array, from: number, to: number): number {
  let i = from;
  while (i < to) {
    const c = buf[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      else if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      else if (c === 0xf4) hi = 0x8f;
    } else return i;
    if (i + need >= to) return i; // cut off
    const b1 = buf[i + 1];
    if (b1 < lo || b1 > hi) return i;
    for (let k = 2; k <= need; k++) {
      const b = buf[i + k];
      if (b < 0x80 || b > 0xbf) return i;
    }
    i += need + 1;
  }
  return -1;
}

/** Length of an incomplete UTF-8 sequence at the end of buf (0..3): bytes to carry to the next chunk. */
function incompleteUtf8Tail(buf: Uint8Array): number {
  const n = buf.length;
  for (let k = 1; k <= 3 && k <= n; k++) {
    const c = buf[n - k];
    if (c < 0x80) return 0;
    if (c >= 0xc0) {
      const len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
      return len > k ? k : 0;
    }
  }
  return 0;
}
