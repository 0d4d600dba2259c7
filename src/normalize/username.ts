import { CASEFOLD, PYTHON_WHITESPACE } from './casefold-data';

const ASCII = /^[\x00-\x7F]*$/;

/**
 * Python's `str.casefold()`. Python folds code point by code point with no context, so a table
 * lookup per code point is exact; the table is pinned to Python's Unicode data rather than Node's
 * ICU so that keys derived from it do not move when Node is upgraded.
 */
export function casefold(s: string): string {
  // For ASCII, casefold is A-Z -> a-z in every Unicode version.
  if (ASCII.test(s)) return s.toLowerCase();
  let out = '';
  // for..of walks code points, so astral letters (Deseret, Adlam…) are looked up whole;
  // a lone surrogate comes through as itself and folds to itself, as in Python.
  for (const ch of s) out += CASEFOLD.get(ch.codePointAt(0)!) ?? ch;
  return out;
}

/** Python's `str.strip()` with no arguments: removes `str.isspace()` characters, not JS `trim()`'s set. */
function strip(s: string): string {
  // Every Python whitespace character is in the BMP, so UTF-16 code units are enough here.
  let start = 0;
  let end = s.length;
  while (start < end && PYTHON_WHITESPACE.has(s.charCodeAt(start))) start++;
  while (end > start && PYTHON_WHITESPACE.has(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}

/** The legacy apps' login key: exactly Python's `raw.strip().casefold()`. */
export function foldUsername(raw: string): string {
  return casefold(strip(raw));
}
