import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { generateChatCore } from '../../bench/generate';
import { runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { figures, interruptRun } from '../support/kill';
import { dataChecksums } from '../support/pipeline';

// Five runs of 120k messages: ~35 s alone, several times that when the fault suites load the same 2 cores.
jest.setTimeout(300_000);

describe('kill -9 at any point, rerun: the same rows as one clean run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-'));
  const file = path.join(dir, 'big.json');
  let clean: { url: string; knex: Knex; drop(): Promise<void> };
  let killed: { url: string; knex: Knex; drop(): Promise<void> };

  beforeAll(async () => {
    // 120k messages with duplicates and conversations the table lacks, so merges and inferred rows cross batches.
    await generateChatCore(file, { messages: 120_000, users: 50, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), killed?.drop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('killed at 0, 10k, 50k and 90k committed messages, then rerun to the end', async () => {
    const reference = await runEtl(['run', 'tinydb', file, '--json'], { env: { DATABASE_URL: clean.url } });
    expect(reference.code).toBe(0);

    const args = ['run', 'tinydb', file, '--batch-size', '2000'];
    for (const rows of [0, 10_000, 50_000, 90_000]) await interruptRun(killed.knex, { args, env: { DATABASE_URL: killed.url }, stream: 'chat_history', rows });
    const states = await killed.knex('etl_runs').select('state', 'attempts');
    expect(states).toEqual([{ state: 'running', attempts: 4 }]);

    const resumed = await runEtl(['run', 'tinydb', file, '--json'], { env: { DATABASE_URL: killed.url } });
    expect(resumed.code).toBe(0);
    const a = JSON.parse(reference.stdout);
    const b = JSON.parse(resumed.stdout);
    expect(b.mode).toBe('resumed');
    expect(figures(b)).toEqual(figures(a));
    expect(await dataChecksums(killed.knex)).toEqual(await dataChecksums(clean.knex));

    const messages = a.tables.find((t: { table: string }) => t.table === 'messages');
    expect(messages).toMatchObject({ read: 120_000, merged: 120, rejected: 0, loaded: 119_880 });
  });

  test('Ctrl-C stops at once, says how to resume, and the same command finishes the run', async () => {
    const db = await freshDatabase();
    try {
      const stopped = await interruptRun(db.knex, { args: ['run', 'tinydb', file, '--batch-size', '2000'], env: { DATABASE_URL: db.url }, stream: 'chat_history', rows: 20_000, signal: 'SIGINT' });
      expect(stopped.code).toBe(130);
      expect(stopped.stderr).toMatch(/interrupted \(SIGINT\); committed batches are kept, run the same command again to resume/);
      const resumed = await runEtl(['run', 'tinydb', file, '--json'], { env: { DATABASE_URL: db.url } });
      expect(resumed.code).toBe(0);
      expect(JSON.parse(resumed.stdout).mode).toBe('resumed');
      expect(await dataChecksums(db.knex)).toEqual(await dataChecksums(clean.knex));
    } finally {
      await db.drop();
    }
  });
});
