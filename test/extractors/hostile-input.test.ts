import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MAX_DEPTH } from '../../src/scan/limits';
import { preflightTinyDb, readTinyDbTable } from '../../src/scan/tinydb-scan';
import { expectBadInput, failure, openSource, readEverything } from '../support/hostile';

/**
 * Hostile input never crashes: each class of bad input is refused by preflight (exit 2, one
 * sentence naming the file) or loads; nothing that preflight accepted fails later.
 */
let dir: string;
beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-hostile-'))));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

let seq = 0;
function write(name: string, content: string | Buffer): string {
  const p = path.join(dir, `${seq++}-${name}`);
  fs.writeFileSync(p, content);
  return p;
}

const nested = (depth: number, inner = '1') => '['.repeat(depth) + inner + ']'.repeat(depth);
const users = (doc: string) => `{"users": {"1": ${doc}}}`;

describe('nesting depth is limited (MAX_DEPTH) in every reader, checked in preflight', () => {
  test(`the documented limit is ${MAX_DEPTH}`, () => expect(MAX_DEPTH).toBe(256));

  test('TinyDB: a document nested 100,000 arrays deep is refused with its table, document and byte', async () => {
    const p = write('deep.json', users(`{"username": "a", "x": ${nested(100_000)}}`));
    expectBadInput(await failure(openSource('tinydb', [p])), /more than 256 levels deep in table "users", document "1" \(byte \d+\)/);
  });

  test('TinyDB: a document exactly at the limit loads; one level more is refused', async () => {
    const ok = await openSource('tinydb', [write('at-limit.json', users(`{"username": "a", "x": ${nested(MAX_DEPTH - 1)}}`))]);
    expect(await readEverything(ok)).toBe(1);
    const p = write('over-limit.json', users(`{"username": "a", "x": ${nested(MAX_DEPTH)}}`));
    expectBadInput(await failure(openSource('tinydb', [p])), /more than 256 levels deep/);
  });

  test('lowdb: a collection item nested 100,000 deep is refused with its line and column', async () => {
    const p = write('deep-lowdb.json', `{"users": [{"username": "a", "x": ${nested(100_000)}}]}`);
    expectBadInput(await failure(openSource('lowdb', [p])), /deep-lowdb\.json nests arrays or objects more than 256 levels deep at line 1, column \d+/);
  });

  test('documents: a documents file nested 100,000 deep is refused', async () => {
    const docs = fs.mkdtempSync(path.join(dir, 'docs-'));
    fs.writeFileSync(path.join(docs, 'faqs.json'), `[{"q": ${nested(100_000)}}]`);
    const db = write('db.json', '{"users": {}}');
    expectBadInput(await failure(openSource('tinydb', [db], {}, docs)), /faqs\.json nests arrays or objects more than 256 levels deep/);
  });

  test('YAML: a persona nested 100,000 and 1,000 deep is refused', async () => {
    for (const depth of [100_000, 1000]) {
      const p = write('deep.yaml', `personas:\n  - name: x\n    catchphrases: ${nested(depth, '"a"')}\n`);
      expectBadInput(await failure(openSource('yaml-personas', [p])), /deep\.yaml (is not valid YAML at line \d+, column \d+: it nests too deeply|nests arrays or objects more than 256 levels deep)/);
    }
  });
});

describe('YAML: every error of the yaml package is one sentence', () => {
  test('an alias bomb (ten levels of nine aliases) under a persona prompt is refused, not expanded', async () => {
    let bomb = 'personas:\n  - name: x\n    prompt: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i <= 10; i++) bomb += `  - name: p${i}\n    prompt: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
    const p = write('bomb.yaml', bomb);
    expectBadInput(await failure(openSource('yaml-personas', [p])), /bomb\.yaml expands aliases \(\*name\) more than 100 times/);
  });

  test.each([
    ['an unknown tag', 'personas: !!python/object:os.system [1]\n', /line 1, column 1\d: an unknown tag/],
    ['an alias to no anchor', 'personas:\n  - name: *nope\n', /cannot be read as YAML \(Unresolved alias .*: nope\); fix the file/],
    ['an alias used before its anchor', 'personas:\n  - name: *a\n  - name: &a x\n', /cannot be read as YAML \(Unresolved alias .*: a\); fix the file/],
    ['an unterminated quote', "personas:\n  - name: x\n    prompt: '\n", /is not valid YAML at line 4, column 1: Missing closing 'quote/],
    ['a stray flow bracket', 'personas: [\n', /is not valid YAML at line \d+, column \d+/],
  ])('%s', async (_name, text, message) => {
    expectBadInput(await failure(openSource('yaml-personas', [write('bad.yaml', text)])), message);
  });

  test('merge keys (<<) are applied as PyYAML does, with no unknown-field note', async () => {
    const p = write('merge.yaml', 'personas:\n  - &base\n    name: Base\n    tone: calm\n    proactivity: 0.5\n  - <<: *base\n    name: Derived\n');
    const opened = await openSource('yaml-personas', [p]);
    expect(opened.notes).toEqual([]);
    const [records] = await (async () => {
      const out = [];
      for await (const r of opened.streams.find((s) => s.name === 'personas')!.read(0)) out.push(r);
      return out;
    })();
    expect(records[1].entity).toMatchObject({ name: 'Derived', tone: 'calm', proactivity: 0.5 });
  });
});

describe('the file system: not a file, pipes, devices, loops, files that vanish or change', () => {
  const fifo = () => {
    const p = path.join(dir, `fifo-${seq++}`);
    execFileSync('mkfifo', [p]);
    return p;
  };

  test('a FIFO as the persona file is refused at once instead of waiting for a writer', async () => {
    expectBadInput(await failure(openSource('yaml-personas', [fifo()])), /is not a regular file .*pass the path of the persona or API configuration file/);
  });

  test('/dev/zero as the persona file is refused without reading it', async () => {
    expectBadInput(await failure(openSource('yaml-personas', ['/dev/zero'])), /\/dev\/zero is not a regular file/);
  });

  test('a FIFO as a TinyDB or lowdb file is refused', async () => {
    expectBadInput(await failure(openSource('tinydb', [fifo()])), /is not a regular file/);
    expectBadInput(await failure(openSource('lowdb', [fifo()])), /is not a regular file/);
  });

  test('a symlink loop is named as one', async () => {
    const a = path.join(dir, `loop-a-${seq}`);
    const b = path.join(dir, `loop-b-${seq++}`);
    fs.symlinkSync(b, a);
    fs.symlinkSync(a, b);
    for (const pipeline of ['tinydb', 'lowdb', 'yaml-personas', 'json-seeds']) {
      expectBadInput(await failure(openSource(pipeline, [a])), /symbolic link that leads back to itself/);
    }
    const db = write('db.json', '{"users": {}}');
    expectBadInput(await failure(openSource('tinydb', [db], {}, a)), /symbolic link that leads back to itself/);
  });

  test('a directory where a file is expected', async () => {
    const d = fs.mkdtempSync(path.join(dir, 'adir-'));
    expectBadInput(await failure(openSource('tinydb', [d])), /is a directory, not a file/);
    expectBadInput(await failure(openSource('lowdb', [d])), /is a directory, not a file/);
  });

  test('a TinyDB file that vanishes after preflight: SOURCE_CHANGED, saying to run again', async () => {
    const p = write('vanish.json', users('{"username": "a"}'));
    const index = await preflightTinyDb(p);
    fs.rmSync(p);
    const e = await failure(readTinyDbTable(index, 'users', 0).next());
    expectBadInput(e, /vanish\.json changed after it was checked \(it was removed or renamed\); .*run the same command again/);
  });

  test('a TinyDB file rewritten with the same size and its mtime restored is still noticed (its ctime moved)', async () => {
    const p = write('same-size.json', users('{"username": "a"}'));
    const index = await preflightTinyDb(p);
    const { atime, mtime } = fs.statSync(p);
    await new Promise((r) => setTimeout(r, 20));
    fs.writeFileSync(p, users('{"username": "b"}'));
    fs.utimesSync(p, atime, mtime);
    expect(fs.statSync(p).size).toBe(index.size);
    expectBadInput(await failure(readTinyDbTable(index, 'users', 0).next()), /same-size\.json changed after it was checked/);
  });
});

describe('names from the source are data: __proto__ and constructor', () => {
  test.each(['__proto__', 'constructor', 'toString'])('a TinyDB table named %s is an unknown table until mapped', async (name) => {
    const p = write('proto.json', `{"users": {"1": {"username": "a"}}, ${JSON.stringify(name)}: {"1": {"x": 1}}}`);
    expectBadInput(await failure(openSource('tinydb', [p])), new RegExp(`table "${name}" \\(1 records\\) that etl does not know; map it with --map ${name}=`));
    const ignored = await openSource('tinydb', [p], Object.fromEntries([[name, 'ignore']]));
    expect(ignored.streams.map((s) => s.name)).toEqual(['users']);
    const mapped = await openSource('tinydb', [p], Object.fromEntries([[name, 'document']]));
    expect(await readEverything(mapped)).toBe(2);
  });

  test.each(['__proto__', 'constructor'])('a lowdb collection named %s is an unknown collection until mapped', async (name) => {
    const p = write('proto-lowdb.json', `{"users": [{"username": "a", "__proto__": {"x": 1}}], ${JSON.stringify(name)}: [{"x": 1}]}`);
    expectBadInput(await failure(openSource('lowdb', [p])), new RegExp(`collection "${name}" \\(1 documents\\) that etl does not know; map it with --map ${name}=`));
    const ignored = await openSource('lowdb', [p], Object.fromEntries([[name, 'ignore']]));
    expect(ignored.streams.map((s) => s.name)).toEqual(['users']);
    expect(await readEverything(ignored)).toBe(1);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('TinyDB values: duplicate keys and overflowing numbers', () => {
  test('a key twice in one document is refused with the byte of the second', async () => {
    const text = users('{"username": "a", "password": "x", "username": "b"}');
    const p = write('dup.json', text);
    const second = Buffer.byteLength(text.slice(0, text.lastIndexOf('"username"')));
    const first = Buffer.byteLength(text.slice(0, text.indexOf('"username"')));
    expectBadInput(await failure(openSource('tinydb', [p])), new RegExp(`has the key "username" twice in one object in table "users", document "1", at byte ${second} \\(first at byte ${first}\\)`));
  });

  test('a key twice in a nested object, escaped differently, is found too', async () => {
    const p = write('dup-nested.json', users('{"username": "a", "meta": {"k": 1, "\\u006b": 2}}'));
    expectBadInput(await failure(openSource('tinydb', [p])), /has the key "k" twice in one object/);
  });

  test('colons inside strings are not keys: such a document loads', async () => {
    const opened = await openSource('tinydb', [write('colons.json', users('{"username": "a:b", "title": "x: {y: [z]}"}'))]);
    expect(await readEverything(opened)).toBe(1);
  });

  test('1e400 is read as null with the note NaN/Infinity get', async () => {
    const p = write('overflow.json', users('{"username": "a", "score": 1e400, "small": -2.5E+3, "tiny": 1e-400}'));
    const opened = await openSource('tinydb', [p]);
    expect(opened.notes).toEqual(['1 NaN/Infinity values (or numbers too large for a double, like 1e400) were read as null']);
    const docs = [];
    for await (const batch of opened.streams[0].read(0)) docs.push(...batch);
    expect(docs[0].raw).toEqual({ username: 'a', score: null, small: -2500, tiny: 0 });
  });
});
