/** Two writers never interleave: while a run holds the target, another `etl run` (same or other sources) is refused. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { generateChatCore } from '../../bench/generate';
import { ROOT, runEtl, startEtl } from '../support/cli';
import { type FreshDatabase, freshDatabase } from '../support/db';
import { waitUntil } from '../support/faults';
import { dataChecksums } from '../support/pipeline';

describe('a second etl run while one is running', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-concurrent-'));
  const file = path.join(dir, 'chat.json');
  const args = ['run', 'tinydb', file, '--batch-size', '500'];
  let clean: FreshDatabase;
  let db: FreshDatabase;

  beforeAll(async () => {
    await generateChatCore(file, { messages: 30_000, users: 20, perConversation: 25 });
    [clean, db] = await Promise.all([freshDatabase(), freshDatabase()]);
    expect((await runEtl(args, { env: { DATABASE_URL: clean.url } })).code).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), db?.drop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('is refused (exit 2, one sentence) for the same sources and for other sources; the first run ends like a clean one', async () => {
    // The first run must still be loading when the others ask: another session holds the messages
    // table, so it commits users and conversations, then waits there until the test lets it go.
    expect((await runEtl(['migrate'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    const holder = new Client({ connectionString: db.url });
    holder.on('error', () => undefined);
    await holder.connect();
    await holder.query('begin');
    await holder.query('lock table messages in access exclusive mode');
    const first = startEtl(args, { env: { DATABASE_URL: db.url } });
    try {
      let running = true;
      void first.result.then(() => (running = false));
      await waitUntil(async () => Number((await db.knex.raw("select coalesce(sum(position), 0)::int as n from etl_checkpoints where stream = 'users'")).rows[0].n) > 0, 'a batch was committed', () => running);

      const env = { DATABASE_URL: db.url };
      const [same, other] = await Promise.all([runEtl(args, { env }), runEtl(['run', 'json-seeds', path.join(ROOT, 'fixtures/seeds')], { env })]);
      for (const r of [same, other]) {
        expect({ code: r.code, stderr: r.stderr.trim() }).toEqual({ code: 2, stderr: 'etl: Another etl run is in progress on this database; wait for it to finish, then run again.' });
      }
      expect(running).toBe(true); // refused while the first one was still loading, not after it
    } finally {
      await holder.end().catch(() => undefined); // lets the first run go (also when an assertion failed)
    }

    expect((await first.result).code).toBe(0);
    expect(await db.knex('etl_runs').count<{ count: number }[]>('* as count')).toEqual([{ count: 1 }]);
    expect(await dataChecksums(db.knex)).toEqual(await dataChecksums(clean.knex));
  });
});
