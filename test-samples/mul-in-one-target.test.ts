import { freshDatabase, type FreshDatabase } from '../test/support/db';
import { expectOwnerLoads } from '../test/support/mul-in-one';
import { runEtl } from '../test/support/cli';
import { sample } from './support/samples';

/**
 * --target mul-in-one on every real version of Mul-in-One's files (legacy-samples/mul-in-one, the
 * same pairs as yaml-personas.test.ts), one owner per pair in one database: the app lists each
 * owner's three personas with the API its own rules bind (maid on deepseek by persona_bindings,
 * the others on the default Qwen32B) and decrypts every key; verify holds for all of them.
 */
const PASSPHRASE = 'test passphrase for the persona samples';
const PAIRS = [
  ['persona.b1598f0.yaml.example', 'api_configuration.b1598f0.yaml.example'],
  ['persona.a8cb2d5.yaml.example', 'api_configuration.b1598f0.yaml.example'],
  ['persona.68bae1b.yaml.example', 'api_configuration.68bae1b.yaml.example'],
  ['persona.68bae1b.yaml.example', 'api_configuration.c357aea.yaml.example'],
];

describe('--target mul-in-one on the real Mul-in-One versions', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test.each(PAIRS.map(([persona, api], i) => [persona, api, `owner${i + 1}`]))('%s + %s as %s', async (persona, api, owner) => {
    const got = await expectOwnerLoads(db, [sample('mul-in-one', persona), sample('mul-in-one', api)], owner, PASSPHRASE);
    expect(got.map((p) => [p.handle, p.api?.model])).toEqual([
      ['buddy', 'Qwen/Qwen3-32B'],
      ['maid', 'deepseek-ai/DeepSeek-V3.2-Exp'],
      ['mentor', 'Qwen/Qwen3-32B'],
    ]);
  });

  test('verify holds for every owner', async () => {
    const v = await runEtl(['verify', '--json'], { env: { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: PASSPHRASE } });
    expect(JSON.parse(v.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(v.code).toBe(0);
  });
});
