import type { Knex } from 'knex';
import { verifyTarget } from '../src/verify/verify';
import { freshDatabase } from '../test/support/db';
import { runIn } from '../test/support/pipeline';
import { failed, tableOf } from '../test/support/verify-report';
import { sample } from './support/samples';

/** `etl verify` (in-process) over the real ChatCore files; the fixture cases are in test/integration/verify.test.ts. */
describe('etl verify (in-process) on the real ChatCore samples', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('real ChatCore sample f26001e: ok, with the hand-derived rows', async () => {
    await runIn(db.knex, 'tinydb', [sample('chatcore', 'sessions.f26001e.json')]);
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    // 3 users, 4 conversations + d95a1156 inferred + imported history, 34 messages, 1 session;
    // secrets: the passwords "1234" (twice) and "12345", and the session token
    expect(['users', 'conversations', 'messages', 'auth_sessions'].map((t) => tableOf(r, t).expected)).toEqual([3, 6, 34, 1]);
    expect(r.checks.find((c) => c.name === 'no plaintext secret from the sources')!.detail).toMatch(/^3 plaintext value\(s\) from the sources/);
  });

  test('all five real versions loaded in order: each is the latest run of its file, and together they explain every row', async () => {
    const files = ['sessions.3494e5d.json', 'sessions.1b0c3ee.json', 'sessions.cc03434.json', 'sessions.ef5f664.json', 'sessions.f26001e.json'];
    for (const f of files) await runIn(db.knex, 'tinydb', [sample('chatcore', f)]);
    const r = await verifyTarget(db.knex);
    expect(failed(r)).toEqual([]);
    expect(r.runs).toHaveLength(5);
    expect(['users', 'conversations', 'messages', 'auth_sessions'].map((t) => tableOf(r, t).actual)).toEqual([3, 6, 34, 5]);
  });
});
