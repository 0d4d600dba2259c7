import fs from 'node:fs';
import type { Knex } from 'knex';
import { rowId } from '../src/normalize/ids';
import { Fernet } from '../src/secrets/fernet';
import { freshDatabase } from '../test/support/db';
import { expectPairLoads, type PersonaPair, personaFolder } from '../test/support/persona-pairs';
import { runIn, table } from '../test/support/pipeline';
import { sample } from './support/samples';

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
const PAIRS: readonly PersonaPair[] = [
  { persona: 'persona.b1598f0.yaml.example', api: 'api_configuration.b1598f0.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.a8cb2d5.yaml.example', api: 'api_configuration.b1598f0.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.68bae1b.yaml.example', api: 'api_configuration.68bae1b.yaml.example', keyLengths: [51, 52] },
  { persona: 'persona.68bae1b.yaml.example', api: 'api_configuration.c357aea.yaml.example', keyLengths: [43, 43] },
];

/** background_options by persona file and handle: only a8cb2d5's mentor has a background mapping with options. */
const BACKGROUND_OPTIONS: Record<string, Record<string, Record<string, unknown>>> = { 'persona.a8cb2d5.yaml.example': { mentor: { source: 'academic_background', rag_top_k: 3 } } };

const EXPECTED = {
  apis: [
    { name: 'Qwen32B', base_url: 'https://api.example.com/v1', model: 'Qwen/Qwen3-32B', api_key_encrypted: true, temperature: 0.4, is_default: true },
    { name: 'deepseek', base_url: 'https://api.example.com/v1', model: 'deepseek-ai/DeepSeek-V3.2-Exp', api_key_encrypted: true, temperature: 0.4, is_default: false },
  ],
  personas: [
    ['严厉导师', 'mentor', 'serious', 0.55, 8, 2, 'Qwen32B', 'default_api: Qwen32B'],
    ['温柔女仆', 'maid', 'gentle', 0.75, 8, 2, 'deepseek', 'persona_bindings: 温柔女仆 → deepseek'],
    ['损友', 'buddy', 'playful', 0.9, 8, 2, 'Qwen32B', 'default_api: Qwen32B'],
  ],
  keyMarker: 'sk-FAKE',
} as const;

describe('real Mul-in-One persona and API configuration files', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db?.drop());

  test.each(PAIRS)('$persona + $api load as derived by hand; keys only as Fernet tokens; a rerun changes nothing', (v) =>
    expectPairLoads(db.knex, [sample('mul-in-one', v.persona), sample('mul-in-one', v.api)], PASSPHRASE, v, { ...EXPECTED, backgroundOptions: BACKGROUND_OPTIONS[v.persona] ?? {} }),
  );

  test('a folder holding persona.yaml and api_configuration.yaml loads like the two files', async () => {
    // the template next to the real files is not read
    const dir = personaFolder(sample('mul-in-one', 'persona.68bae1b.yaml.example'), sample('mul-in-one', 'api_configuration.c357aea.yaml.example'));
    try {
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
