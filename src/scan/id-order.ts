/** Stable order of doc ids: numeric ids by value, then every other id in UTF-8 byte order. */

/** 0: numeric id of up to 15 digits, 1: longer numeric id, 2: any other id. */
export function idClass(id: string): number {
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
export function compareIds(ca: number, na: number, sa: string, cb: number, nb: number, sb: string): number {
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
