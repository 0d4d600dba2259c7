/**
 * A target of 200,000 messages loaded by the previous release, upgraded by `etl migrate` killed
 * (kill -9) at eight points of the two backfills, then run to the end: no row lost or changed in
 * the columns it had, every row filled exactly once, the checks and `etl verify` pass.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateChatCore } from '../bench/generate';
import { runEtl } from '../test/support/cli';
import { freshDatabase, type FreshDatabase } from '../test/support/db';
import { asPreviousRelease, checksumsAgain, targetChecksums } from '../test/support/evolve';
import { interruptRun } from '../test/support/kill';

jest.setTimeout(3_600_000);

const PERSONA = '20261201_101_persona_segmentation';
const SEARCH = '20261201_102_message_search';

describe('etl migrate on 200,000 messages, killed at eight points', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-evolve-200k-'));
  const file = path.join(dir, 'big.json');
  let db: FreshDatabase;

  beforeAll(async () => {
    await generateChatCore(file, { messages: 200_000, users: 500, perConversation: 20, duplicateEvery: 997, missingConversationEvery: 13 });
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('every row kept and filled once; checks and verify pass', async () => {
    const env = { DATABASE_URL: db.url };
    expect((await runEtl(['run', 'tinydb', file], { env })).code).toBe(0);
    await asPreviousRelease(db.knex);
    const before = await targetChecksums(db.knex);
    expect(before.messages.rows).toBeGreaterThan(190_000);
    const args = ['migrate', '--batch-rows', '5000'];
    const at = (change: string, step: string, rows: number) => `select count(*)::int as n from etl_evolve where change = '${change}' and step = '${step}' and rows >= ${rows}`;
    const points = [
      at(PERSONA, 'backfill:conversations', 1),
      at(PERSONA, 'backfill:messages', 1),
      at(PERSONA, 'backfill:messages', 60_000),
      at(PERSONA, 'backfill:messages', 150_000),
      `select count(*)::int as n from etl_evolve where change = '${SEARCH}' and step = 'expand'`,
      at(SEARCH, 'backfill:messages', 20_000),
      at(SEARCH, 'backfill:messages', 100_000),
      at(SEARCH, 'backfill:messages', 180_000),
    ];
    for (const query of points) {
      const r = await interruptRun(db.knex, { args, env, rows: 0, query });
      expect(r.code).toBeNull();
    }
    const done = await runEtl([...args, '--json'], { env });
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout).changes.map((c: { contracted: boolean }) => c.contracted)).toEqual([true, true]);
    expect(await checksumsAgain(db.knex, before)).toEqual(before);
    const filled = (await db.knex.raw("select change, step, rows::int from etl_evolve where step like 'backfill:%' order by 1, 2")).rows;
    expect(filled).toEqual([
      { change: PERSONA, step: 'backfill:conversations', rows: before.conversations.rows },
      { change: PERSONA, step: 'backfill:messages', rows: before.messages.rows },
      { change: SEARCH, step: 'backfill:messages', rows: before.messages.rows },
    ]);
    const verify = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(verify.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.code).toBe(0);
  });
});
