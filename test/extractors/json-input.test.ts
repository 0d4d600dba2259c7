import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';

/**
 * The JSON files lowdb, json-seeds and --documents read whole: a key twice in one object, bytes
 * that are not UTF-8, a file over the 256 MiB cap are refused before anything is written (exit 2,
 * one sentence); in a --documents folder, a file that is not an array or is over the cap is only
 * named in a note.
 */
const ROOT = path.resolve(__dirname, '../..');
const SEEDS = path.join(ROOT, 'fixtures/seeds');
const TINYDB = path.join(ROOT, 'fixtures/tinydb/chatcore.json');
const DOCUMENTS = path.join(ROOT, 'fixtures/documents');
const CAP = 256 * 1024 * 1024;

async function tablesIn(knex: Knex): Promise<string[]> {
  const res = await knex.raw("select table_name from information_schema.tables where table_schema = 'public' order by 1");
  return res.rows.map((r: { table_name: string }) => r.table_name);
}

describe('JSON input of lowdb, json-seeds and --documents', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-json-input-'));
  });
  afterEach(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  const expectRefused = async (args: string[], message: RegExp) => {
    const r = await runEtl([...args, '--bcrypt-cost', '4'], { env: { DATABASE_URL: db.url } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await tablesIn(db.knex)).toEqual([]);
  };

  /** A copy of fixtures/seeds in dir/seeds, with `files` written over it. */
  const seedsWith = (files: Record<string, string | Buffer>): string => {
    const seeds = path.join(dir, 'seeds');
    fs.mkdirSync(seeds);
    for (const f of fs.readdirSync(SEEDS)) fs.copyFileSync(path.join(SEEDS, f), path.join(seeds, f));
    for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(seeds, f), content);
    return seeds;
  };

  /** A copy of fixtures/documents in dir/docs, with `files` written over it. */
  const documentsWith = (files: Record<string, string | Buffer>): string => {
    const docs = path.join(dir, 'docs');
    fs.mkdirSync(docs);
    for (const f of fs.readdirSync(DOCUMENTS)) fs.copyFileSync(path.join(DOCUMENTS, f), path.join(docs, f));
    for (const [f, content] of Object.entries(files)) fs.writeFileSync(path.join(docs, f), content);
    return docs;
  };

  test('lowdb: a key twice in one document is refused with its line and column', async () => {
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(
      file,
      ['{', '  "users": [', '    {"id": 1, "username": "alice"},', '    {"id": 2, "username": "bob", "username": "mallory"}', '  ]', '}', ''].join('\n'),
    );
    await expectRefused(
      ['run', 'lowdb', file],
      /db\.json has the key "username" twice in one object, at line 4, column 34 \(first at line 4, column 15\); JSON\.parse would silently keep only the last value/,
    );
  });

  test('lowdb: a top-level collection named twice is refused too', async () => {
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(file, '{"users": [{"id": 1, "username": "alice"}],\n "users": []}');
    await expectRefused(['run', 'lowdb', file], /db\.json has the key "users" twice in one object, at line 2, column 2 \(first at line 1, column 2\)/);
  });

  test('json-seeds: a key twice in a seed record is refused with its line and column', async () => {
    const users = ['[', '  {"email": "a@acme.example", "username": "a", "tenant_name": "Acme",', '   "role": "admin", "role": "supporter"}', ']', ''].join('\n');
    const seeds = seedsWith({ 'users.json': users });
    await expectRefused(['run', 'json-seeds', seeds], /users\.json has the key "role" twice in one object, at line 3, column 21 \(first at line 3, column 4\)/);
  });

  test('json-seeds: a key twice in an extra documents file of the seed folder is refused', async () => {
    const seeds = seedsWith({ 'notes.json': '[{"title": "a", "body": {"lang": "en", "lang": "vi"}}]' });
    await expectRefused(['run', 'json-seeds', seeds], /notes\.json has the key "lang" twice in one object, at line 1, column 40 \(first at line 1, column 26\)/);
  });

  test('--documents: a key twice, deep in a document, is refused with its line and column', async () => {
    const docs = documentsWith({ 'projects.json': '[\n  {"name": "x", "meta": {"tags": ["a", "b"], "owner": {"id": 1,\n    "id": 2}}}\n]\n' });
    await expectRefused(['run', 'tinydb', TINYDB, '--documents', docs], /projects\.json has the key "id" twice in one object, at line 3, column 5 \(first at line 2, column 56\)/);
  });

  test('a key spelled with an escape (\\u0061 is "a") is the same key; an escaped quote inside a key is not', async () => {
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(file, '{"users": [{"a\\"": 1, "a": 2, "\\u0061": 3}]}');
    await expectRefused(['run', 'lowdb', file], /db\.json has the key "a" twice in one object, at line 1, column 31 \(first at line 1, column 23\)/);
  });

  test('bytes that are not UTF-8 are refused with their offset, in each of the three', async () => {
    const latin1 = (s: string) => Buffer.from(s, 'latin1');
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(file, latin1('{"users": [{"id": 1, "username": "José"}]}'));
    await expectRefused(['run', 'lowdb', file], /db\.json is not valid UTF-8 at byte 37; convert the lowdb file to UTF-8/);

    const seeds = seedsWith({ 'users.json': latin1('[{"email": "jose@acme.example", "username": "José", "tenant_name": "Acme"}]') });
    await expectRefused(['run', 'json-seeds', seeds], /users\.json is not valid UTF-8 at byte 48; convert the seed file to UTF-8/);

    const docs = documentsWith({ 'projects.json': latin1('[{"name": "Café"}]') });
    await expectRefused(['run', 'tinydb', TINYDB, '--documents', docs], /projects\.json is not valid UTF-8 at byte 14; convert the documents file to UTF-8/);
  });

  test('a lowdb or seed file over the 256 MiB cap is refused on its size, before it is read', async () => {
    // Sparse files: the size is there, the bytes (zeros, not JSON) are never read.
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(file, '');
    fs.truncateSync(file, CAP + 1);
    await expectRefused(['run', 'lowdb', file], new RegExp(`db\\.json is ${CAP + 1} bytes, too big for a lowdb file, which etl reads whole \\(max ${CAP} bytes\\)`));

    const seeds = seedsWith({});
    fs.truncateSync(path.join(seeds, 'agents.json'), CAP + 1);
    await expectRefused(['run', 'json-seeds', seeds], new RegExp(`agents\\.json is ${CAP + 1} bytes, too big for a seed file`));
  });

  test('--documents: a file that is not an array, or is over the cap, is named in a note and skipped; the arrays load', async () => {
    const docs = documentsWith({
      // A TinyDB database next to the documents: only its first bytes are read, so its corrupt
      // tail (bytes that are neither UTF-8 nor JSON) never stops the run.
      'sessions.json': Buffer.concat([Buffer.from('{"_default": {}, "users": {"1": {"username": "x"}}'), Buffer.from([0xff, 0xfe, 0x00])]),
      'empty.json': '',
      'settings.json': '\n  {"theme": "dark"}\n',
    });
    fs.writeFileSync(path.join(docs, 'huge.json'), '');
    fs.truncateSync(path.join(docs, 'huge.json'), CAP + 1);
    const r = await runEtl(['run', 'tinydb', TINYDB, '--documents', docs, '--bcrypt-cost', '4', '--json'], { env: { DATABASE_URL: db.url } });
    expect({ code: r.code, stderr: r.stderr }).toMatchObject({ code: 0 });
    const report = JSON.parse(r.stdout);
    expect(report.notes).toEqual(
      expect.arrayContaining([
        'empty.json in the documents folder is not a JSON array; not read as documents',
        `huge.json in the documents folder is ${CAP + 1} bytes, over the ${CAP}-byte limit of a documents file; not read as documents`,
        'sessions.json in the documents folder is not a JSON array; not read as documents',
        'settings.json in the documents folder is not a JSON array; not read as documents',
      ]),
    );
    const documents = report.tables.find((t: { table: string }) => t.table === 'documents');
    // fixtures/documents: departments.json 2 + employees.json 3 records (one a duplicate).
    expect(documents).toMatchObject({ read: 5, loaded: 4, merged: 1, rejected: 0 });
    const types = await db.knex('documents').distinct('doc_type').orderBy('doc_type');
    expect(types.map((t) => t.doc_type)).toEqual(['department', 'employee']);
  });
});
