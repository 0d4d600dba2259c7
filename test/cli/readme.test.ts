import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { ROOT, runCommand } from '../support/cli';
import { freshDatabase } from '../support/db';

/** Every command line in the README's ```sh blocks. */
function readmeCommands(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]);
  return blocks.flatMap((b) => b.split('\n')).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** Commands this suite cannot run inside itself; CI runs them (.ci/run: npm ci, npm test, npm run test:samples). */
const RUN_BY_CI = new Set(['npm ci', 'npm test', 'npm run test:samples']);

describe('the README commands work', () => {
  const commands = readmeCommands();
  // Each database the README names (…/chat, …/chatcore) stands for one fresh test database.
  const names = [...new Set(commands.map((c) => /DATABASE_URL=\S+\/(\w+)/.exec(c)?.[1]).filter((n): n is string => n !== undefined))];
  const dbs = new Map<string, { url: string; knex: Knex; drop(): Promise<void> }>();
  beforeAll(async () => {
    for (const name of names) dbs.set(name, await freshDatabase());
  });
  afterAll(async () => Promise.all([...dbs.values()].map((d) => d.drop())));

  test('the README shows the newcomer commands', () => {
    expect(commands).toEqual(expect.arrayContaining(['npm ci', 'npm test', 'npm run test:samples', 'npx etl run tinydb fixtures/tinydb/chatcore.json --documents fixtures/documents']));
    for (const pipeline of ['yaml-personas fixtures/', 'json-seeds fixtures/', 'lowdb fixtures/']) expect(commands.some((c) => c.includes(`npx etl run ${pipeline}`))).toBe(true);
  });

  test.each(commands.filter((c) => !RUN_BY_CI.has(c)))('%s', async (command) => {
    // The README's example URL stands for the user's server; here it is a fresh test database.
    const line = command.replace(/DATABASE_URL=\S+\/(\w+)/, (_m, name: string) => `DATABASE_URL=${dbs.get(name)!.url}`).replace(/^npm run bench$/, 'npm run bench -- --messages 2000');
    const env = /DATABASE_URL=/.test(line) ? {} : { DATABASE_URL: undefined };
    const r = await runCommand('bash', ['-c', line], { env: { ...env, ETL_LOG_LEVEL: 'info' } });
    if (r.code !== 0) throw new Error(`"${command}" exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    if (line.includes('etl run tinydb fixtures/tinydb/chatcore.json')) {
      expect(r.stdout).toMatch(/^messages\s+9\s+6\s+1\s+2\s+1\s/m);
    }
    if (line.includes('etl run yaml-personas fixtures/personas')) expect(r.stdout).toMatch(/^personas\s+6\s+4\s+0\s+2\s/m);
    if (line.includes('--target mul-in-one --owner alice')) expect(r.stdout).toMatch(/^personas\s+4\s+0$/m); // rows landed in Mul-in-One's personas
    if (line.includes('etl migrate --target mul-in-one')) expect(r.stdout).toMatch(/^applied: Mul-in-One schema/);
    if (line.includes('json-seeds fixtures/itl --target itl')) expect(r.stdout).toMatch(/^agent_tools\s+6\s+0$/m); // the links landed in ITL's agent_tools
    if (line.includes('etl migrate --target itl')) expect(r.stdout).toMatch(/^applied: ITL schema/);
    // fixtures/tenant-map.json gives the Initech user (rejected without it) a tenant
    if (line.includes('etl run json-seeds fixtures/seeds')) expect(r.stdout).toMatch(line.includes('--tenant-map') ? /^users\s+4\s+3\s+1\s+0\s/m : /^users\s+4\s+2\s+1\s+1\s/m);
    if (line.includes('etl run lowdb fixtures/lowdb/db.json')) expect(r.stdout).toMatch(/^messages\s+5\s+4\s+0\s+1\s/m);
    if (line.includes('--target chatcore --documents')) expect(r.stdout).toMatch(/^messages\s+6\s+0$/m); // rows landed in ChatCore's messages
    if (line.includes('etl migrate --target chatcore')) expect(r.stdout).toMatch(/^applied: ChatCore schema/);
    if (!/DATABASE_URL=/.test(line) && line.startsWith('npx etl')) {
      expect(r.stderr).toMatch(/embedded PostgreSQL with its data in \.etl\/pg/);
    }
    if (line.startsWith('npm run bench')) expect(r.stdout).toMatch(/ratio \d+(\.\d+)?×/);
  });
});
