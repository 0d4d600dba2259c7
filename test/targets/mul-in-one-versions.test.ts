/**
 * Every fixture version of Mul-in-One's files (fixtures/mul-in-one: the shapes of the three real
 * versions of each file) into one Mul-in-One database, one owner per pair: the app lists each
 * owner's personas with the API its own rules bind and decrypts every key, under a passphrase
 * that looks like a Fernet key (the app derives the key from it all the same).
 */
import path from 'node:path';
import { runPython } from '../normalize/python';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { expectOwnerLoads } from '../support/mul-in-one';

const DIR = path.resolve(__dirname, '../../fixtures/mul-in-one');
// 44 characters of URL-safe base64: a Fernet key's shape, used by Mul-in-One as a passphrase.
const PASSPHRASE = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJ8GNeRNeA4ZUVY=';
const PAIRS = [
  ['persona.v1.yaml', 'api_configuration.v1.yaml'],
  ['persona.v2.yaml', 'api_configuration.v1.yaml'],
  ['persona.v3.yaml', 'api_configuration.v2.yaml'],
  ['persona.v3.yaml', 'api_configuration.v3.yaml'],
];

describe('--target mul-in-one on every fixture version', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test.each(PAIRS.map(([persona, api], i) => [persona, api, `owner${i + 1}`]))('%s + %s as %s', async (persona, api, owner) => {
    const got = await expectOwnerLoads(db, [path.join(DIR, persona), path.join(DIR, api)], owner, PASSPHRASE);
    expect(got).toHaveLength(3);
    expect(got.every((p) => p.api !== null && p.api.api_key.startsWith('sk-FIXTURE-'))).toBe(true);
  });

  test('verify holds for every owner; the API keys are not tokens under the raw key', async () => {
    const env = { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: PASSPHRASE };
    const v = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(v.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(v.code).toBe(0);
    // verify flags keys the app cannot decrypt: under a passphrase it was not given, none decrypts
    const wrong = await runEtl(['verify', '--json'], { env: { ...env, MUL_IN_ONE_ENCRYPTION_KEY: 'another passphrase' } });
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout).checks.find((c: { name: string }) => c.name.startsWith('every API key in Mul-in-One')).detail).toMatch(/^8 of 8 are not tokens the app decrypts/);
    // nor does the passphrase used as a Fernet key of its own
    const tokens = (await db.knex.raw('select api_key_cipher from public.api_profiles')).rows.map((r: { api_key_cipher: string }) => r.api_key_cipher);
    expect(runPython('from cryptography.fernet import Fernet, InvalidToken\nf = Fernet(data["key"])\ndef ok(t):\n    try: return f.decrypt(t.encode()) and True\n    except InvalidToken: return False\nout([ok(t) for t in data["tokens"]])', { key: PASSPHRASE, tokens })).toEqual(tokens.map(() => false));
  });
});
