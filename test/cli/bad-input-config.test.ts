import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';

const PERSONAS = path.resolve(__dirname, '../../fixtures/personas');
const SEEDS = path.resolve(__dirname, '../../fixtures/seeds');
const KEY = { ETL_ENCRYPTION_KEY: 'readme example passphrase' };

async function tablesIn(knex: Knex): Promise<string[]> {
  const res = await knex.raw("select table_name from information_schema.tables where table_schema = 'public' order by 1");
  return res.rows.map((r: { table_name: string }) => r.table_name);
}

const persona = fs.readFileSync(path.join(PERSONAS, 'persona.yaml'), 'utf8');
const apis = fs.readFileSync(path.join(PERSONAS, 'api_configuration.yaml'), 'utf8');

describe('bad config and seed input: one sentence, exit 2, nothing written', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-bad-config-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  const expectRefused = async (args: string[], message: RegExp, env: Record<string, string | undefined> = KEY) => {
    const r = await runEtl(args, { env: { DATABASE_URL: db.url, ...env } });
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(await tablesIn(db.knex)).toEqual([]);
  };

  const yamlCases: [string, string, RegExp][] = [
    ['tab-indent.yaml', persona.replace('    handle: maid', '\thandle: maid'), /tab-indent\.yaml is not valid YAML at line 4, column 1: a tab is used for indentation/],
    ['duplicate-key.yaml', persona.replace('    tone: gentle\n', '    tone: gentle\n    tone: calm\n'), /duplicate-key\.yaml is not valid YAML at line 6, column 5: a key appears twice in one mapping/],
    ['syntax.yaml', persona.replace('      - "Leave it to me"', '      - ["Leave it to me"'), /syntax\.yaml is not valid YAML at line \d+, column \d+: /],
    ['wrong-type.yaml', persona.replace('proactivity: 0.75', 'proactivity: high'), /wrong-type\.yaml: personas\[0\]\.proactivity must be a number from 0 to 1 \(line 6, column 18\)/],
    ['wrong-settings.yaml', persona.replace('memory_window: 12', 'memory_window: lots'), /settings\.memory_window must be an integer \(-1 = unlimited\) \(line 36, column 18\)/],
    ['unknown-key.yaml', persona.replace('settings:', 'setings:'), /unknown-key\.yaml has an unknown top-level key "setings" \(line 34, column 1\)/],
    ['bad-default.yaml', apis.replace('default_api: Qwen32B', 'default_api: Qwen72B'), /default_api "Qwen72B" \(line 16, column 14\) is not the name of any of the apis/],
    ['empty.yaml', '', /empty\.yaml is empty/],
  ];

  test.each(yamlCases)('yaml-personas %s', async (name, content, message) => {
    fs.writeFileSync(path.join(dir, name), content);
    await expectRefused(['run', 'yaml-personas', path.join(dir, name)], message);
  });

  test('yaml-personas: API keys and no ETL_ENCRYPTION_KEY → exit 2 before any write', async () => {
    await expectRefused(['run', 'yaml-personas', PERSONAS], /3 API keys and ETL_ENCRYPTION_KEY is not set; .*--allow-plaintext-keys/, { ETL_ENCRYPTION_KEY: undefined });
  });

  test('yaml-personas --allow-plaintext-keys: loads, and says so loudly in the logs and the report', async () => {
    const r = await runEtl(['run', 'yaml-personas', PERSONAS, '--allow-plaintext-keys'], { env: { DATABASE_URL: db.url, ETL_ENCRYPTION_KEY: undefined } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/API KEYS WILL BE STORED IN PLAINTEXT/);
    expect(r.stdout).toMatch(/3 API keys stored IN PLAINTEXT \(--allow-plaintext-keys\)/);
    const rows = await db.knex('api_profiles').orderBy('name').select('name', 'api_key_encrypted');
    expect(rows.map((x) => [x.name, x.api_key_encrypted])).toEqual([
      ['Qwen32B', false],
      ['deepseek', false],
      ['local', true],
      ['persona:buddy', false],
    ]);
  });

  test('json-seeds: a seed file that is not an array of objects, a folder without seed files', async () => {
    const seeds = path.join(dir, 'seeds');
    fs.mkdirSync(seeds, { recursive: true });
    for (const f of fs.readdirSync(SEEDS)) fs.copyFileSync(path.join(SEEDS, f), path.join(seeds, f));
    fs.writeFileSync(path.join(seeds, 'users.json'), '{"email": "a@b.c"}');
    await expectRefused(['run', 'json-seeds', seeds], /users\.json must be a JSON array of objects/);
    fs.writeFileSync(path.join(seeds, 'users.json'), '[{"email": "a@b.c"}, 42]');
    await expectRefused(['run', 'json-seeds', seeds], /users\.json: element 1 is not a JSON object/);
    fs.writeFileSync(path.join(seeds, 'users.json'), '[{"email": "a@b.c"');
    await expectRefused(['run', 'json-seeds', seeds], /users\.json is not valid UTF-8 JSON/);
    const empty = path.join(dir, 'no-seeds');
    fs.mkdirSync(empty, { recursive: true });
    await expectRefused(['run', 'json-seeds', empty], /holds none of tenants\.json, /);
  });

  test('lowdb: an unknown collection, not a lowdb file', async () => {
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(file, JSON.stringify({ users: [], notes: [{ text: 'hi' }] }));
    await expectRefused(['run', 'lowdb', file], /collection "notes" \(1 documents\) that etl does not know; map it with --map notes=/);
    fs.writeFileSync(file, '[{"username": "a"}]');
    await expectRefused(['run', 'lowdb', file], /not a lowdb database/);
    await expectRefused(['run', 'lowdb', file, '--map', 'users=accounts'], /--map expects source=user\|users\|/);
  });
});
