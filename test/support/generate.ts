/**
 * Generated inputs of the yaml-personas, json-seeds and lowdb pipelines, big enough to be killed
 * mid-stream (dozens of batches of 500 records), with rejects and merges across batches.
 */
import fs from 'node:fs';
import path from 'node:path';

export function generateConfigSources(dir: string): void {
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
