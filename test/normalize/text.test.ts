import { repairDeep, repairText } from '../../src/normalize/text';

describe('repairText', () => {
  test.each([
    ['a\u0000b', 'a\uFFFDb', 1],
    ['\u0000\u0000', '\uFFFD\uFFFD', 2],
    ['end\uD83D', 'end\uFFFD', 1],
    ['\uDE00start', '\uFFFDstart', 1],
    ['\uDE00\uD83D', '\uFFFD\uFFFD', 2], // low before high is not a pair
    ['\uD83D\uD83D\uDE00', '\uFFFD\uD83D\uDE00', 1], // the second high pairs with the low
    ['\uD83D\uDE00\uDE00', '\uD83D\uDE00\uFFFD', 1],
  ])('%j -> %j (%i repaired)', (input, value, repaired) => {
    expect(repairText(input)).toEqual({ value, repaired });
  });

  test('leaves clean text alone, astral characters and U+FFFD included', () => {
    for (const s of ['', 'hello', '😀 𐐀 ﬁ', 'already \uFFFD replaced', 'tab\tand\nnewline\u0001']) {
      expect(repairText(s)).toEqual({ value: s, repaired: 0 });
    }
  });

  test('random UTF-16: output is well-formed, has no NUL, and the count is what was replaced', () => {
    let state = 7;
    const unit = (): number => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return [0, 0x41, 0xd83d, 0xde00, 0xdbff, 0xdc00, 0xfffd, 0xe9][state % 8];
    };
    for (let i = 0; i < 2000; i++) {
      const input = String.fromCharCode(...Array.from({ length: 1 + (i % 9) }, unit));
      const { value, repaired } = repairText(input);
      expect(value).not.toContain('\u0000');
      expect(Buffer.from(value, 'utf8').toString('utf8')).toBe(value); // lone surrogates would not survive UTF-8
      expect(value).toHaveLength(input.length);
      expect(repaired).toBe(countFffd(value) - countFffd(input));
    }
  });
});

describe('repairDeep', () => {
  test('returns the same instance when nothing needs repair', () => {
    const doc = { a: 'x', b: [1, 'y', { c: null, d: true }], e: { f: 'z' } };
    const result = repairDeep(doc);
    expect(result.value).toBe(doc);
    expect(result.repaired).toBe(0);
  });

  test('repairs strings in nested arrays and objects and keys, copying only the changed path', () => {
    const untouched = { keep: 'me' };
    const list = ['ok', 'bad\u0000'];
    const doc = { 'k\u0000ey': 'v', nested: { list, untouched }, n: 3 };
    const { value, repaired } = repairDeep(doc);
    expect(repaired).toBe(2);
    expect(value).toEqual({ 'k\uFFFDey': 'v', nested: { list: ['ok', 'bad\uFFFD'], untouched: { keep: 'me' } }, n: 3 });
    expect(value.nested.untouched).toBe(untouched);
    expect(list).toEqual(['ok', 'bad\u0000']); // input not mutated
    expect(Object.keys(value)).toEqual(['k\uFFFDey', 'nested', 'n']); // key order kept
  });

  test('a top-level string and non-JSON values', () => {
    expect(repairDeep('\uD800')).toEqual({ value: '\uFFFD', repaired: 1 });
    const date = new Date(0);
    expect(repairDeep(date).value).toBe(date);
    expect(repairDeep(null)).toEqual({ value: null, repaired: 0 });
    expect(repairDeep(42)).toEqual({ value: 42, repaired: 0 });
  });

  test('a "__proto__" key from JSON.parse stays an own data property', () => {
    const doc = JSON.parse('{"__proto__": {"x": "\\u0000"}, "y": 1}') as Record<string, unknown>;
    const { value, repaired } = repairDeep(doc);
    expect(repaired).toBe(1);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(value, '__proto__')?.value).toEqual({ x: '\uFFFD' });
  });
});

function countFffd(s: string): number {
  return s.split('\uFFFD').length - 1;
}
