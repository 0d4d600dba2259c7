import path from 'node:path';
import type { Knex } from 'knex';
import { rowId } from '../../src/normalize/ids';
import { Fernet } from '../../src/secrets/fernet';
import { freshDatabase } from '../support/db';
import { allStoredText, checksums, runIn, table } from '../support/pipeline';

const DIR = path.resolve(__dirname, '../../fixtures/personas');
const { fernet } = Fernet.fromSetting('readme example passphrase');
const id = (name: string) => rowId('default', 'api_profile', name);

/**
 * fixtures/personas, record by record:
 * apis: Qwen32B (default_api; key → encrypted), deepseek (provider_url alias; its key already is a
 *   Fernet token under the passphrase → kept), local (url alias; no key → NULL).
 * personas: 0 Helpful Maid/maid, bound by persona_bindings (a mapping; matched by name) to local;
 *   1 Strict Mentor, no handle → strict_mentor, api_binding deepseek, background mapping;
 *   2 Buddy, inline api mapping → its own profile "persona:buddy" (default API's base_url, its own
 *   model, key, temperature); 3 no name → rejected; 4 handle MAID → maid again → rejected;
 *   5 Ghost Writer bound to gpt-9, which no API is → falls through to default_api Qwen32B.
 * settings: max_agents_per_turn -1 → NULL (unlimited), memory_window 12.
 */
describe('fixtures/personas', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('every record is loaded or rejected as derived by hand', async () => {
    const report = await runIn(db.knex, 'yaml-personas', [DIR], { fernet });
    expect(table(report, 'api_profiles')).toMatchObject({ read: 4, loaded: 4, merged: 0, rejected: 0, encryptedSecrets: 2, keptSecretTokens: 1, plaintextSecrets: 0 });
    expect(table(report, 'personas')).toMatchObject({ read: 6, loaded: 4, merged: 0, rejected: 2 });

    const apis = await db.knex('api_profiles').orderBy('name').select('name', 'base_url', 'model', 'api_key_cipher', 'temperature', 'is_default');
    expect(apis.map((a) => [a.name, a.base_url, a.model, a.temperature, a.is_default, a.api_key_cipher === null ? null : fernet.decrypt(a.api_key_cipher)])).toEqual([
      ['Qwen32B', 'https://api.example.com/v1', 'Qwen/Qwen3-32B', 0.4, true, 'sk-fixture-qwen-0001'],
      ['deepseek', 'https://api.deepseek.example/v1', 'deepseek-chat', null, false, 'sk-fixture-deepseek-0002'],
      ['local', 'http://localhost:8000/v1', 'local-llama', null, false, null],
      ['persona:buddy', 'https://api.example.com/v1', 'local-llama', 0.9, false, 'sk-fixture-inline-0003'],
    ]);
    // the token that already was one is stored byte for byte
    const deepseek = await db.knex('api_profiles').where({ name: 'deepseek' }).first();
    expect(deepseek.api_key_cipher).toMatch(/^gAAAAABrBJFQM790s0NhVMLk/);

    const personas = await db.knex('personas').orderBy('handle').select('*');
    expect(personas.map((p) => [p.handle, p.name, p.tone, p.proactivity, p.memory_window, p.max_agents_per_turn, p.api_profile_id, p.background, p.background_options, p.catchphrases])).toEqual([
      ['buddy', 'Buddy', 'neutral', 0.5, 12, null, id('persona:buddy'), 'Class clown since primary school.', null, []],
      // api_binding names no API: it falls through to default_api, as Mul-in-One does
      ['ghost', 'Ghost Writer', 'neutral', 0.5, 12, null, id('Qwen32B'), null, null, []],
      ['maid', 'Helpful Maid', 'gentle', 0.75, 12, null, id('local'), null, null, ['Leave it to me']],
      ['strict_mentor', 'Strict Mentor', 'serious', 0.55, 12, null, id('deepseek'), 'PhD in computer science, ten years of architecture work.\n', { source: 'academic_background', rag_top_k: 3 }, []],
    ]);

    const rejects = await db.knex('etl_rejects').orderBy('reason_code').select('stream', 'outcome', 'reason_code', 'message', 'locator', 'record');
    expect(rejects.map((r) => [r.stream, r.outcome, r.reason_code, r.locator.id, r.message])).toEqual([
      ['personas', 'rejected', 'duplicate_handle', '4', 'has the same handle as an earlier persona of this source'],
      ['personas', 'rejected', 'missing_name', '3', 'persona has no name'],
    ]);

    for (const [t, text] of Object.entries(await allStoredText(db.knex))) {
      for (const key of ['sk-fixture-qwen-0001', 'sk-fixture-deepseek-0002', 'sk-fixture-inline-0003']) expect({ t, key, found: text.includes(key) }).toEqual({ t, key, found: false });
    }

    const before = await checksums(db.knex);
    const again = await runIn(db.knex, 'yaml-personas', [DIR], { fernet, restart: true });
    expect(table(again, 'personas')).toMatchObject({ read: 6, loaded: 4, rejected: 2 });
    expect(await checksums(db.knex)).toEqual(before);
  });

  test('a changed API key is re-encrypted on the next run; an unchanged one keeps its token', async () => {
    await runIn(db.knex, 'yaml-personas', [DIR], { fernet });
    const before = await db.knex('api_profiles').orderBy('name').select('name', 'api_key_cipher', 'api_key_fingerprint');
    // the same sources under another --tenant are other rows; under the same tenant a new key must win
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-keys-'));
    try {
      fs.copyFileSync(path.join(DIR, 'persona.yaml'), path.join(dir, 'persona.yaml'));
      fs.writeFileSync(path.join(dir, 'api_configuration.yaml'), fs.readFileSync(path.join(DIR, 'api_configuration.yaml'), 'utf8').replace('sk-fixture-qwen-0001', 'sk-fixture-qwen-ROTATED'));
      await runIn(db.knex, 'yaml-personas', [dir], { fernet });
      const after = await db.knex('api_profiles').orderBy('name').select('name', 'api_key_cipher', 'api_key_fingerprint');
      const qwen = after.find((a) => a.name === 'Qwen32B');
      expect(fernet.decrypt(qwen.api_key_cipher)).toBe('sk-fixture-qwen-ROTATED');
      expect(after.filter((a) => a.name !== 'Qwen32B')).toEqual(before.filter((a) => a.name !== 'Qwen32B'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("which API a persona gets follows Mul-in-One's order where persona_bindings disagrees", async () => {
    const fs = await import('node:fs');
    const os = await import('node:os');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-bind-'));
    try {
      const apis = ['a', 'b', 'c', 'd'].flatMap((n) => [`  - name: ${n}`, `    base_url: https://${n}.example/v1`, '    model: m']);
      // own: b and Named: c lose (to the persona's own api_binding, and to the binding by handle); dangling names no API
      const bindings = ['  own: b', '  Named: c', '  h2: b', '  gone: c', '  dangling: nowhere'];
      fs.writeFileSync(path.join(dir, 'api_configuration.yaml'), ['apis:', ...apis, 'default_api: d', 'persona_bindings:', ...bindings].join('\n'));
      const personas = ['  - name: Own', '    api_binding: a', '  - name: Named', '    handle: h2', '  - name: Gone', '    api: nowhere', '  - name: dangling'];
      fs.writeFileSync(path.join(dir, 'persona.yaml'), ['personas:', ...personas].join('\n'));
      const report = await runIn(db.knex, 'yaml-personas', [dir], { fernet });
      expect(table(report, 'personas')).toMatchObject({ read: 4, loaded: 4, rejected: 0 });
      const rows = await db.knex('personas').orderBy('handle').select('handle', 'api_profile_id', 'api_binding');
      expect(rows.map((p) => [p.handle, p.api_profile_id, p.api_binding])).toEqual([
        ['dangling', id('d'), 'default_api: d'],
        // its own API name is unknown: persona_bindings decides
        ['gone', id('c'), 'persona_bindings: gone → c'],
        ['h2', id('b'), 'persona_bindings: h2 → b'],
        ['own', id('a'), 'a'],
      ]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
