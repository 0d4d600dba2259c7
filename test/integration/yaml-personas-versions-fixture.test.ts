import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { rowId } from '../../src/normalize/ids';
import { Fernet } from '../../src/secrets/fernet';
import { freshDatabase } from '../support/db';
import { expectPairLoads, type PersonaPair, personaFolder } from '../support/persona-pairs';
import { runIn, table } from '../support/pipeline';

const DIR = path.resolve(__dirname, '../../fixtures/mul-in-one');
const file = (name: string) => path.join(DIR, name);
const PASSPHRASE = 'test passphrase for the persona fixtures';
const { fernet } = Fernet.fromSetting(PASSPHRASE);

/**
 * fixtures/mul-in-one has the shapes of Mul-in-One's three real versions of persona.yaml and of
 * api_configuration.yaml (legacy-samples/mul-in-one/README.md), with our own content. Derived by hand:
 * - every api_configuration version: 2 APIs, fast (default_api) and deep, base_url
 *   https://llm.fixture.example/v1, temperature 0.3, fake keys `sk-FIXTURE-…`; persona_bindings as a
 *   list, `细心管家 → deep`, which matches no handle and then the name of persona butler.
 *   v1 ends without a newline; v2 adds a comment header; v3 has the header and shorter keys.
 * - every persona version: 细心管家/butler (calm, 0.6), 冷面教练/coach (strict, 0.45), 话痨邻居/neighbor
 *   (chatty, 0.85), settings max_agents_per_turn 3, memory_window 6 → butler on deep, the others on fast.
 * - backgrounds: v1 none, and no newline at the end of the file; v2 coach a mapping (content + source
 *   coaching_history, rag_top_k 5) and neighbor a string, comments between the list items; v3 a
 *   comment header, butler a `background: |` block, inline comments after the settings.
 */
const PAIRS: readonly PersonaPair[] = [
  { persona: 'persona.v1.yaml', api: 'api_configuration.v1.yaml', keyLengths: [42, 43] },
  { persona: 'persona.v2.yaml', api: 'api_configuration.v1.yaml', keyLengths: [42, 43] },
  { persona: 'persona.v3.yaml', api: 'api_configuration.v2.yaml', keyLengths: [42, 43] },
  { persona: 'persona.v3.yaml', api: 'api_configuration.v3.yaml', keyLengths: [18, 18] },
];

const BACKGROUND_OPTIONS: Record<string, Record<string, Record<string, unknown>>> = { 'persona.v2.yaml': { coach: { source: 'coaching_history', rag_top_k: 5 } } };

const EXPECTED = {
  apis: [
    { name: 'deep', base_url: 'https://llm.fixture.example/v1', model: 'fixture/deep-70b', api_key_encrypted: true, temperature: 0.3, is_default: false },
    { name: 'fast', base_url: 'https://llm.fixture.example/v1', model: 'fixture/fast-8b', api_key_encrypted: true, temperature: 0.3, is_default: true },
  ],
  personas: [
    ['冷面教练', 'coach', 'strict', 0.45, 6, 3, 'fast', 'default_api: fast'],
    ['细心管家', 'butler', 'calm', 0.6, 6, 3, 'deep', 'persona_bindings: 细心管家 → deep'],
    ['话痨邻居', 'neighbor', 'chatty', 0.85, 6, 3, 'fast', 'default_api: fast'],
  ],
  keyMarker: 'sk-FIXTURE',
} as const;

describe('fixtures/mul-in-one: the three persona and API configuration format versions', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test.each(PAIRS)('$persona + $api load as derived by hand; keys only as Fernet tokens; a rerun changes nothing', (v) =>
    expectPairLoads(db.knex, [file(v.persona), file(v.api)], PASSPHRASE, v, { ...EXPECTED, backgroundOptions: BACKGROUND_OPTIONS[v.persona] ?? {} }),
  );

  test('the backgrounds of each version: none, a mapping and a string, a block', async () => {
    const backgrounds = async (persona: string) => {
      await runIn(db.knex, 'yaml-personas', [file(persona)], { fernet, restart: true });
      const rows = await db.knex('personas').orderBy('handle').select('handle', 'background');
      return Object.fromEntries(rows.map((r) => [r.handle, r.background]));
    };
    expect(await backgrounds('persona.v1.yaml')).toEqual({ butler: null, coach: null, neighbor: null });
    expect(await backgrounds('persona.v2.yaml')).toEqual({ butler: null, coach: '前举重运动员，退役后带队十二年。\n\n经历：\n- 省队教练五年\n- 写过一本训练手册\n', neighbor: '在这条街住了三十年，谁家的事都知道一点。' });
    expect(await backgrounds('persona.v3.yaml')).toEqual({ butler: '在老宅服务了二十年，记得每位客人的口味。\n做事有条理，从不慌张。\n', coach: null, neighbor: null });
  });

  test('a folder holding persona.yaml and api_configuration.yaml loads like the two files', async () => {
    // the template next to the files is not read
    const dir = personaFolder(file('persona.v3.yaml'), file('api_configuration.v3.yaml'));
    try {
      const report = await runIn(db.knex, 'yaml-personas', [dir], { fernet });
      expect(table(report, 'api_profiles')).toMatchObject({ read: 2, loaded: 2 });
      expect(table(report, 'personas')).toMatchObject({ read: 3, loaded: 3 });
      expect(await db.knex('personas').orderBy('handle').pluck('handle')).toEqual(['butler', 'coach', 'neighbor']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('persona.yaml alone: personas load without a profile; with the API file later, they get one', async () => {
    const persona = file('persona.v1.yaml');
    const first = await runIn(db.knex, 'yaml-personas', [persona], { fernet });
    expect(table(first, 'personas')).toMatchObject({ read: 3, loaded: 3 });
    expect(await db.knex('personas').whereNotNull('api_profile_id').pluck('handle')).toEqual([]);
    await runIn(db.knex, 'yaml-personas', [persona, file('api_configuration.v1.yaml')], { fernet });
    const bound = await db.knex('personas').orderBy('handle').select('handle', 'api_profile_id');
    expect(bound).toEqual([
      { handle: 'butler', api_profile_id: rowId('default', 'api_profile', 'deep') },
      { handle: 'coach', api_profile_id: rowId('default', 'api_profile', 'fast') },
      { handle: 'neighbor', api_profile_id: rowId('default', 'api_profile', 'fast') },
    ]);
  });
});
