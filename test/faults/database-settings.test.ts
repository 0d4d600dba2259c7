/**
 * statement_timeout and lock_timeout set on the target database (ALTER DATABASE … SET) stop a
 * run with one sentence that names the setting; once it is lifted, the same command completes.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { generateChatCore } from '../../bench/generate';
import { runEtl } from '../support/cli';
import { type FreshDatabase, freshDatabase } from '../support/db';
import { expectFaultReport, expectRerunMatchesClean } from '../support/faults';

const CASES = [
  {
    setting: 'statement_timeout',
    code: '57014',
    sentence: /^etl: A statement was cancelled by the database's statement_timeout \(PostgreSQL: canceling statement due to statement timeout\); raise it for etl's role or database .+, then run the same command again: committed batches are kept\.$/,
  },
  {
    setting: 'lock_timeout',
    code: '55P03',
    sentence: /^etl: A table etl writes stayed locked by another session longer than the database's lock_timeout \(PostgreSQL: canceling statement due to lock timeout\); let that session finish \(or raise lock_timeout\), then run the same command again: committed batches are kept\.$/,
  },
] as const;

describe('timeouts set on the target database', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-timeouts-'));
  const file = path.join(dir, 'chat.json');
  const args = ['run', 'tinydb', file, '--batch-size', '500'];
  let clean: FreshDatabase;

  beforeAll(async () => {
    await generateChatCore(file, { messages: 3_000, users: 20, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    clean = await freshDatabase();
    expect((await runEtl(args, { env: { DATABASE_URL: clean.url } })).code).toBe(0);
  });
  afterAll(async () => {
    await clean?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(CASES)('$setting: one sentence, exit 1, and the rerun completes once it is lifted', async (c) => {
    const db = await freshDatabase();
    // Another session holds the messages table: users and conversations load, the first message batch waits for the lock until the timeout.
    const holder = new Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    try {
      expect((await runEtl(['migrate'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
      await db.knex.raw(`alter database ${db.name} set ${c.setting} = '700ms'`);
      await holder.connect();
      await holder.query('begin');
      await holder.query('lock table messages in access exclusive mode');

      const failed = await runEtl(args, { env: { DATABASE_URL: db.url } });
      expectFaultReport(failed, c.sentence);
      const runs = await db.knex('etl_runs').select('state', 'error');
      expect(runs).toEqual([{ state: 'failed', error: expect.stringContaining(`database's ${c.setting}`) }]);
      expect((await db.knex('users').count<{ count: number }[]>('* as count'))[0].count).toBe(20); // committed before the fault, kept

      await holder.query('rollback');
      await db.knex.raw(`alter database ${db.name} reset ${c.setting}`);
      await expectRerunMatchesClean(args, db, clean.knex);
    } finally {
      await holder.end().catch(() => undefined);
      await db.drop();
    }
  });
});
