import { casefold, foldUsername } from '../../src/normalize/username';
import { runPython } from './python';

const VECTORS = [
  'Straße',
  'STRASSE',
  'ß',
  'ẞ',
  'ΣΊΣΥΦΟΣ',
  'ς',
  'σ',
  'İstanbul',
  'ISTANBUL',
  'ıi',
  'İ',
  'ı',
  'I',
  'ﬁle',
  'ﬀ',
  'ﬃ',
  'ＡＢＣ',
  'ꭰꭱ Ꮳ Ᏸ ᏸ',
  'ᾳ',
  'ᾼ',
  'ᾈ',
  'ŉ',
  'ΐ',
  'ǰ',
  'µ',
  'K', // KELVIN SIGN
  'Å', // ANGSTROM SIGN
  '𐐀𐐨',
  '𞤀dlam',
  'ⓐⒶ',
  'Ⅻ',
  'Ꞵ', // Unicode 14 and older: same in Node and Python
  'Ꟛ', // U+A7DA, Unicode 16: Node's toLowerCase folds it, Python 3.11 does not
  '\u{10D50}', // Garay capital, Unicode 16
  '\u00A0\u2003\u3000Admin\u0085\u001C',
  '\uFEFFAdmin\uFEFF',
  '\t\nAdmin \t\n',
  '\u001F\u001D x \u001E',
  '\u200BAdmin\u200B',
  '\u180EAdmin',
  '',
  '   ',
  'plain_ascii-User.42',
  'a\uD800b', // lone surrogate: kept, as in Python
];

describe('foldUsername / casefold match Python', () => {
  const expected = runPython<{ folded: string[]; casefolded: string[] }>(
    "out({'folded': [s.strip().casefold() for s in data], 'casefolded': [s.casefold() for s in data]})",
    VECTORS,
  );

  test.each(VECTORS.map((v, i) => [JSON.stringify(v), i] as const))('foldUsername(%s) == s.strip().casefold()', (_, i) => {
    expect(foldUsername(VECTORS[i])).toBe(expected.folded[i]);
  });

  test.each(VECTORS.map((v, i) => [JSON.stringify(v), i] as const))('casefold(%s) == s.casefold()', (_, i) => {
    expect(casefold(VECTORS[i])).toBe(expected.casefolded[i]);
  });

  test('random mixed strings (BMP, astral, whitespace at both ends) fold like Python', () => {
    const inputs = randomStrings(500, 0x5eed);
    const folded = runPython<string[]>('out([s.strip().casefold() for s in data])', inputs);
    expect(inputs.map(foldUsername)).toEqual(folded);
  });
});

describe('foldUsername', () => {
  test('is not toLowerCase: ß, final sigma and ligatures fold fully', () => {
    expect(foldUsername('Straße')).toBe(foldUsername('STRASSE'));
    expect(foldUsername('ΣΊΣΥΦΟΣ')).toBe(foldUsername('σίσυφοσ'));
    expect(foldUsername('ﬁle')).toBe('file');
    expect('ΣΊΣΥΦΟΣ'.toLowerCase()).not.toBe(foldUsername('ΣΊΣΥΦΟΣ'));
  });

  test('strips what Python strips, not what JS trim() strips', () => {
    expect(foldUsername('\u0085\u001CBob\u001F')).toBe('bob');
    expect(foldUsername('\uFEFFBob')).toBe('\uFEFFbob');
    expect(' \uFEFFBob'.trim()).toBe('Bob');
  });
});

/** Deterministic strings drawn from cased letters in every plane, whitespace and plain ASCII. */
function randomStrings(count: number, seed: number): string[] {
  let state = seed;
  const next = (n: number): number => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state % n;
  };
  const pools = [
    [0x41, 0x7a],
    [0xc0, 0x24f],
    [0x370, 0x3ff],
    [0x400, 0x52f],
    [0x1e00, 0x1fff],
    [0x13a0, 0x13fd],
    [0xab70, 0xabbf],
    [0xfb00, 0xfb17],
    [0xff21, 0xff5a],
    [0x10400, 0x1044f],
    [0x1e900, 0x1e943],
    [0x10c80, 0x10cff],
    [0x16e40, 0x16e7f],
  ];
  const spaces = [0x20, 0x9, 0xa, 0x1c, 0x1f, 0x85, 0xa0, 0x2003, 0x3000, 0xfeff, 0x200b];
  const pick = (list: number[]): string => String.fromCodePoint(list[next(list.length)]);
  return Array.from({ length: count }, () => {
    let s = '';
    for (let i = next(3); i > 0; i--) s += pick(spaces);
    for (let i = 1 + next(12); i > 0; i--) {
      const [lo, hi] = pools[next(pools.length)];
      s += String.fromCodePoint(lo + next(hi - lo + 1));
    }
    for (let i = next(3); i > 0; i--) s += pick(spaces);
    return s;
  });
}
