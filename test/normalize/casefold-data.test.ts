import { CASEFOLD, PYTHON_WHITESPACE, UNICODE_VERSION } from '../../src/normalize/casefold-data';
import { casefold } from '../../src/normalize/username';
import { runPython } from './python';

// The same derivation as the generator in casefold-data.ts's header.
const python = runPython<{ version: string; fold: [number, string][]; space: number[] }>(
  `import unicodedata
out({'version': unicodedata.unidata_version,
     'fold': [[c, chr(c).casefold()] for c in range(0x110000) if chr(c).casefold() != chr(c)],
     'space': [c for c in range(0x110000) if chr(c).isspace()]})`,
);
const stale = `casefold-data.ts (Unicode ${UNICODE_VERSION}) differs from this python3 (Unicode ${python.version}); regenerate it with the script in its header if the legacy apps moved to that Python`;

describe('casefold-data.ts is what python3 derives', () => {
  test('CASEFOLD has exactly the code points Python casefolds, with the same result', () => {
    const ours = [...CASEFOLD];
    const theirs = new Map(python.fold);
    const diff = [
      ...ours.filter(([c, f]) => theirs.get(c) !== f).map(([c]) => c),
      ...python.fold.filter(([c]) => !CASEFOLD.has(c)).map(([c]) => c),
    ].map((c) => `U+${c.toString(16).toUpperCase()}`);
    expect({ diff, message: diff.length ? stale : '' }).toEqual({ diff: [], message: '' });
    expect(ours).toHaveLength(python.fold.length);
  });

  test('PYTHON_WHITESPACE is exactly str.isspace()', () => {
    expect([...PYTHON_WHITESPACE].sort((a, b) => a - b)).toEqual(python.space);
  });

  test('casefold() of every code point except surrogates equals Python', () => {
    const theirs = new Map(python.fold);
    const wrong: string[] = [];
    for (let c = 0; c <= 0x10ffff; c++) {
      if (c >= 0xd800 && c <= 0xdfff) continue;
      const ch = String.fromCodePoint(c);
      if (casefold(ch) !== (theirs.get(c) ?? ch)) wrong.push(`U+${c.toString(16).toUpperCase()}`);
    }
    expect(wrong).toEqual([]);
  });

  test('multi-character folds and İ come out whole', () => {
    const theirs = new Map(python.fold);
    for (const ch of ['ß', 'ŉ', 'ΐ', 'ﬃ', 'ᾼ', 'İ']) expect(casefold(ch)).toBe(theirs.get(ch.codePointAt(0)!));
    expect(casefold('İ')).toBe('i\u0307');
  });
});
