import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { rowId } from '../../src/normalize/ids';
import { Fernet } from '../../src/secrets/fernet';
import { runPython } from '../normalize/python';
import { freshDatabase } from '../support/db';
import { allStoredText, checksums, runIn, table } from '../support/pipeline';
import { sample, samplesPresent } from '../support/samples';

const PASSPHRASE = 'test passphrase for the persona samples';
const { fernet } = Fernet.fromSetting(PASSPHRASE);

/**
 * The real Mul-in-One files (legacy-samples/mul-in-one), three versions of each. Derived by hand:
 * - every api_configuration version: 2 APIs, Qwen32B (default_api) and deepseek, base_url
 *   https://api.example.com/v1, temperature 0.4, a scrubbed key `sk-FAKE000…`; one binding
 *   `温柔女仆 → deepseek`, which matches no handle and then the name of persona maid.
 * - every persona version: 温柔女仆/maid (gentle, 0.75), 严厉导师/mentor (serious, 0.55), 损友/buddy
 *   (playful, 0.9), settings max_agents_per_turn 2, memory_window 8 → maid on deepseek, the others
 *   on the default Qwen32B.
 * - backgrounds: b1598f0 none; a8cb2d5 mentor a mapping (content + source academic_background,
 *   rag_top_k 3) and buddy a string; 68bae1b maid a string.
 * (api_configuration b1598f0 is also the a8cb2d5 content.)
 */
const PAIRS = [
  { persona: 'persona.b1598f0.yaml.example', api: 'api_configuration.b1598f0.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.a8cb2d5.yaml.example', api: 'api_configuration.b1598f0.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.68bae1b.yaml.example', api: 'api_configuration.68bae1b.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.68bae1b.yaml.example', api: 'api_configuration.c357aea.yaml.example', keyLengths: [43, 43] },
] as const;

const BACKGROUND_OPTIONS: Record<string, Record<string, unknown>> = { 'persona.a8cb2d5.yaml.example/mentor': { source: 'academic_background', rag_top_k: 3 } };

/** What PyYAML's safe_load (Mul-in-One's own loader) reads from the files: the oracle for the texts. */
function pythonRead(personaFile: string, apiFile: string) {
  return runPython<{ personas: { name: string; handle: string; prompt: string; catchphrases: string[]; background: unknown }[]; keys: Record<string, string> }>(
    `import yaml
p = yaml.safe_load(open(data[0], encoding='utf-8'))
a = yaml.safe_load(open(data[1], encoding='utf-8'))
out({'personas': [{'name': x['name'], 'handle': x['handle'], 'prompt': x['prompt'], 'catchphrases': x['catchphrases'], 'background': x.get('background')} for x in p['personas']],
     'keys': {x['name']: x['api_key'] for x in a['apis']}})`,
    [personaFile, apiFile],
  );
}

describe('real Mul-in-One persona and API configuration files', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => {
    if (!samplesPresent) throw new Error('../shared/legacy-samples is absent: these tests read the real Mul-in-One files from there');
    db = await freshDatabase();
  });
  afterEach(async () => db?.drop());

  test.each(PAIRS)('$persona + $api load as derived by hand; keys only as Fernet tokens; a rerun changes nothing', async (v) => {
    const files = [sample('mul-in-one', v.persona), sample('mul-in-one', v.api)];
    const report = await runIn(db.knex, 'yaml-personas', files, { fernet });
    expect(report.mode).toBe('fresh');
    expect(table(report, 'api_profiles')).toMatchObject({ read: 2, loaded: 2, merged: 0, rejected: 0, encryptedSecrets: 2 });
    expect(table(report, 'personas')).toMatchObject({ read: 3, loaded: 3, merged: 0, rejected: 0 });

    const apis = await db.knex('api_profiles').orderBy('name').select('id', 'tenant_id', 'name', 'base_url', 'model', 'api_key_cipher', 'api_key_encrypted', 'temperature', 'is_default');
    expect(apis.map(({ api_key_cipher: _c, id: _i, tenant_id: _t, ...rest }) => rest)).toEqual([
      { name: 'Qwen32B', base_url: 'https://api.example.com/v1', model: 'Qwen/Qwen3-32B', api_key_encrypted: true, temperature: 0.4, is_default: true },
      { name: 'deepseek', base_url: 'https://api.example.com/v1', model: 'deepseek-ai/DeepSeek-V3.2-Exp', api_key_encrypted: true, temperature: 0.4, is_default: false },
    ]);
    expect(apis.map((a) => a.id)).toEqual([rowId('default', 'api_profile', 'Qwen32B'), rowId('default', 'api_profile', 'deepseek')]);

    // The tokens decrypt with Python's cryptography.fernet under the Mul-in-One key derivation, to the file's keys.
    const oracle = pythonRead(files[0], files[1]);
    expect(Object.values(oracle.keys).map((k) => k.length)).toEqual([...v.keyLengths]);
    const decrypted = runPython<string[]>(
      `import base64, hashlib
from cryptography.fernet import Fernet
f = Fernet(base64.urlsafe_b64encode(hashlib.sha256(data['pass'].encode('utf-8')).digest()))
out([f.decrypt(t.encode()).decode() for t in data['tokens']])`,
      { pass: PASSPHRASE, tokens: apis.map((a) => a.api_key_cipher) },
    );
    expect(decrypted).toEqual([oracle.keys.Qwen32B, oracle.keys.deepseek]);

    const personas = await db.knex('personas').orderBy('proactivity').select('*');
    const qwen = rowId('default', 'api_profile', 'Qwen32B');
    const deepseek = rowId('default', 'api_profile', 'deepseek');
    expect(personas.map((p) => [p.name, p.handle, p.tone, p.proactivity, p.memory_window, p.max_agents_per_turn, p.api_profile_id, p.api_binding])).toEqual([
      ['严厉导师', 'mentor', 'serious', 0.55, 8, 2, qwen, 'default_api: Qwen32B'],
      ['温柔女仆', 'maid', 'gentle', 0.75, 8, 2, deepseek, 'persona_bindings: 温柔女仆 → deepseek'],
      ['损友', 'buddy', 'playful', 0.9, 8, 2, qwen, 'default_api: Qwen32B'],
    ]);
    for (const p of personas) {
      const expected = oracle.personas.find((o) => o.handle === p.handle)!;
      expect(p.prompt).toBe(expected.prompt);
      expect(p.catchphrases).toEqual(expected.catchphrases);
      const bg = expected.background as string | { content: string } | null;
      expect(p.background).toBe(bg === null ? null : typeof bg === 'string' ? bg : bg.content);
      expect(p.background_options).toEqual(BACKGROUND_OPTIONS[`${v.persona}/${p.handle}`] ?? null);
      expect(p.id).toBe(rowId('default', 'persona', p.handle));
    }

    // No plaintext key anywhere: every text and json column of every table, etl's own included.
    for (const [t, text] of Object.entries(await allStoredText(db.knex))) {
      for (const key of Object.values(oracle.keys)) expect({ t, found: text.includes(key) }).toEqual({ t, found: false });
      expect({ t, found: text.includes('sk-FAKE') }).toEqual({ t, found: false });
    }

    const before = await checksums(db.knex);
    const apisBefore = await db.knex('api_profiles').orderBy('name').select('*');
    const again = await runIn(db.knex, 'yaml-personas', files, { fernet });
    expect(again.mode).toBe('already-done');
    const restarted = await runIn(db.knex, 'yaml-personas', files, { fernet, restart: true });
    expect(restarted.mode).toBe('restarted');
    expect(table(restarted, 'personas')).toMatchObject({ read: 3, loaded: 3 });
    expect(await checksums(db.knex)).toEqual(before);
    // the stored tokens were not re-encrypted (a new IV would change them)
    expect(await db.knex('api_profiles').orderBy('name').select('*')).toEqual(apisBefore);
  });

  test('a folder holding persona.yaml and api_configuration.yaml loads like the two files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-personas-'));
    try {
      fs.copyFileSync(sample('mul-in-one', 'persona.68bae1b.yaml.example'), path.join(dir, 'persona.yaml'));
      fs.copyFileSync(sample('mul-in-one', 'api_configuration.c357aea.yaml.example'), path.join(dir, 'api_configuration.yaml'));
      // the templates next to the real files are not read
      fs.writeFileSync(path.join(dir, 'persona.yaml.example'), 'personas:\n  - name: template\n');
      const report = await runIn(db.knex, 'yaml-personas', [dir], { fernet });
      expect(table(report, 'api_profiles')).toMatchObject({ read: 2, loaded: 2 });
      expect(table(report, 'personas')).toMatchObject({ read: 3, loaded: 3 });
      expect((await db.knex('personas').orderBy('handle').pluck('handle'))).toEqual(['buddy', 'maid', 'mentor']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('persona.yaml alone: personas load without a profile; with the API file later, they get one', async () => {
    const persona = sample('mul-in-one', 'persona.b1598f0.yaml.example');
    const first = await runIn(db.knex, 'yaml-personas', [persona], { fernet });
    expect(table(first, 'personas')).toMatchObject({ read: 3, loaded: 3 });
    expect(await db.knex('personas').whereNotNull('api_profile_id').pluck('handle')).toEqual([]);
    await runIn(db.knex, 'yaml-personas', [persona, sample('mul-in-one', 'api_configuration.b1598f0.yaml.example')], { fernet });
    const bound = await db.knex('personas').orderBy('handle').select('handle', 'api_profile_id');
    expect(bound).toEqual([
      { handle: 'buddy', api_profile_id: rowId('default', 'api_profile', 'Qwen32B') },
      { handle: 'maid', api_profile_id: rowId('default', 'api_profile', 'deepseek') },
      { handle: 'mentor', api_profile_id: rowId('default', 'api_profile', 'Qwen32B') },
    ]);
  });
});
