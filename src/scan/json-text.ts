/**
 * Text-level helpers for the TinyDB scanner: the slow path for Python-isms (`NaN`, `Infinity`,
 * integers beyond 2^53) and a JSON error locator that gives an exact position when `JSON.parse`
 * does not. Neither runs on the hot path: only on documents the scanner flagged, or on errors.
 */

const MAX_SAFE = '9007199254740991';

export interface PatchCounts {
  nonFinite: number;
  bigInts: number;
}

function isWordChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
}

/**
 * Rewrites Python's JSON extensions outside strings so that `JSON.parse` reads them as we want:
 * `NaN`, `Infinity`, `-Infinity` and numbers that overflow a double (`1e400`) become `null`; an integer token whose magnitude exceeds
 * Number.MAX_SAFE_INTEGER becomes its exact decimal text as a JSON string. Anything malformed
 * is left alone, so `JSON.parse` still rejects it. Returns the text unchanged (same string) when
 * nothing needed patching.
 */
export function patchPythonJson(s: string, counts: PatchCounts): string {
  const n = s.length;
  let out = '';
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 0x22) {
      i++;
      while (i < n) {
        const d = s.charCodeAt(i);
        if (d === 0x5c) i += 2;
        else if (d === 0x22) break;
        else i++;
      }
      i++;
      continue;
    }
    const prev = i > 0 ? s.charCodeAt(i - 1) : 0x20;
    if (c === 0x4e /* N */ && !isWordChar(prev) && s.startsWith('NaN', i) && !isWordChar(s.charCodeAt(i + 3))) {
      if (prev === 0x2d /* -NaN is not JSON, not even Python's */) {
        i += 3;
        continue;
      }
      out += s.slice(last, i) + 'null';
      i += 3;
      last = i;
      counts.nonFinite++;
      continue;
    }
    if (c === 0x49 /* I */ && !isWordChar(prev) && s.startsWith('Infinity', i) && !isWordChar(s.charCodeAt(i + 8))) {
      const from = prev === 0x2d ? i - 1 : i;
      out += s.slice(last, from) + 'null';
      i += 8;
      last = i;
      counts.nonFinite++;
      continue;
    }
    if ((c === 0x2d || (c >= 0x30 && c <= 0x39)) && !isWordChar(prev) && prev !== 0x2e) {
      const start = i;
      let j = c === 0x2d ? i + 1 : i;
      const digitsFrom = j;
      while (j < n) {
        const d = s.charCodeAt(j);
        if (d < 0x30 || d > 0x39) break;
        j++;
      }
      const len = j - digitsFrom;
      const next = j < n ? s.charCodeAt(j) : 0x20;
      if (next === 0x2e || next === 0x65 || next === 0x45) {
        // a float: skip the whole token, or read it as null when it overflows a double (1e400 →
        // Infinity, which PostgreSQL's jsonb cannot hold either), counted like Python's Infinity
        j++;
        while (j < n) {
          const d = s.charCodeAt(j);
          if ((d >= 0x30 && d <= 0x39) || d === 0x2b || d === 0x2d || d === 0x65 || d === 0x45 || d === 0x2e) j++;
          else break;
        }
        if (!isWordChar(s.charCodeAt(j)) && !Number.isFinite(Number(s.slice(start, j))) && !Number.isNaN(Number(s.slice(start, j)))) {
          out += s.slice(last, start) + 'null';
          last = j;
          counts.nonFinite++;
        }
        i = j;
        continue;
      }
      if (
        len >= 16 &&
        !isWordChar(next) &&
        s.charCodeAt(digitsFrom) !== 0x30 &&
        (len > 16 || s.slice(digitsFrom, j) > MAX_SAFE)
      ) {
        out += s.slice(last, start) + '"' + s.slice(start, j) + '"';
        last = j;
        counts.bigInts++;
      }
      i = j > i ? j : i + 1;
      continue;
    }
    i++;
  }
  if (last === 0) return s;
  return out + s.slice(last);
}

export interface JsonErrorAt {
  /** UTF-16 index into the text. */
  pos: number;
  reason: string;
}

export function isWs(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function describeChar(s: string, i: number): string {
  if (i >= s.length) return 'end of document';
  const c = s.codePointAt(i)!;
  if (c < 0x20 || c === 0x7f) return `control character U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  return `'${String.fromCodePoint(c)}'`;
}

/**
 * Finds where a JSON text (one value, Python extensions NaN/Infinity/-Infinity allowed) stops
 * being valid; null when it is valid. Iterative, so deep nesting cannot overflow the stack.
 * Only called after `JSON.parse` failed, to turn its message into an exact offset.
 */
export function locateJsonError(s: string): JsonErrorAt | null {
  const n = s.length;
  let i = 0;
  // stack of containers: 0x7b object, 0x5b array
  const stack: number[] = [];
  const err = (reason: string, at = i): JsonErrorAt => ({ pos: at, reason });
  const skipWs = (): void => {
    while (i < n && isWs(s.charCodeAt(i))) i++;
  };
  const word = (w: string): boolean => {
    if (s.startsWith(w, i)) {
      i += w.length;
      return true;
    }
    return false;
  };
  const str = (): JsonErrorAt | null => {
    // at the opening quote
    const open = i;
    i++;
    for (;;) {
      if (i >= n) return err('unterminated string', open);
      const c = s.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return null;
      }
      if (c < 0x20) return err(`${describeChar(s, i)} inside a string`);
      if (c === 0x5c) {
        const e = s.charCodeAt(i + 1);
        if (e === 0x75) {
          for (let k = 2; k < 6; k++) {
            const h = s.charCodeAt(i + k);
            if (!((h >= 0x30 && h <= 0x39) || (h >= 0x41 && h <= 0x46) || (h >= 0x61 && h <= 0x66))) {
              return err('bad \\u escape in a string');
            }
          }
          i += 6;
        } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          i += 2;
        } else {
          return err('bad escape in a string');
        }
        continue;
      }
      i++;
    }
  };
  const num = (): JsonErrorAt | null => {
    const start = i;
    if (s.charCodeAt(i) === 0x2d) {
      i++;
      if (word('Infinity')) return null;
    }
    const d0 = s.charCodeAt(i);
    if (d0 === 0x30) i++;
    else if (d0 >= 0x31 && d0 <= 0x39) while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
    else return err('bad number', start);
    if (s.charCodeAt(i) === 0x2e) {
      i++;
      const f = i;
      while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
      if (i === f) return err('bad number', start);
    }
    const e = s.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const sg = s.charCodeAt(i);
      if (sg === 0x2b || sg === 0x2d) i++;
      const f = i;
      while (i < n && s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
      if (i === f) return err('bad number', start);
    }
    return null;
  };
  // a property name and its ':'
  const member = (): JsonErrorAt | null => {
    if (s.charCodeAt(i) !== 0x22) return err(`expected a property name, found ${describeChar(s, i)}`);
    const e = str();
    if (e) return e;
    skipWs();
    if (s.charCodeAt(i) !== 0x3a) return err(`expected ':', found ${describeChar(s, i)}`);
    i++;
    return null;
  };
  // state: 0 expect value, 1 after value
  let expectValue = true;
  for (;;) {
    skipWs();
    if (expectValue) {
      if (i >= n) return err('unexpected end of document');
      const c = s.charCodeAt(i);
      if (c === 0x7b) {
        i++;
        skipWs();
        if (s.charCodeAt(i) === 0x7d) {
          i++;
          expectValue = false;
          continue;
        }
        const e = member();
        if (e) return e;
        stack.push(0x7b);
        continue;
      }
      if (c === 0x5b) {
        i++;
        skipWs();
        if (s.charCodeAt(i) === 0x5d) {
          i++;
          expectValue = false;
          continue;
        }
        stack.push(0x5b);
        continue;
      }
      let e: JsonErrorAt | null = null;
      if (c === 0x22) e = str();
      else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) e = num();
      else if (!(word('true') || word('false') || word('null') || word('NaN') || word('Infinity'))) {
        return err(`unexpected ${describeChar(s, i)}`);
      }
      if (e) return e;
      expectValue = false;
      continue;
    }
    // after a value
    if (stack.length === 0) {
      if (i < n) return err(`unexpected ${describeChar(s, i)} after the end of the document`);
      return null;
    }
    const top = stack[stack.length - 1];
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i++;
      if (top === 0x7b) {
        skipWs();
        const e = member();
        if (e) return e;
      }
      expectValue = true;
      continue;
    }
    if ((top === 0x7b && c === 0x7d) || (top === 0x5b && c === 0x5d)) {
      i++;
      stack.pop();
      continue;
    }
    return err(`expected ',' or '${top === 0x7b ? '}' : ']'}', found ${describeChar(s, i)}`);
  }
}
