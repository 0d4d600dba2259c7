import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { rowId } from '../../src/normalize/ids';
import { Fernet } from '../../src/secrets/fernet';
import { runPython } from '../normalize/python';
import { allStoredText, checksums, runIn, table } from './pipeline';

/** What one persona.yaml + api_configuration.yaml pair of Mul-in-One must load as (derived by hand). */
export interface PersonaPair {
  persona: string;
  api: string;
  /** lengths of the file's API keys, in `apis` order */
  keyLengths: readonly number[];
}

export interface PairExpectation {
  /** api_profiles rows (name, base_url, model, api_key_encrypted, temperature, is_default), ordered by name */
  apis: readonly Record<string, unknown>[];
  /** personas as [name, handle, tone, proactivity, memory_window, max_agents_per_turn, api profile name, api_binding], ordered by proactivity */
  personas: readonly (readonly [string, string, string, number, number, number, string, string])[];
  /** background_options by handle (NULL for the others) */
  backgroundOptions: Readonly<Record<string, Record<string, unknown>>>;
  /** a text every key of the files contains, which must appear nowhere in the target */
  keyMarker: string;
}

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

/**
 * Loads a persona file and an API file with keys encrypted under `passphrase` and checks the rows,
 * the texts against PyYAML, the tokens against Python's Fernet, that no key is stored in plaintext,
 * and that a rerun and a restarted run change nothing (the tokens are not re-encrypted). The real
 * versions (test-samples/) and our own (fixtures/mul-in-one) go through the same checks.
 */
export async function expectPairLoads(knex: Knex, files: readonly [string, string], passphrase: string, v: PersonaPair, e: PairExpectation): Promise<void> {
  const { fernet } = Fernet.fromSetting(passphrase);
  const report = await runIn(knex, 'yaml-personas', [...files], { fernet });
  expect(report.mode).toBe('fresh');
  expect(table(report, 'api_profiles')).toMatchObject({ read: e.apis.length, loaded: e.apis.length, merged: 0, rejected: 0, encryptedSecrets: e.apis.length });
  expect(table(report, 'personas')).toMatchObject({ read: e.personas.length, loaded: e.personas.length, merged: 0, rejected: 0 });

  const apis = await knex('api_profiles').orderBy('name').select('id', 'tenant_id', 'name', 'base_url', 'model', 'api_key_cipher', 'api_key_encrypted', 'temperature', 'is_default');
  expect(apis.map(({ api_key_cipher: _c, id: _i, tenant_id: _t, ...rest }) => rest)).toEqual(e.apis);
  const profileId = (name: string) => rowId('default', 'api_profile', name);
  expect(apis.map((a) => a.id)).toEqual(apis.map((a) => profileId(a.name)));

  // The tokens decrypt with Python's cryptography.fernet under the Mul-in-One key derivation, to the file's keys.
  const oracle = pythonRead(files[0], files[1]);
  expect(Object.values(oracle.keys).map((k) => k.length)).toEqual([...v.keyLengths]);
  const decrypted = runPython<string[]>(
    `import base64, hashlib
from cryptography.fernet import Fernet
f = Fernet(base64.urlsafe_b64encode(hashlib.sha256(data['pass'].encode('utf-8')).digest()))
out([f.decrypt(t.encode()).decode() for t in data['tokens']])`,
    { pass: passphrase, tokens: apis.map((a) => a.api_key_cipher) },
  );
  expect(decrypted).toEqual(apis.map((a) => oracle.keys[a.name]));

  const personas = await knex('personas').orderBy('proactivity').select('*');
  expect(personas.map((p) => [p.name, p.handle, p.tone, p.proactivity, p.memory_window, p.max_agents_per_turn, p.api_profile_id, p.api_binding])).toEqual(
    e.personas.map(([name, handle, tone, proactivity, memory, maxAgents, api, binding]) => [name, handle, tone, proactivity, memory, maxAgents, profileId(api), binding]),
  );
  for (const p of personas) {
    const expected = oracle.personas.find((o) => o.handle === p.handle)!;
    expect(p.prompt).toBe(expected.prompt);
    expect(p.catchphrases).toEqual(expected.catchphrases);
    const bg = expected.background as string | { content: string } | null;
    expect(p.background).toBe(bg === null ? null : typeof bg === 'string' ? bg : bg.content);
    expect(p.background_options).toEqual(e.backgroundOptions[p.handle] ?? null);
    expect(p.id).toBe(rowId('default', 'persona', p.handle));
  }

  // No plaintext key anywhere: every text and json column of every table, etl's own included.
  for (const [t, text] of Object.entries(await allStoredText(knex))) {
    for (const key of Object.values(oracle.keys)) expect({ t, found: text.includes(key) }).toEqual({ t, found: false });
    expect({ t, found: text.includes(e.keyMarker) }).toEqual({ t, found: false });
  }

  const before = await checksums(knex);
  const apisBefore = await knex('api_profiles').orderBy('name').select('*');
  const again = await runIn(knex, 'yaml-personas', [...files], { fernet });
  expect(again.mode).toBe('already-done');
  const restarted = await runIn(knex, 'yaml-personas', [...files], { fernet, restart: true });
  expect(restarted.mode).toBe('restarted');
  expect(table(restarted, 'personas')).toMatchObject({ read: e.personas.length, loaded: e.personas.length });
  expect(await checksums(knex)).toEqual(before);
  // the stored tokens were not re-encrypted (a new IV would change them)
  expect(await knex('api_profiles').orderBy('name').select('*')).toEqual(apisBefore);
}

/**
 * A temp folder laid out as Mul-in-One's `personas/`: the two files under their real names, next to a
 * `persona.yaml.example` template that must not be read. The caller removes it.
 */
export function personaFolder(personaFile: string, apiFile: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-personas-'));
  fs.copyFileSync(personaFile, path.join(dir, 'persona.yaml'));
  fs.copyFileSync(apiFile, path.join(dir, 'api_configuration.yaml'));
  fs.writeFileSync(path.join(dir, 'persona.yaml.example'), 'personas:\n  - name: template\n');
  return dir;
}
