import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EtlError } from '../../src/errors';
import { openSource, readEverything } from '../support/hostile';

/**
 * Generated hostile input, in-process through the extractors (preflight, then reading and
 * normalizing every record as a run would): thousands of mutations of real-looking TinyDB, YAML
 * and lowdb files (truncations, byte flips, duplicated keys, deep nesting, stray syntax). Each must
 * either be refused by preflight as bad input (exit 2, one sentence, no stack) or be read in full
 * without an error: an input preflight accepted never fails after a stream could have committed.
 */
const ROOT = path.resolve(__dirname, '../..');
const SEEDS = {
  tinydb: fs.readFileSync(path.join(ROOT, 'fixtures/tinydb/chatcore.json')),
  'yaml-personas': fs.readFileSync(path.join(ROOT, 'fixtures/personas/persona.yaml')),
  lowdb: fs.readFileSync(path.join(ROOT, 'fixtures/lowdb/db.json')),
};

/** mulberry32: a seeded generator, so a failure names a case that can be replayed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRAY = ['{', '}', '[', ']', '"', ':', ',', '\\', '*a', '&a ', '!!python/object ', '<<: ', '\t', '\u0000', 'NaN', '1e400', '-', '\n', '\uD800', '\xff', ' #'];

type Mutation = (b: Buffer, rnd: () => number) => Buffer;
const at = (b: Buffer, rnd: () => number) => Math.floor(rnd() * (b.length + 1));

const MUTATIONS: Record<string, Mutation> = {
  truncate: (b, rnd) => b.subarray(0, at(b, rnd)),
  flipByte: (b, rnd) => {
    const c = Buffer.from(b);
    c[Math.min(at(b, rnd), c.length - 1)] ^= 1 << Math.floor(rnd() * 8);
    return c;
  },
  randomByte: (b, rnd) => {
    const c = Buffer.from(b);
    c[Math.min(at(b, rnd), c.length - 1)] = Math.floor(rnd() * 256);
    return c;
  },
  stray: (b, rnd) => {
    const i = at(b, rnd);
    return Buffer.concat([b.subarray(0, i), Buffer.from(STRAY[Math.floor(rnd() * STRAY.length)]), b.subarray(i)]);
  },
  /** A key (JSON `"k": v,`) or a whole line (YAML) written twice. */
  duplicate: (b, rnd) => {
    const s = b.toString('latin1');
    const keys = [...s.matchAll(/"[a-z_]+": ("[^"]*"|[0-9.]+|true|false|null), /g)];
    if (keys.length && s.startsWith('{')) {
      const m = keys[Math.floor(rnd() * keys.length)];
      return Buffer.from(s.slice(0, m.index) + m[0] + s.slice(m.index), 'latin1');
    }
    const lines = s.split('\n');
    const k = Math.floor(rnd() * lines.length);
    lines.splice(k, 0, lines[k]);
    return Buffer.from(lines.join('\n'), 'latin1');
  },
  /** A value replaced by arrays nested around the limit or far beyond it. */
  deepen: (b, rnd) => {
    const depth = [200, 256, 257, 400, 1000][Math.floor(rnd() * 5)];
    const s = b.toString('latin1');
    const values = [...s.matchAll(/: ("[^"\n]*"|[0-9.]+|true|false)/g)];
    if (!values.length) return b;
    const m = values[Math.floor(rnd() * values.length)];
    return Buffer.from(s.slice(0, m.index) + ': ' + '['.repeat(depth) + m[1] + ']'.repeat(depth) + s.slice(m.index! + m[0].length), 'latin1');
  },
  swap: (b, rnd) => {
    const i = at(b, rnd);
    const j = at(b, rnd);
    const [lo, hi] = i < j ? [i, j] : [j, i];
    return Buffer.concat([b.subarray(hi), b.subarray(lo, hi), b.subarray(0, lo)]);
  },
};

/** Up to three mutations on top of each other. */
function mutate(seed: Buffer, rnd: () => number): { bytes: Buffer; applied: string[] } {
  const names = Object.keys(MUTATIONS);
  let bytes = seed;
  const applied: string[] = [];
  for (let k = 1 + Math.floor(rnd() * 3); k > 0; k--) {
    const name = names[Math.floor(rnd() * names.length)];
    bytes = MUTATIONS[name](bytes, rnd);
    applied.push(name);
  }
  return { bytes, applied };
}

let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-fuzz-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CASES: [keyof typeof SEEDS, string, number, Record<string, 'message' | 'user'>][] = [
  ['tinydb', 'db.json', 1200, {}],
  ['yaml-personas', 'persona.yaml', 700, {}],
  ['lowdb', 'db.json', 400, { chats: 'message' }],
];

test.each(CASES)('%s: generated inputs end as a full read or as bad input (exit 2, one sentence)', async (pipeline, name, count, tableMap) => {
  const file = path.join(dir, `${pipeline}-${name}`);
  const outcomes = { read: 0, refused: 0 };
  const codes = new Set<string>();
  for (let i = 0; i < count; i++) {
    const seed = 1000 * CASES.findIndex((c) => c[0] === pipeline) + i;
    const { bytes, applied } = mutate(SEEDS[pipeline], random(seed));
    fs.writeFileSync(file, bytes);
    const replay = `case ${seed} (${applied.join(' + ')})`;
    let opened;
    try {
      opened = await openSource(pipeline, [file], tableMap);
    } catch (e) {
      if (!(e instanceof EtlError)) throw new Error(`${replay}: preflight threw ${(e as Error)?.stack ?? String(e)}`);
      expect({ replay, exit: e.exitCode, oneLine: !e.message.includes('\n') }).toEqual({ replay, exit: 2, oneLine: true });
      codes.add(e.code);
      outcomes.refused++;
      continue;
    }
    try {
      await readEverything(opened);
    } catch (e) {
      throw new Error(`${replay}: preflight accepted the file, then reading it threw ${(e as Error)?.stack ?? String(e)}`);
    }
    outcomes.read++;
  }
  // Both outcomes occur, or the generator is not testing what it claims to.
  expect(outcomes.read).toBeGreaterThan(count / 20);
  expect(outcomes.refused).toBeGreaterThan(count / 4);
  expect([...codes].every((c) => /^SOURCE_|^UNKNOWN_TABLE$|^USAGE$/.test(c))).toBe(true);
});
