import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { EtlError } from '../../src/errors';
import {
  compareTinyDbIds,
  preflightTinyDb,
  readAllTinyDb,
  readTinyDbTable,
  TINYDB_SEEK_EVERY,
  type ScanOptions,
  type TinyDbDoc,
  type TinyDbIndex,
} from '../../src/scan/tinydb-scan';

let dir: string;
let seq = 0;

beforeAll(() => {
  dir = fs.mkdtempSync(os.tmpdir() + '/etl-scan-');
});

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(content: string | Buffer, name = `f${++seq}.json`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, content);
  return p;
}

/** A document the reader yielded as plain fields: it parses (and hashes) its bytes only when asked. */
type PlainDoc = Omit<TinyDbDoc, 'digest'>;

async function docsOf(it: AsyncIterable<TinyDbDoc[]>): Promise<PlainDoc[]> {
  const out: PlainDoc[] = [];
  for await (const batch of it) for (const d of batch) out.push({ table: d.table, id: d.id, ordinal: d.ordinal, offset: d.offset, doc: d.doc });
  return out;
}

async function readAll(index: TinyDbIndex, opts?: ScanOptions & { maxDocs?: number }): Promise<PlainDoc[]> {
  return docsOf(readAllTinyDb(index, opts));
}

/** Tables as plain fields (without the optional seek/order structures). */
function shape(index: TinyDbIndex): unknown {
  return {
    size: index.size,
    sha256: index.sha256,
    nonFinite: index.nonFinite,
    bigInts: index.bigInts,
    tables: index.tables.map((t) => ({ name: t.name, count: t.count, start: t.start, end: t.end, ordered: t.ordered })),
  };
}

async function failure(p: Promise<unknown>): Promise<EtlError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof EtlError) return e;
    throw e;
  }
  throw new Error('expected an EtlError, got success');
}

// ---------------------------------------------------------------------------------------------
// Python-written files, compared with Python's own re-read

const PY = String.raw`
import json, math, sys
mode, out = sys.argv[1], sys.argv[2]
tr = "F\u0131r\u0131n b\u00f6l\u00fcm\u00fcnde kimler \u00e7al\u0131\u015f\u0131yor? \u0130\u011e\u00dc\u015e\u00d6\u00c7 \u0131\u011f\u00fc\u015f\u00f6\u00e7"
data = {
  "_default": {
    "1": {"user": "\u00dcn\u00efcode \U0001F600", "n": 1, "f": 1.5, "t": True, "x": None},
    "2": {"text": tr, "nul": "a\u0000b", "q": "she said \"hi\"", "bs": "C:\\path\\to\\", "mix": "\\\"\\\\\""},
    "3": {"nested": {"a": [1, [2, [3, {"b": "}]{["}]], {}], "c": {"d": {"e": []}}}, "emoji": "\U0001F389\U0001D11E\u2028\u2029", "ctl": "\t\n\r\b\f\u001f"},
  },
  "chat_history": {
    str(i): {"user_id": "admin", "role": "user" if i % 2 else "assistant", "content": tr * (i % 3) + " \U0001F600" * (i % 2),
             "timestamp": "2025-11-03T16:18:41.%06d" % i, "score": i / 7, "tags": ["a", {"k": i}]}
    for i in range(1, 40)
  },
  "odd ids": {"10": {"n": 10}, "2": {"n": 2}, "z": {"n": "z"}, "\u00e9": {"n": "e-acute"}, "\ue000": {"n": "pua"},
              "\U0001F600": {"n": "astral"}, "007": {"n": "007"}, "-1": {"n": "-1"}, "1": {"n": 1},
              "12345678901234567890": {"n": "long"}, "9999999999999999": {"n": "16 digits"}},
  "python-isms": {"1": {"nan": float("nan"), "inf": float("inf"), "ninf": float("-inf"), "big": 2**64 + 1, "nbig": -(2**64 + 1),
                        "safe": 2**53 - 1, "unsafe": 2**53, "arr": [float("nan"), 2**70], "s": "NaN Infinity 18446744073709551617"}},
  "empty": {},
  "t\u00e4ble \"q\"": {"5": {}},
}
if mode == "ascii":
  data["_default"]["4"] = {"lone": "\ud800x\udfff"}
  text = json.dumps(data)
else:
  text = json.dumps(data, indent=2, ensure_ascii=False)
with open(out, "w", encoding="utf-8") as f:
  f.write(text)

def stable(i):
  return (0, int(i), b"") if i.isascii() and i.isdigit() and (i == "0" or not i.startswith("0")) else (1, 0, i.encode("utf-8", "surrogatepass"))

def plain(v):
  if isinstance(v, float) and not math.isfinite(v): return None
  if isinstance(v, int) and not isinstance(v, bool) and abs(v) > 2**53 - 1: return str(v)
  if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
  if isinstance(v, list): return [plain(x) for x in v]
  return v

with open(out, encoding="utf-8") as f:
  back = json.loads(f.read())
print(json.dumps([[t, i, plain(back[t][i])] for t in back for i in sorted(back[t], key=stable)]))
`;

function python(mode: 'ascii' | 'utf8', name: string): { file: string; expected: [string, string, unknown][] } {
  const file = path.join(dir, name);
  const out = execFileSync('python3', ['-c', PY, mode, file], { encoding: 'utf8' });
  return { file, expected: JSON.parse(out) as [string, string, unknown][] };
}

describe('python-written TinyDB files', () => {
  const cases: ['ascii' | 'utf8', string][] = [
    ['ascii', 'py-ascii.json'],
    ['utf8', 'py-indent-utf8.json'],
  ];
  const made = new Map<string, { file: string; expected: [string, string, unknown][] }>();
  beforeAll(() => {
    for (const [mode, name] of cases) made.set(mode, python(mode, name));
  });

  test.each(cases)('%s: documents equal Python json.loads, in stable order', async (mode) => {
    const { file, expected } = made.get(mode)!;
    const bytes = fs.readFileSync(file);
    if (mode === 'ascii') expect(bytes.every((b) => b < 0x80)).toBe(true);
    else expect(bytes.some((b) => b >= 0x80)).toBe(true);
    const index = await preflightTinyDb(file);
    expect(index.path).toBe(file);
    expect(index.size).toBe(bytes.length);
    expect(index.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(index.nonFinite).toBe(4);
    expect(index.bigInts).toBe(4);
    expect(index.bom).toBe(false);
    expect(index.tables.map((t) => [t.name, t.count, t.ordered])).toEqual([
      ['_default', mode === 'ascii' ? 4 : 3, true],
      ['chat_history', 39, true],
      ['odd ids', 11, false],
      ['python-isms', 1, true],
      ['empty', 0, true],
      ['täble "q"', 1, true],
    ]);
    for (const t of index.tables) {
      expect(bytes[t.start]).toBe(0x7b);
      expect(bytes[t.end - 1]).toBe(0x7d);
      expect(() => JSON.parse(bytes.toString('utf8', t.start, t.end).replace(/NaN|-?Infinity/g, 'null'))).not.toThrow();
    }
    const docs = await readAll(index);
    expect(docs.map((d) => [d.table, d.id, d.doc])).toEqual(expected);
    // ordinals are 0..n-1 per table, offsets point at each document's `{`
    for (const t of index.tables) {
      const mine = docs.filter((d) => d.table === t.name);
      expect(mine.map((d) => d.ordinal)).toEqual(mine.map((_, k) => k));
      for (const d of mine) expect(bytes[d.offset]).toBe(0x7b);
    }
    const big = docs.find((d) => d.table === 'python-isms')!.doc;
    expect(big.big).toBe('18446744073709551617');
    expect(big.nbig).toBe('-18446744073709551617');
    expect(big.safe).toBe(9007199254740991);
    expect(big.unsafe).toBe('9007199254740992');
    expect(big.nan).toBeNull();
    expect(big.s).toBe('NaN Infinity 18446744073709551617');
    const odd = docs.filter((d) => d.table === 'odd ids').map((d) => d.id);
    expect(odd).toEqual(['1', '2', '10', '9999999999999999', '12345678901234567890', '-1', '007', 'z', 'é', '\ue000', '😀']);
    expect([...odd].reverse().sort(compareTinyDbIds)).toEqual(odd);
  });

  test.each(cases)('%s: chunk sizes 1..7 give identical results', async (mode) => {
    const { file } = made.get(mode)!;
    const ref = await preflightTinyDb(file);
    const refDocs = await readAll(ref);
    for (let chunkSize = 1; chunkSize <= 7; chunkSize++) {
      const index = await preflightTinyDb(file, { chunkSize });
      expect(shape(index)).toEqual(shape(ref));
      expect(await readAll(index, { chunkSize, maxDocs: chunkSize })).toEqual(refDocs);
    }
  });

  test.each(cases)('%s: resume from every ordinal of every table', async (mode) => {
    const { file } = made.get(mode)!;
    const index = await preflightTinyDb(file, { chunkSize: 5 });
    const all = await readAll(index);
    for (const t of index.tables) {
      const mine = all.filter((d) => d.table === t.name);
      for (let from = 0; from <= t.count + 1; from++) {
        const got = await docsOf(readTinyDbTable(index, t.name, from, { chunkSize: 61, maxDocs: 4 }));
        expect(got).toEqual(mine.slice(from));
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// truncation and corruption

async function expectTruncationsFail(full: Buffer, chunkSize?: number): Promise<number> {
  const complete = full.toString('latin1').trimEnd().length; // whitespace is ASCII, so latin1 length = bytes
  let failures = 0;
  for (let len = 1; len < full.length; len++) {
    const p = write(full.subarray(0, len), `trunc-${len}.json`);
    if (len >= complete) {
      const index = await preflightTinyDb(p, { chunkSize });
      expect(index.tables.length).toBeGreaterThan(0);
    } else {
      const e = await failure(preflightTinyDb(p, { chunkSize }));
      expect(e.code).toBe('SOURCE_CORRUPT');
      expect(e.message.startsWith(`${p} is truncated or corrupt at byte `)).toBe(true);
      const at = Number(/at byte (\d+)/.exec(e.message)![1]);
      expect(at).toBeLessThanOrEqual(len);
      expect(e.message).toMatch(/restore the file from a backup or re-export it from the legacy app\.$/);
      failures++;
    }
    fs.unlinkSync(p);
  }
  return failures;
}

describe('truncation at every byte offset', () => {
  const small =
    '{"_default": {"1": {"a": "x\\"y\\\\", "b": [1, -2.5e3, {"c": null}], "d": true}, "2": {"e": NaN, "f": "\\u00e7"}}, ' +
    '"t2": {"7": {"g": false, "h": 18446744073709551617}}, "t3": {}}\n\n';

  test('ascii one-line file: every cut fails with SOURCE_CORRUPT, file and byte named', async () => {
    const full = Buffer.from(small);
    const n = await expectTruncationsFail(full);
    expect(n).toBe(full.length - 3); // all but the 2 cuts that only drop trailing whitespace, and the full file
    await expectTruncationsFail(full, 2);
  });

  test('indented UTF-8 file (cuts inside multibyte characters too)', async () => {
    const text = JSON.stringify({ _default: { '1': { tr: 'çalışıyor İĞ', e: '😀𝄞', n: [1, { x: 'é' }] } }, u: {} }, null, 2) + '\n';
    await expectTruncationsFail(Buffer.from(text));
  });

  test('the message names table, document and byte of an unterminated string', async () => {
    const head = '{"chat_history": {"56": {"content": "ok"}, "57": {"content": "abc';
    const p = write(head);
    const e = await failure(preflightTinyDb(p));
    expect(e.code).toBe('SOURCE_CORRUPT');
    expect(e.message).toBe(
      `${p} is truncated or corrupt at byte ${head.length} (unterminated string in table "chat_history", document "57"); restore the file from a backup or re-export it from the legacy app.`,
    );
  });

  test.each([
    ['{"t": {"1": {"a": tru}}}', 18, /unexpected 't' in table "t", document "1"/],
    ['{"t": {"1": {"a": 1,}}}', 20, /expected a property name, found '}' in table "t", document "1"/],
    ['{"t": {"1": {"a": 01}}}', 19, /in table "t", document "1"/],
    ['{"t": {"1": {"a": "x\ty"}}}', 20, /control character U\+0009 inside a string in table "t", document "1"/],
    ['{"t": {"1": {"a": "\\x"}}}', 19, /bad escape/],
    ['{"t": {"1": {"a": [1}]}}}', 20, /expected ',' or '\]', found '}'/],
    ['{"t": {"1": {"a": -NaN}}}', 18, /in table "t", document "1"/],
    ['{"t" {}}', 5, /unexpected '\{' .*expected ':'/],
    ['{"t": {"1": {},}}', 15, /unexpected '}' in table "t"; expected a document id in quotes/],
    ['{"t": {"1": {}} "u": {}}', 16, /expected ',' or '}'/],
    ['{"t": {1: {}}}', 7, /expected a document id in quotes or '}'/],
    ['{"t\\q": {}}', 3, /bad escape in a table name in the top-level object/],
    ['{"t": {}} x', 10, /unexpected 'x' after the end of the top-level object/],
    ['{"t": {}}{}', 9, /after the end of the top-level object/],
    ['{"t": {}}\n\0\0\0', 10, /unexpected byte 0x00 after the end/],
    ['\0\0\0\0', 0, /unexpected byte 0x00 at the top level; expected '\{'/],
    ['\xef\xbb{"t": {}}', 2, /broken byte order mark/],
  ])('%j → SOURCE_CORRUPT at byte %d', async (text, at, reason) => {
    const p = write(Buffer.from(text, 'latin1'));
    const e = await failure(preflightTinyDb(p));
    expect(e.code).toBe('SOURCE_CORRUPT');
    expect(e.message).toContain(`${p} is truncated or corrupt at byte ${at} (`);
    expect(e.message).toMatch(reason);
  });

  test('the first bad document in the file is reported, however far the scan went on meanwhile', async () => {
    // Documents are checked on another thread in 1 MiB batches while the scanner reads on: ~3 MiB here.
    const docs = Array.from({ length: 3000 }, (_, k) => `"${k + 1}": {"text": "${'x'.repeat(1000)}", "k": ${k === 2499 ? 'tru' : k}}`);
    const badAt = Buffer.byteLength(`{"t": {${docs.slice(0, 2499).join(', ')}, "2500": {"text": "${'x'.repeat(1000)}", "k": `);
    const alone = await failure(preflightTinyDb(write(`{"t": {${docs.join(', ')}}}`)));
    expect(alone.code).toBe('SOURCE_CORRUPT');
    expect(alone.message).toContain('document "2500"');
    expect(alone.message).toContain(`byte ${badAt}`);
    // A problem the scanner meets later (an id twice, then bytes that are not UTF-8) gives way to it.
    for (const tail of [', "2999": {}', ', "3001": {"s": "\xff"}']) {
      const text = `{"t": {${docs.join(', ')}${tail}}}`.replace('\xff', '');
      const bytes = tail.includes('xff') ? Buffer.concat([Buffer.from(text.slice(0, -4)), Buffer.from([0xff]), Buffer.from(text.slice(-4))]) : Buffer.from(text);
      const p = path.join(dir, `bad-${seq++}.json`);
      fs.writeFileSync(p, bytes);
      const e = await failure(preflightTinyDb(p, { chunkSize: 64 * 1024 }));
      expect(e.message).toBe(alone.message.replace(/^\S+/, p));
    }
  });

  test('invalid UTF-8 is SOURCE_CORRUPT at the bad byte, whatever the chunking', async () => {
    const good = Buffer.from('{"t": {"1": {"a": "çé😀", "b": "');
    const p = write(Buffer.concat([good, Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')]));
    for (const chunkSize of [undefined, 1, 2, 3]) {
      const e = await failure(preflightTinyDb(p, { chunkSize }));
      expect(e.code).toBe('SOURCE_CORRUPT');
      expect(e.message).toContain(`${p} is not valid UTF-8 at byte ${good.length}; `);
    }
    const cut = write(Buffer.concat([Buffer.from('{"t": {}} '), Buffer.from([0xf0, 0x9f])]));
    expect((await failure(preflightTinyDb(cut))).code).toBe('SOURCE_CORRUPT');
  });
});

// ---------------------------------------------------------------------------------------------
// shapes, empty files, file errors

describe('shape and file checks', () => {
  test('0-byte, whitespace-only and BOM-only files are empty databases', async () => {
    for (const content of ['', ' \n\t\r\n  ', '\ufeff', '\ufeff\n']) {
      const p = write(content);
      const index = await preflightTinyDb(p);
      expect(index.tables).toEqual([]);
      expect(index.size).toBe(Buffer.byteLength(content));
      expect(await readAll(index)).toEqual([]);
    }
  });

  test('TinyDB 3 fresh file {"_default": {}} is one empty table', async () => {
    const p = write('{"_default": {}}');
    const index = await preflightTinyDb(p);
    expect(index.tables).toEqual([{ name: '_default', count: 0, start: 13, end: 15, ordered: true }]);
    expect(await docsOf(readTinyDbTable(index, '_default', 0))).toEqual([]);
  });

  test('a UTF-8 BOM is skipped and offsets stay file offsets', async () => {
    const p = write('\ufeff{"t": {"1": {"a": 1}}}');
    const index = await preflightTinyDb(p);
    expect(index.bom).toBe(true);
    expect(index.tables[0].start).toBe(9);
    expect(await readAll(index)).toEqual([{ table: 't', id: '1', ordinal: 0, offset: 15, doc: { a: 1 } }]);
  });

  test.each([
    ['[1, 2]', /the file holds an array, not an object of tables \(byte 0\)/],
    ['"abc"', /the file holds a string/],
    ['  42', /the file holds a number, not an object of tables \(byte 2\)/],
    ['null', /the file holds null/],
    ['{"t": [1, 2]}', /table "t" is an array, not an object of documents \(byte 6\)/],
    ['{"t": "x"}', /table "t" is a string/],
    ['{"t": {"1": 5}}', /document "1" in table "t" is a number, not an object \(byte 12\)/],
    ['{"t": {"1": {}, "2": [1]}}', /document "2" in table "t" is an array/],
    ['{"t": {"1": "doc"}}', /document "1" in table "t" is a string/],
    ['{"t": {"1": NaN}}', /document "1" in table "t" is a non-finite number/],
  ])('%j → SOURCE_NOT_TINYDB', async (text, what) => {
    const p = write(text);
    const e = await failure(preflightTinyDb(p));
    expect(e.code).toBe('SOURCE_NOT_TINYDB');
    expect(e.message.startsWith(`${p} is not a TinyDB database: `)).toBe(true);
    expect(e.message).toMatch(what);
    expect(e.message).toMatch(/etl expects \{table: \{doc_id: document\}\}\.$/);
  });

  test('missing file → SOURCE_NOT_FOUND', async () => {
    const p = path.join(dir, 'nope', 'missing.json');
    const e = await failure(preflightTinyDb(p));
    expect(e.code).toBe('SOURCE_NOT_FOUND');
    expect(e.message).toBe(`${p} does not exist. Check the path and run again.`);
  });

  test('directory → SOURCE_UNREADABLE', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'adir-'));
    const e = await failure(preflightTinyDb(d));
    expect(e.code).toBe('SOURCE_UNREADABLE');
    expect(e.message).toContain(`${d} is a directory`);
  });

  test('a file without read permission → SOURCE_UNREADABLE (root can read it, so then it loads)', async () => {
    const p = write('{"t": {}}');
    fs.chmodSync(p, 0o000);
    let readable = true;
    try {
      fs.closeSync(fs.openSync(p, 'r'));
    } catch {
      readable = false;
    }
    if (readable) {
      // root reads anything: the file must simply load
      expect((await preflightTinyDb(p)).tables).toHaveLength(1);
    } else {
      expect((await failure(preflightTinyDb(p))).code).toBe('SOURCE_UNREADABLE');
    }
    fs.chmodSync(p, 0o644);
  });

  test('whitespace around everything is accepted', async () => {
    const p = write(' \r\n{ "t" :\t{ "1" : { "a" : [ 1 , 2 ] } , "2":{}\n}\n,\n"u":{} }\n\n');
    const index = await preflightTinyDb(p);
    expect(index.tables.map((t) => [t.name, t.count])).toEqual([
      ['t', 2],
      ['u', 0],
    ]);
    expect((await readAll(index)).map((d) => d.doc)).toEqual([{ a: [1, 2] }, {}]);
  });

  test('table names and ids with escapes are decoded', async () => {
    const p = write('{"t\\u00e4\\"\\\\": {"\\u0031\\u0030": {"k\\n": "v"}, "\\ud83d\\ude00": {}}}');
    const index = await preflightTinyDb(p, { chunkSize: 3 });
    expect(index.tables[0].name).toBe('tä"\\');
    expect((await readAll(index, { chunkSize: 2 })).map((d) => [d.id, d.doc])).toEqual([
      ['10', { 'k\n': 'v' }],
      ['😀', {}],
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Python-isms

describe('NaN, Infinity and big integers', () => {
  test('NaN/Infinity/-Infinity are read as null and counted', async () => {
    const p = write('{"t": {"1": {"a": NaN, "b": Infinity, "c": -Infinity, "d": [NaN, 1.5, {"e": -Infinity}], "s": "NaN Infinity", "N": "x"}}}');
    const index = await preflightTinyDb(p);
    expect(index.nonFinite).toBe(5);
    expect(index.bigInts).toBe(0);
    const [d] = await readAll(index);
    expect(d.doc).toEqual({ a: null, b: null, c: null, d: [null, 1.5, { e: null }], s: 'NaN Infinity', N: 'x' });
  });

  test('integers beyond 2^53 are kept as exact decimal strings and counted', async () => {
    const p = write(
      '{"t": {"1": {"big": 18446744073709551617, "neg": -18446744073709551617, "safe": 9007199254740991, "unsafe": 9007199254740992, ' +
        '"nsafe": -9007199254740991, "f": 12345678901234567890.5, "e": 1.5e300, "x": 1234567890123456789e2, "arr": [18446744073709551617], ' +
        '"s": "18446744073709551617", "frac": 0.30000000000000004}}}',
    );
    for (const chunkSize of [undefined, 1, 4]) {
      const index = await preflightTinyDb(p, { chunkSize });
      expect(index.bigInts).toBe(4);
      const [d] = await readAll(index, { chunkSize });
      expect(d.doc).toEqual({
        big: '18446744073709551617',
        neg: '-18446744073709551617',
        safe: 9007199254740991,
        unsafe: '9007199254740992',
        nsafe: -9007199254740991,
        f: 12345678901234567890.5,
        e: 1.5e300,
        x: 1234567890123456789e2,
        arr: ['18446744073709551617'],
        s: '18446744073709551617',
        frac: 0.30000000000000004,
      });
    }
  });
});

// ---------------------------------------------------------------------------------------------
// order, resume, duplicates

describe('stable order and resume', () => {
  test('out-of-order ids read as 1, 2, 10, abc; resume from ordinal 2 gives 10, abc', async () => {
    const text = '{"t": {"10": {"n": 10}, "2": {"n": 2}, "abc": {"n": "abc"}, "1": {"n": 1}}}';
    const p = write(text);
    const index = await preflightTinyDb(p);
    expect(index.tables[0].ordered).toBe(false);
    expect(index.tables[0].order!.offsets).toBeInstanceOf(Float64Array);
    expect(Object.keys(index.tables[0])).toEqual(['name', 'count', 'start', 'end', 'ordered']); // order is non-enumerable
    const all = await docsOf(readTinyDbTable(index, 't', 0));
    expect(all.map((d) => [d.id, d.ordinal, d.doc])).toEqual([
      ['1', 0, { n: 1 }],
      ['2', 1, { n: 2 }],
      ['10', 2, { n: 10 }],
      ['abc', 3, { n: 'abc' }],
    ]);
    for (const d of all) expect(JSON.parse(text.slice(d.offset, text.indexOf('}', d.offset) + 1))).toEqual(d.doc);
    const resumed = await docsOf(readTinyDbTable(index, 't', 2));
    expect(resumed.map((d) => [d.id, d.ordinal])).toEqual([
      ['10', 2],
      ['abc', 3],
    ]);
    const batches: string[][] = [];
    for await (const b of readTinyDbTable(index, 't', 1, { maxDocs: 2 })) batches.push(b.map((d) => d.id));
    expect(batches).toEqual([['2', '10'], ['abc']]);
    expect(await docsOf(readTinyDbTable(index, 't', 4))).toEqual([]);
  });

  test('resume on an ordered table, in batches of maxDocs', async () => {
    const docs: Record<string, unknown> = {};
    for (let i = 1; i <= 50; i++) docs[String(i)] = { i, s: 'x'.repeat(i) };
    const p = write(JSON.stringify({ a: { '1': {} }, t: docs }));
    const index = await preflightTinyDb(p);
    expect(index.tables[1]).toMatchObject({ name: 't', count: 50, ordered: true });
    expect(index.tables[1].order).toBeUndefined();
    const sizes: number[] = [];
    const got: TinyDbDoc[] = [];
    for await (const b of readTinyDbTable(index, 't', 17, { maxDocs: 10, chunkSize: 64 })) {
      sizes.push(b.length);
      got.push(...b);
    }
    expect(sizes).toEqual([10, 10, 10, 3]);
    expect(got.map((d) => d.ordinal)).toEqual(Array.from({ length: 33 }, (_, k) => 17 + k));
    expect(got.map((d) => d.doc)).toEqual(Array.from({ length: 33 }, (_, k) => ({ i: 18 + k, s: 'x'.repeat(18 + k) })));
  });

  test('seek points: resume deep into a large ordered table', async () => {
    const n = 2 * TINYDB_SEEK_EVERY + 500;
    const parts: string[] = [];
    for (let i = 1; i <= n; i++) parts.push(`"${i}": {"i": ${i}, "s": "${'é'.repeat(i % 5)}"}`);
    const p = write(`{"t": {${parts.join(', ')}}}`);
    const index = await preflightTinyDb(p, { chunkSize: 4096 });
    expect(index.tables[0].seek).toHaveLength(2);
    for (const from of [0, TINYDB_SEEK_EVERY - 1, TINYDB_SEEK_EVERY, TINYDB_SEEK_EVERY + 1, 2 * TINYDB_SEEK_EVERY, n - 1]) {
      const first = (await readTinyDbTable(index, 't', from, { maxDocs: 3, chunkSize: 777 }).next()).value as TinyDbDoc[];
      expect(first.map((d) => [d.ordinal, d.id, d.doc.i])).toEqual(
        Array.from({ length: Math.min(3, n - from) }, (_, k) => [from + k, String(from + k + 1), from + k + 1]),
      );
    }
    expect((await docsOf(readTinyDbTable(index, 't', 0))).length).toBe(n);
  });

  test.each([
    ['{"t": {"1": {}, "1": {"a": 1}}}', '"1"', 12, 21],
    ['{"t": {"2": {}, "1": {}, "2": {}}}', '"2"', 12, 30],
    ['{"t": {"a": {}, "b": {}, "a": {}}}', '"a"', 12, 30],
    ['{"t": {"x": {}}, "u": {"\\u0078": {}, "x": {}}}', '"x"', 33, 42],
  ])('duplicate id %j → SOURCE_CORRUPT', async (text, id, first, second) => {
    const p = write(text);
    const e = await failure(preflightTinyDb(p));
    expect(e.code).toBe('SOURCE_CORRUPT');
    expect(e.message).toContain(`has document id ${id} twice in table "`);
    expect(e.message).toContain(`(at bytes ${first} and ${second})`);
  });

  test('duplicate table → SOURCE_CORRUPT', async () => {
    const e = await failure(preflightTinyDb(write('{"t": {}, "t": {"1": {}}}')));
    expect(e.code).toBe('SOURCE_CORRUPT');
    expect(e.message).toContain('has table "t" twice');
  });

  test('unknown table → UNKNOWN_TABLE', async () => {
    const index = await preflightTinyDb(write('{"t": {}}'));
    const e = await failure(docsOf(readTinyDbTable(index, 'users', 0)));
    expect(e.code).toBe('UNKNOWN_TABLE');
    expect(e.message).toContain('no table "users" (its tables: "t")');
  });

  test('a file changed after preflight is refused', async () => {
    const p = write('{"t": {"1": {"a": 1}}}');
    const index = await preflightTinyDb(p);
    fs.writeFileSync(p, '{"t": {"1": {"a": 12}}}');
    const e = await failure(docsOf(readTinyDbTable(index, 't', 0)));
    expect(e.code).toBe('SOURCE_CHANGED');
    expect(e.message).toContain('changed after it was checked');
  });

  test('a consumer can stop early', async () => {
    const docs: Record<string, unknown> = {};
    for (let i = 1; i <= 5000; i++) docs[String(i)] = { i };
    const index = await preflightTinyDb(write(JSON.stringify({ t: docs })));
    let seen = 0;
    for await (const b of readTinyDbTable(index, 't', 0, { maxDocs: 100, chunkSize: 1024 })) {
      seen += b.length;
      if (seen >= 300) break;
    }
    expect(seen).toBe(300);
  });

  test("a document's digest is 16 bytes of sha256 over its bytes in the file, UUID-shaped", async () => {
    const text = '{"t": {"1": {"x": "é", "n": [1, 2]}, "2": {"x": "é", "n": [1, 2]}, "3": {"x": "e"}}}';
    const index = await preflightTinyDb(write(text));
    const docs: TinyDbDoc[] = [];
    for await (const batch of readTinyDbTable(index, 't', 0)) docs.push(...batch);
    const bytes = Buffer.from(text);
    const first = createHash('sha256').update(bytes.subarray(docs[0].offset, bytes.indexOf('}', docs[0].offset) + 1)).digest('hex');
    expect(docs[0].digest).toBe(`${first.slice(0, 8)}-${first.slice(8, 12)}-${first.slice(12, 16)}-${first.slice(16, 20)}-${first.slice(20, 32)}`);
    expect(docs[1].digest).toBe(docs[0].digest);
    expect(docs[2].digest).not.toBe(docs[0].digest);
  });

  test('sha256 and size match the file', async () => {
    const p = write('\ufeff{"_default": {"1": {"x": "é"}}}  \n');
    const index = await preflightTinyDb(p, { chunkSize: 7 });
    const bytes = fs.readFileSync(p);
    expect(index.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    expect(index.size).toBe(bytes.length);
  });
});

// ---------------------------------------------------------------------------------------------
// memory: not a timing

test('memory stays flat on a ~150 MB file', async () => {
  // generated by a child process, so building the file does not raise this process's peak RSS
  const p = path.join(dir, 'big.json');
  const gen = String.raw`
    const fs = require('fs');
    const fd = fs.openSync(process.argv[1], 'w');
    const target = 150 * 1024 * 1024;
    let bytes = 0, id = 0;
    fs.writeSync(fd, '{"_default": {}, "chat_history": {');
    while (bytes < target) {
      const parts = [];
      for (let k = 0; k < 2000; k++) {
        id++;
        parts.push('"' + id + '": {"user_id": "u' + (id % 977) + '", "role": "' + (id % 2 ? 'user' : 'assistant') + '", "content": "F\u0131r\u0131n b\u00f6l\u00fcm\u00fcnde kimler \u00e7al\u0131\u015f\u0131yor? message number ' + id + ' with some padding text to look like a chat line", "timestamp": "2025-11-03T16:18:41.472461", "conversation_id": "d95a1156", "message_id": "0c714cf5-6d6-' + id + '"}');
      }
      const s = (id > 2000 ? ', ' : '') + parts.join(', ');
      bytes += s.length;
      fs.writeSync(fd, s);
    }
    fs.writeSync(fd, '}}');
    fs.closeSync(fd);
    process.stdout.write(String(id));
  `;
  const id = Number(execFileSync(process.execPath, ['-e', gen, p], { encoding: 'utf8' }));
  const size = fs.statSync(p).size;
  expect(size).toBeGreaterThan(150 * 1024 * 1024);

  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  const base = process.memoryUsage.rss();
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 5);
  try {
    const index = await preflightTinyDb(p);
    expect(index.tables[1]).toMatchObject({ name: 'chat_history', count: id, ordered: true });
    let n = 0;
    for await (const batch of readAllTinyDb(index)) {
      n += batch.length;
      peak = Math.max(peak, process.memoryUsage.rss());
    }
    expect(n).toBe(id);
  } finally {
    clearInterval(timer);
    fs.unlinkSync(p);
  }
  const maxRssGrowth = process.resourceUsage().maxRSS * 1024 - maxRssBefore;
  const limit = 150 * 1024 * 1024;
  if (process.env.ETL_SCAN_MEM_LOG) console.log({ sampledGrowthMiB: (peak - base) / 1048576, maxRssGrowthMiB: maxRssGrowth / 1048576, fileMiB: size / 1048576 });
  expect(peak - base).toBeLessThan(limit);
  expect(maxRssGrowth).toBeLessThan(limit);
});

// ---------------------------------------------------------------------------------------------
// randomized: generated files and single-byte corruptions against JSON.parse of the whole file

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = ['a', 'b', ' ', '"', '\\', '\n', '\t', 'é', 'ı', '😀', '\u0000', '\u2028', '{', '}', '[', ']', ':', ',', 'NaN', '/'];

function randomValue(r: () => number, depth: number): unknown {
  const k = Math.floor(r() * (depth > 2 ? 5 : 7));
  switch (k) {
    case 0: {
      let s = '';
      const n = Math.floor(r() * 12);
      for (let i = 0; i < n; i++) s += PIECES[Math.floor(r() * PIECES.length)];
      return s;
    }
    case 1:
      return Math.floor((r() - 0.5) * 1e6);
    case 2:
      return (r() - 0.5) * 10 ** Math.floor(r() * 35 - 20); // below 2^53: JS would print bigger floats as integers
    case 3:
      return r() < 0.5;
    case 4:
      return null;
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () => randomValue(r, depth + 1));
    default:
      return randomDoc(r, depth + 1);
  }
}

function randomDoc(r: () => number, depth = 0): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const n = Math.floor(r() * 5);
  for (let i = 0; i < n; i++) o[['k', 'ü', 'x"y', '\\', 'NaN', ''][Math.floor(r() * 6)] + i] = randomValue(r, depth);
  return o;
}

function randomDb(r: () => number): Record<string, Record<string, unknown>> {
  const db: Record<string, Record<string, unknown>> = {};
  const tables = Math.floor(r() * 4);
  for (let t = 0; t < tables; t++) {
    const docs: Record<string, unknown> = {};
    const n = Math.floor(r() * 8);
    const shuffled = r() < 0.3;
    for (let i = 1; i <= n; i++) {
      const id = r() < 0.1 ? `id-${PIECES[Math.floor(r() * PIECES.length)]}${i}` : String(shuffled ? Math.floor(r() * 1000) : i);
      docs[id] = randomDoc(r);
    }
    db[['_default', 'users', 't "q"', 'ç'][t]] = docs;
  }
  return db;
}

function expectedDocs(db: Record<string, Record<string, unknown>>): [string, string, unknown][] {
  const out: [string, string, unknown][] = [];
  for (const t of Object.keys(db)) {
    for (const id of Object.keys(db[t]).sort(compareTinyDbIds)) out.push([t, id, db[t][id]]);
  }
  return out;
}

test('random databases read back as JSON.parse of the whole file, at random chunk sizes', async () => {
  const r = prng(20251123);
  for (let round = 0; round < 60; round++) {
    const db = randomDb(r);
    const text = JSON.stringify(db, null, r() < 0.5 ? 2 : undefined);
    const p = write(text, `rand-${round}.json`);
    const chunkSize = 1 + Math.floor(r() * 40);
    const index = await preflightTinyDb(p, { chunkSize });
    const docs = await readAll(index, { chunkSize: 1 + Math.floor(r() * 40), maxDocs: 1 + Math.floor(r() * 5) });
    expect(docs.map((d) => [d.table, d.id, d.doc])).toEqual(expectedDocs(JSON.parse(text) as Record<string, Record<string, unknown>>));
  }
});

test('single-byte corruptions: same result as JSON.parse, or an EtlError naming a byte', async () => {
  const r = prng(7);
  const base =
    '{"_default": {"1": {"a": "x\\"y", "b": [1, 2.5, {"c": null}], "d": true}, "2": {"e": -3e-7, "f": "\\u00e7"}}, ' +
    '"t2": {"7": {"g": false, "h": [[], {}]}, "8": {}}, "t3": {}}';
  const alphabet = '{}[]":,\\ a1-.entfl0\n';
  let ok = 0;
  let failed = 0;
  for (let round = 0; round < 400; round++) {
    const bytes = Buffer.from(base);
    const at = Math.floor(r() * bytes.length);
    bytes[at] = alphabet.charCodeAt(Math.floor(r() * alphabet.length));
    const text = bytes.toString('latin1');
    const p = write(bytes, 'mut.json');
    let parsed: unknown;
    let parses = true;
    try {
      parsed = JSON.parse(text);
    } catch {
      parses = false;
    }
    const isTinyDb =
      parses &&
      parsed !== null &&
      typeof parsed === 'object' &&
      !Array.isArray(parsed) &&
      Object.values(parsed as object).every(
        (t) => t !== null && typeof t === 'object' && !Array.isArray(t) && Object.values(t as object).every((d) => d !== null && typeof d === 'object' && !Array.isArray(d)),
      );
    try {
      const index = await preflightTinyDb(p, { chunkSize: 1 + (round % 9) });
      expect(isTinyDb).toBe(true);
      const docs = await readAll(index);
      expect(docs.map((d) => [d.table, d.id, d.doc])).toEqual(expectedDocs(parsed as Record<string, Record<string, unknown>>));
      ok++;
    } catch (e) {
      if (!(e instanceof EtlError)) throw e;
      failed++;
      if (e.code === 'SOURCE_NOT_TINYDB') {
        expect(isTinyDb).toBe(false);
      } else {
        expect(e.code).toBe('SOURCE_CORRUPT');
        // JSON.parse keeps the last of duplicate keys; we refuse them
        if (parses) expect(e.message).toMatch(/twice/);
      }
      expect(e.message).toMatch(/byte \d+/);
    }
  }
  expect(ok).toBeGreaterThan(20);
  expect(failed).toBeGreaterThan(100);
});
