import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { Fernet } from '../../src/secrets/fernet';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { figures, interruptRun } from '../support/kill';
import { dataChecksums } from '../support/pipeline';

const PASSPHRASE = 'kill-resume passphrase';
const ENV = { ETL_LOG_LEVEL: 'warn', ETL_ENCRYPTION_KEY: PASSPHRASE };

/** Generated inputs big enough to be killed mid-stream (dozens of batches of 500 records). */
function generate(dir: string) {
  // lowdb: 50 users, 30,000 messages in 1,200 chats, every 997th a repeat (merged), every 13th chat missing (inferred)
  const users = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, username: `user${i}`, createdAt: '2025-01-01T00:00:00Z' }));
  const conversations = Array.from({ length: 1200 }, (_, i) => i)
    .filter((i) => i % 13 !== 0)
    .map((i) => ({ id: `chat${i}`, userId: (i % 50) + 1, title: `Chat ${i}` }));
  const chats = Array.from({ length: 30_000 }, (_, i) => {
    const n = i % 997 === 996 ? i - 1 : i;
    return { id: `m${i}`, chatId: `chat${Math.floor(n / 25)}`, userId: (Math.floor(n / 25) % 50) + 1, role: n % 2 ? 'assistant' : 'user', text: `message ${n}`, createdAt: new Date(Date.UTC(2025, 0, 1) + n * 1000).toISOString() };
  });
  fs.writeFileSync(path.join(dir, 'db.json'), JSON.stringify({ users, conversations, chats }));

  // json-seeds: 3 tenants, 30,000 users (every 11th of a tenant that does not exist → rejected)
  const seeds = path.join(dir, 'seeds');
  fs.mkdirSync(seeds);
  fs.writeFileSync(path.join(seeds, 'tenants.json'), JSON.stringify(['A', 'B', 'C'].map((n) => ({ name: `Tenant${n}`, domain: `t-${n}`, status: 'active' }))));
  fs.writeFileSync(
    path.join(seeds, 'users.json'),
    JSON.stringify(Array.from({ length: 30_000 }, (_, i) => ({ email: `u${i}@example.com`, username: `u${i}`, role: 'supporter', tenant_name: i % 11 === 0 ? 'Nowhere' : `Tenant${'ABC'[i % 3]}` }))),
  );

  // yaml-personas: 3 APIs with keys, 12,000 personas (every 101st without a name → rejected)
  const personas = path.join(dir, 'personas');
  fs.mkdirSync(personas);
  const apis = ['one', 'two', 'three'].map((n) => `  - name: ${n}\n    base_url: https://${n}.example/v1\n    model: m-${n}\n    api_key: sk-kill-${n}-0000\n`).join('');
  fs.writeFileSync(path.join(personas, 'api_configuration.yaml'), `apis:\n${apis}default_api: one\n`);
  const list = Array.from({ length: 12_000 }, (_, i) => `  - ${i % 101 === 0 ? 'handle: nameless' : 'name: Persona'} ${i}\n    proactivity: 0.${i % 10}\n    api_binding: ${['one', 'two', 'three'][i % 3]}\n    prompt: I am persona ${i}.\n`).join('');
  fs.writeFileSync(path.join(personas, 'persona.yaml'), `personas:\n${list}settings:\n  memory_window: -1\n`);
}

const CASES = [
  { pipeline: 'lowdb', source: 'db.json', extra: ['--map', 'chats=messages'], stream: 'chats', at: 10_000, tables: ['users', 'conversations', 'messages'] },
  { pipeline: 'json-seeds', source: 'seeds', extra: [], stream: 'users', at: 10_000, tables: ['tenants', 'users'] },
  { pipeline: 'yaml-personas', source: 'personas', extra: [], stream: 'personas', at: 5_000, tables: ['api_profiles', 'personas'] },
] as const;

describe('kill -9 and rerun: yaml-personas, json-seeds and lowdb end like one clean run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-config-'));
  beforeAll(() => generate(dir));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test.each(CASES)('$pipeline', async (c) => {
    const [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
    try {
      const args = ['run', c.pipeline, path.join(dir, c.source), ...c.extra, '--batch-size', '500', '--json'];
      const reference = await runEtl(args, { env: { ...ENV, DATABASE_URL: clean.url } });
      expect(reference.code).toBe(0);

      const env = { ...ENV, DATABASE_URL: killed.url };
      await interruptRun(killed.knex, { args, env, stream: c.stream, rows: 0 });
      await interruptRun(killed.knex, { args, env, stream: c.stream, rows: c.at });
      expect(await killed.knex('etl_runs').select('state', 'attempts')).toEqual([{ state: 'running', attempts: 2 }]);

      const resumed = await runEtl(args, { env: { ...ENV, DATABASE_URL: killed.url } });
      expect(resumed.code).toBe(0);
      const a = JSON.parse(reference.stdout);
      const b = JSON.parse(resumed.stdout);
      expect(b.mode).toBe('resumed');
      expect(figures(b)).toEqual(figures(a));
      // Fernet tokens carry a random IV: compare what they decrypt to, and everything else as it is
      expect(await dataChecksums(killed.knex, c.tables, ['api_key_cipher'])).toEqual(await dataChecksums(clean.knex, c.tables, ['api_key_cipher']));
      if (c.pipeline === 'yaml-personas') {
        const { fernet } = Fernet.fromSetting(PASSPHRASE);
        const keys = async (k: Knex) => (await k('api_profiles').orderBy('name').select('name', 'api_key_cipher')).map((r) => [r.name, fernet.decrypt(r.api_key_cipher)]);
        expect(await keys(killed.knex)).toEqual([
          ['one', 'sk-kill-one-0000'],
          ['three', 'sk-kill-three-0000'],
          ['two', 'sk-kill-two-0000'],
        ]);
        expect(await keys(clean.knex)).toEqual(await keys(killed.knex));
        // 12,000 personas, every 101st (119 of them, 0 included) without a name
        expect(a.tables.find((t: { table: string }) => t.table === 'personas')).toMatchObject({ read: 12_000, loaded: 11_881, rejected: 119 });
      }
      if (c.pipeline === 'json-seeds') expect(a.tables.find((t: { table: string }) => t.table === 'users')).toMatchObject({ read: 30_000, loaded: 27_272, rejected: 2_728 });
      if (c.pipeline === 'lowdb') expect(a.tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ read: 30_000, loaded: 29_970, merged: 30, rejected: 0 });
    } finally {
      await Promise.all([clean.drop(), killed.drop()]);
    }
  });
});
