/**
 * kill -9 at any point of a --target chatcore run (while loading, and while projecting into
 * ChatCore's tables), then the same command: ChatCore's tables end identical to one clean run,
 * integer ids included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateChatCore } from '../../bench/generate';
import { chatcoreRows } from '../support/chatcore';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { interruptRun } from '../support/kill';

describe('--target chatcore: kill -9 and rerun ends identical to one clean run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-chatcore-'));
  const file = path.join(dir, 'sessions.json');
  let clean: FreshDatabase;
  let killed: FreshDatabase;
  beforeAll(async () => {
    await generateChatCore(file, { messages: 24_000, users: 40, perConversation: 20, duplicateEvery: 499, missingConversationEvery: 11 });
    [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), killed?.drop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('killed before the first batch, mid-load, and mid-projection', async () => {
    const args = ['run', 'tinydb', file, '--target', 'chatcore', '--batch-size', '1500'];
    const reference = await runEtl(args, { env: { DATABASE_URL: clean.url } });
    expect(reference.code).toBe(0);

    const env = { DATABASE_URL: killed.url };
    await interruptRun(killed.knex, { args, env, stream: 'chat_history', rows: 0 });
    await interruptRun(killed.knex, { args, env, stream: 'chat_history', rows: 9_000 });
    // The users' projection committed; conversations or messages are under way.
    await interruptRun(killed.knex, { args, env, stream: 'chat_history', rows: 0, query: "select count(*)::int as n from etl.id_map where tbl = 'users'" });
    expect((await killed.knex.raw("select state from etl.etl_runs")).rows).toEqual([{ state: 'running' }]);

    const resumed = await runEtl([...args, '--json'], { env });
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout).mode).toBe('resumed');
    const a = await chatcoreRows(clean.knex);
    const b = await chatcoreRows(killed.knex);
    expect(b.messages.length).toBe(24_000 - Math.floor(24_000 / 499));
    expect(b).toEqual(a);
    expect((await runEtl(['verify'], { env })).code).toBe(0);
  });
});
