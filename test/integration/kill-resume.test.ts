import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { generateChatCore } from '../../bench/generate';
import { ETL_BIN, runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';
import { dataChecksums } from '../support/pipeline';

/**
 * Starts a run and kills it with SIGKILL once it has committed at least `rows` messages (rows = 0:
 * as soon as the run is recorded, before its first batch).
 */
async function killWhen(knex: Knex, url: string, file: string, rows: number, sig: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ETL_BIN, 'run', 'tinydb', file, '--batch-size', '2000'], {
    env: { ...process.env, DATABASE_URL: url, ETL_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let alive = true;
  void exited.then(() => (alive = false));
  for (;;) {
    if (!alive) throw new Error(`the run finished before ${rows} messages were committed; make the generated file bigger`);
    const sql =
      rows === 0
        ? "select count(*)::int as n from etl_runs where state = 'running'"
        : "select coalesce(sum(position), 0)::int as n from etl_checkpoints where stream = 'chat_history'";
    const n = await knex
      .raw(sql)
      .then((r) => r.rows[0].n as number)
      .catch(() => -1);
    if (rows === 0 ? n > 0 : n >= rows) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  child.kill(sig);
  return { code: await exited, stderr };
}

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

    for (const at of [0, 10_000, 50_000, 90_000]) await killWhen(killed.knex, killed.url, file, at);
    const states = await killed.knex('etl_runs').select('state', 'attempts');
    expect(states).toEqual([{ state: 'running', attempts: 4 }]);

    const resumed = await runEtl(['run', 'tinydb', file, '--json'], { env: { DATABASE_URL: killed.url } });
    expect(resumed.code).toBe(0);
    const a = JSON.parse(reference.stdout);
    const b = JSON.parse(resumed.stdout);
    expect(b.mode).toBe('resumed');
    const figures = (r: { tables: Record<string, unknown>[] }) => r.tables.map(({ seconds: _s, ...rest }) => rest);
    expect(figures(b)).toEqual(figures(a));
    expect(await dataChecksums(killed.knex)).toEqual(await dataChecksums(clean.knex));

    const messages = a.tables.find((t: { table: string }) => t.table === 'messages');
    expect(messages).toMatchObject({ read: 120_000, merged: 120, rejected: 0, loaded: 119_880 });
  });

  test('Ctrl-C stops at once, says how to resume, and the same command finishes the run', async () => {
    const db = await freshDatabase();
    try {
      const stopped = await killWhen(db.knex, db.url, file, 20_000, 'SIGINT');
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
