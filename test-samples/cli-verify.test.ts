import type { Knex } from 'knex';
import { expectCliVerifyHolds } from '../test/support/cli-verify';
import { freshDatabase } from '../test/support/db';
import { sample } from './support/samples';

/** `etl verify` (the CLI) over a real ChatCore file; the fixture cases are in test/cli/verify.test.ts. */
describe('etl verify (CLI) on the real ChatCore samples', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('verify after a run of the real sample: exit 0, ok; the text summary is a table; the database is unchanged', () =>
    expectCliVerifyHolds(db, sample('chatcore', 'sessions.f26001e.json'), [['tenants', 1], ['users', 3], ['conversations', 6], ['messages', 34], ['user_personas', 1], ['auth_sessions', 1]], 34));
});
