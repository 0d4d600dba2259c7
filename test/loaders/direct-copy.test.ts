/**
 * The writer's fast path (loaders/direct-copy.ts) must leave exactly what the general path leaves:
 * the same batches written with and without it give the same rows and the same outcomes, including
 * batches it has to hand over (missing parents, a key from an earlier batch, a key twice in a batch).
 */
import type { Knex } from 'knex';
import type { MessageEntity } from '../../extractors/types';
import { normalizeFor } from '../../loaders/admit';
import { type DirectCopyState, directCopyState } from '../../loaders/direct-copy';
import { etlTarget } from '../../loaders/etl';
import type { AnyRow } from '../../loaders/rows';
import { TABLES } from '../../loaders/tables';
import { type RowBatch, type WriteResult, writeRows } from '../../loaders/writer';
import { tenantId } from '../../src/normalize/ids';
import type { NormalizeContext } from '../../src/normalize/records';
import { type FreshDatabase, freshDatabase } from '../support/db';
import { dataChecksums } from '../support/pipeline';

const RUN = '5b0c1c9e-3f43-4d51-9d59-0d6f2f0f3a11';
const ctx: NormalizeContext = { tenant: 'default', tenantId: tenantId('default'), runId: RUN, source: 'f'.repeat(64), sourceTimeZone: 'UTC' };

function message(id: number, conversation: string, text: string): { entity: MessageEntity; id: string } {
  const entity: MessageEntity = { kind: 'message', username: 'alice', conversationId: conversation, messageId: String(id), role: 'user', content: text, timestamp: `2025-01-01T00:00:${String(id).padStart(2, '0')}Z` };
  return { entity, id: String(id) };
}

function batch(messages: { entity: MessageEntity; id: string }[]): RowBatch {
  const out: RowBatch = { rows: [], locators: [], records: [] };
  for (const m of messages) {
    const n = normalizeFor(etlTarget, m.entity, ctx, `chat_history/${m.id}`);
    if (!n.ok) throw new Error(n.message);
    out.rows.push(n.row as AnyRow);
    out.locators.push({ file: 'chat.json', table: 'chat_history', id: m.id });
    out.records.push(m.entity);
  }
  return out;
}

const BATCHES: RowBatch[] = [
  // Parents missing: the user and the conversation are inferred (general path).
  batch([message(1, 'c1', 'one'), message(2, 'c1', 'two'), message(3, 'c1', 'three')]),
  // All new, parents present: straight COPY.
  batch([message(4, 'c1', 'four'), message(5, 'c1', 'five')]),
  // Message 2 again under another locator: the COPY collides, the batch is merged by the general path.
  batch([message(6, 'c1', 'six'), { ...message(2, 'c1', 'two'), id: '7' }, message(8, 'c1', 'eight')]),
  // Resting after the collision, then a key twice in one batch.
  batch([message(9, 'c1', 'nine')]),
  batch([message(10, 'c1', 'ten'), { ...message(10, 'c1', 'ten'), id: '11' }]),
  // A conversation the target lacks, then new rows again.
  batch([message(12, 'c2', 'twelve')]),
  batch([message(13, 'c1', 'thirteen'), message(14, 'c2', 'fourteen')]),
];

async function load(db: Knex, direct: DirectCopyState | undefined, seen?: (state: DirectCopyState) => void): Promise<Omit<WriteResult, 'entries'>[]> {
  await db('tenants').insert({ id: ctx.tenantId, slug: 'default', name: 'default', etl_run_id: RUN, etl_source: ctx.source, etl_locator: 'tenant' });
  const results: Omit<WriteResult, 'entries'>[] = [];
  for (const b of BATCHES) {
    const res = await db.transaction((trx) => writeRows(trx, TABLES.message, b, { runId: RUN, fingerprint: 'fp', stream: 'chat_history', orphans: 'infer', direct }));
    const { entries, ...counts } = res;
    results.push({ ...counts, ...({ entries: entries.map((e) => [e.outcome, e.reasonCode, e.locator.id, e.mergedInto]) } as object) });
    if (direct && seen) seen(direct);
  }
  return results;
}

describe('writer fast path', () => {
  let fast: FreshDatabase;
  let general: FreshDatabase;
  beforeAll(async () => {
    [fast, general] = await Promise.all([freshDatabase(), freshDatabase()]);
    // The schema a run prepares: the knex migrations and every schema change.
    await Promise.all([etlTarget.schema.prepare(fast.knex, true), etlTarget.schema.prepare(general.knex, true)]);
  });
  afterAll(async () => {
    await Promise.all([fast?.drop(), general?.drop()]);
  });

  test('gives the rows and outcomes of the general path, batch by batch', async () => {
    const states: DirectCopyState[] = [];
    const withFast = await load(fast.knex, directCopyState(), (s) => states.push({ ...s }));
    const withoutFast = await load(general.knex, undefined);
    expect(withFast).toEqual(withoutFast);
    expect(await dataChecksums(fast.knex)).toEqual(await dataChecksums(general.knex));
    expect(await fast.knex('messages').count({ n: '*' })).toEqual([{ n: 12 }]);
    // The third batch's COPY collided (one miss, one batch of rest); the last one went straight in again.
    expect(states.map((s) => s.misses)).toEqual([0, 0, 1, 1, 1, 1, 0]);
    expect(withFast[2]).toMatchObject({ merged: 1, inserted: 2 });
  });
});
