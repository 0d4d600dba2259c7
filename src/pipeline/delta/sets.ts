import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { copyOutBlocks, unescapeField } from '../../db/copy-out';

/** One stream of one source file, across the passes over its versions. */
export interface Lineage {
  pipeline: string;
  tenant: string;
  /** The source file's absolute path: the legacy app rewrites the same file, so its sha256 changes and its path does not. */
  path: string;
  stream: string;
}

export interface DigestSet {
  id: number;
  options: string;
  sources: string[];
  /** The locator's file and table of the records (rows of gone records are reported with it). */
  locator: { file: string; table: string } | null;
}

/** What became of a record: loaded, merged into another record's row, rejected; null for a gone record. */
export type Outcome = 'l' | 'm' | 'r';

/** A digest row: the record's locator id, its digest (null: gone from the source), the row it produces, the row it produced before, its outcome. */
export interface DigestRow {
  loc: string;
  digest: string | null;
  row_id: string | null;
  old_id: string | null;
  outcome: Outcome | null;
  /** How many repairs normalization made to the record (null: none). */
  repaired: number | null;
  /** Its sequence number in the set it was read from. */
  ord?: number;
}

export const setTable = (id: number): string => `etl_digest_${id}`;

function toSet(r: { id: number; options: string; sources: string[]; locator: DigestSet['locator'] } | undefined): DigestSet | undefined {
  return r && { id: r.id, options: r.options, sources: r.sources, locator: r.locator };
}

export async function currentSet(knex: Knex, l: Lineage): Promise<DigestSet | undefined> {
  return toSet(await knex('etl_digest_sets').where({ ...l, state: 'current' }).first());
}

/** The sha256 of every version of the lineage's file that an earlier run (not rolled back) loaded. */
export async function earlierSources(knex: Knex, l: Lineage, runId: string): Promise<string[]> {
  const res = await knex.raw(
    `select distinct s->>'sha256' as sha from etl_runs r cross join jsonb_array_elements(r.sources) s
     where r.pipeline = ? and r.tenant = ? and r.state <> 'rolled_back' and r.id <> ? and s->>'path' = ?`,
    [l.pipeline, l.tenant, runId, l.path],
  );
  return res.rows.map((r: { sha: string }) => r.sha);
}

/** Does any stream of these files have the digests of a complete pass under `options`? (the run is then a delta pass) */
export async function hasCurrentSets(knex: Knex, pipeline: string, tenant: string, paths: readonly string[], options: string): Promise<boolean> {
  return Boolean(await knex('etl_digest_sets').where({ pipeline, tenant, state: 'current', options }).whereIn('path', paths).first());
}

/**
 * The set this run builds for the stream: its own from an interrupted attempt, or a new one (an
 * abandoned set of another run is dropped). Returns it with the next sequence number and the
 * locator id of the last row it holds.
 */
export async function buildingSet(knex: Knex, l: Lineage, tbl: string, runId: string, options: string, sources: string[]): Promise<{ set: DigestSet; nextSeq: number; last: string | null }> {
  return knex.transaction(async (trx) => {
    const own = toSet(await trx('etl_digest_sets').where({ ...l, run_id: runId, state: 'building' }).first());
    if (own && own.options === options) {
      const last = (await trx.raw(`select _ord, loc from ${setTable(own.id)} order by _ord desc limit 1`)).rows[0];
      return { set: own, nextSeq: last ? Number(last._ord) + 1 : 1, last: last?.loc ?? null };
    }
    await dropSets(trx, trx('etl_digest_sets').where({ ...l, state: 'building' }));
    const [row] = await trx('etl_digest_sets').insert({ ...l, tbl, options, run_id: runId, state: 'building', sources }).returning(['id', 'options', 'sources', 'locator']);
    await trx.raw(`create table ${setTable(row.id)} (_ord bigint not null, loc text not null, digest uuid, row_id uuid, old_id uuid, outcome "char", repaired smallint)`);
    return { set: toSet(row)!, nextSeq: 1, last: null };
  });
}

/** Drops the sets a query selects, tables and all. */
export async function dropSets(trx: Knex.Transaction, query: Knex.QueryBuilder): Promise<void> {
  const ids = ((await query.clone().select('id')) as { id: number }[]).map((r) => r.id);
  for (const id of ids) await trx.raw(`drop table if exists ${setTable(id)}`);
  if (ids.length) await trx('etl_digest_sets').whereIn('id', ids).delete();
}

/**
 * `etl rollback` of run `runId`: where its set is the current one, the set it superseded is current
 * again (the rows are back as they were then). Where a later pass already superseded it, no set
 * describes the rows any more: the lineage's sets are dropped and its next pass is a full one.
 */
export async function rollBackSets(trx: Knex.Transaction, runId: string): Promise<void> {
  const own: (Lineage & { state: string })[] = await trx('etl_digest_sets').where({ run_id: runId }).select('pipeline', 'tenant', 'path', 'stream', 'state');
  for (const { state, ...l } of own) {
    if (state === 'current') {
      await dropSets(trx, trx('etl_digest_sets').where({ ...l, state: 'current' }));
      await trx('etl_digest_sets').where({ ...l, state: 'superseded' }).update({ state: 'current' });
    } else if (state === 'superseded') {
      await dropSets(trx, trx('etl_digest_sets').where(l));
    }
  }
  await dropSets(trx, trx('etl_digest_sets').where({ run_id: runId }));
}

/**
 * The building set becomes the lineage's current one, in the transaction of the stream's last
 * batch. Its index on the sequence is built now, from rows already in order: maintaining it row
 * by row while the set was written cost three times as much.
 */
export async function promoteSet(trx: Knex.Transaction, l: Lineage, set: DigestSet, locator: DigestSet['locator']): Promise<void> {
  await trx.raw(`create unique index on ${setTable(set.id)} (_ord)`);
  await dropSets(trx, trx('etl_digest_sets').where({ ...l, state: 'superseded' }));
  await trx('etl_digest_sets').where({ ...l, state: 'current' }).update({ state: 'superseded' });
  await trx('etl_digest_sets').where({ id: set.id }).update({ state: 'current', locator: locator && JSON.stringify(locator) });
}

const PAGE = 20_000;
const AHEAD = 3;

const field = (v: string): string | null => (v === '\\N' ? null : unescapeField(v));

/**
 * Digest rows as COPY TO writes them: `_ord`, locator id, digest, row id, outcome, repairs, tab
 * separated, `\\N` for NULL. Split as one string: a decode per field cost as much as the query.
 */
function digestRows(buf: Buffer): { rows: DigestRow[]; last: number } {
  const rows: DigestRow[] = [];
  let last = 0;
  const lines = buf.toString('utf8').split('\n');
  lines.pop();
  for (const line of lines) {
    const [ord, loc, digest, rowId, outcome, repaired] = line.split('\t').map(field);
    last = Number(ord);
    rows.push({ loc: loc!, digest, row_id: rowId, old_id: null, outcome: outcome as Outcome | null, repaired: repaired === null ? null : Number(repaired), ord: last });
  }
  return { rows, last };
}

/**
 * A set's rows in sequence: keyset pages on the sequence, each one COPY, read ahead while the pass
 * works on earlier ones (up to AHEAD pages: memory stays flat). The pass consumes a page in less
 * time than a page takes to arrive, so one page ahead left it waiting on every other page.
 */
export async function* readSet(knex: Knex, id: number): AsyncGenerator<DigestRow[]> {
  const page = async (after: number): Promise<{ rows: DigestRow[]; last: number }> => {
    const conn = (await knex.client.acquireConnection()) as PoolClient;
    try {
      const blocks: Buffer[] = [];
      for await (const b of copyOutBlocks(conn, `copy (select _ord, loc, digest, row_id, outcome, repaired from ${setTable(id)} where _ord > ${after} order by _ord limit ${PAGE}) to stdout`)) blocks.push(b);
      return digestRows(Buffer.concat(blocks));
    } finally {
      await knex.client.releaseConnection(conn);
    }
  };
  const queue: Promise<{ rows: DigestRow[]; last: number }>[] = [];
  let reading = false;
  let done = false;
  let after = 0;
  const fill = (): void => {
    if (reading || done || queue.length >= AHEAD) return;
    reading = true;
    const p = page(after);
    // Keep a pending read's failure observed; it is rethrown when the page is taken.
    p.catch(() => undefined);
    queue.push(p);
    p.then(
      ({ rows, last }) => {
        reading = false;
        if (rows.length < PAGE) done = true;
        else {
          after = last;
          fill();
        }
      },
      () => {
        reading = false;
        done = true;
      },
    );
  };
  fill();
  while (queue.length) {
    const got = await queue.shift()!;
    fill();
    if (got.rows.length === 0) return;
    yield got.rows;
  }
}
