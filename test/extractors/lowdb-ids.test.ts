import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { rowCounts, runIn, table } from '../support/pipeline';

/**
 * A lowdb document's locator is its position in the collection, not its own `id`: documents that
 * share an `id` are distinct records, so a duplicate among them is merged even in another batch, and
 * two rejected ones are two reject entries.
 */
describe('lowdb: documents that share an id', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-lowdb-ids-'));
  });
  afterEach(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
    await db.drop();
  });

  test('are each accounted for: loaded, merged or rejected, one record per batch', async () => {
    const file = path.join(dir, 'db.json');
    fs.writeFileSync(
      file,
      JSON.stringify({
        users: [
          { id: 'u1', username: 'alice', createdAt: '2025-01-01T00:00:00Z' },
          { id: 'u1', username: 'bob', createdAt: '2025-01-02T00:00:00Z' }, // another user, same id: loaded
          { id: 'u1', username: ' ALICE ', createdAt: '2025-01-03T00:00:00Z' }, // folds to alice, later: merged
        ],
        messages: [
          { id: 'm1', username: 'alice', role: 'user', text: 'hi', createdAt: '2025-01-01T10:00:00Z' },
          { id: 'm1', username: 'alice', role: 'user', text: 'hi', createdAt: '2025-01-01T10:00:00Z' }, // the same message: merged
          { id: 'm1', username: 'bob', role: 'user', text: 'other', createdAt: '2025-01-01T11:00:00Z' }, // another message: loaded
          { id: 'm9', username: 'bob', role: 'robot', text: 'x', createdAt: '2025-01-01T12:00:00Z' }, // rejected
          { id: 'm9', username: 'bob', role: 'robot', text: 'y', createdAt: '2025-01-01T13:00:00Z' }, // rejected too
        ],
      }),
    );
    const report = await runIn(db.knex, 'lowdb', [file], { batchSize: 1 });
    expect(table(report, 'users')).toMatchObject({ read: 3, loaded: 2, merged: 1, rejected: 0 });
    expect(table(report, 'messages')).toMatchObject({ read: 5, loaded: 2, merged: 1, rejected: 2 });
    expect(await rowCounts(db.knex)).toMatchObject({ users: 2, messages: 2 });

    const users = await db.knex('users').orderBy('username').select('username', 'username_original');
    expect(users.map((u) => [u.username, u.username_original])).toEqual([
      ['alice', 'alice'],
      ['bob', 'bob'],
    ]);
    const rejects = await db.knex('etl_rejects').whereNot({ outcome: 'inferred' }).orderBy(['stream', 'outcome']).select('stream', 'outcome', 'reason_code', 'locator', 'record');
    expect(rejects.map((r) => [r.stream, r.outcome, r.reason_code, r.locator.table, r.locator.id, r.record.id]).sort()).toEqual(
      [
        ['messages', 'merged', 'duplicate_messages', 'messages', '1', 'm1'],
        ['messages', 'rejected', 'invalid_role', 'messages', '3', 'm9'],
        ['messages', 'rejected', 'invalid_role', 'messages', '4', 'm9'],
        ['users', 'merged', 'duplicate_users', 'users', '2', 'u1'],
      ].sort(),
    );

    // A rerun over the same file is a no-op; a full pass changes no count.
    expect((await runIn(db.knex, 'lowdb', [file], { batchSize: 1 })).mode).toBe('already-done');
    const again = await runIn(db.knex, 'lowdb', [file], { batchSize: 1, restart: true });
    expect(table(again, 'users')).toMatchObject({ read: 3, loaded: 2, merged: 1 });
    expect(table(again, 'messages')).toMatchObject({ read: 5, loaded: 2, merged: 1, rejected: 2 });
    expect(await rowCounts(db.knex)).toMatchObject({ users: 2, messages: 2 });
  });
});
