/**
 * The backfill of one step: a sweep over the table's blocks (the physical key: every batch reads
 * its block range once, in order, by a TID range scan), one transaction per batch that also moves
 * the step's position, so a kill -9 loses at most the batch in flight and a rerun resumes after
 * the last committed one. Rows a writer moved or added behind the sweep that still need the step
 * (a writer's own new rows never do) are picked up at the end by a pass over what is left.
 * Batches wait at most a moment for a writer's row locks and are retried, so a writer is never
 * the one PostgreSQL aborts.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../log';
import type { BackfillStep, Change } from './change';
import { withRetry } from './ddl';
import { setStep, STATE_TABLE, stepState } from './state';

export interface BackfillFigures {
  change: string;
  step: string;
  rows: number;
  inferred: number;
  seconds: number;
}

export interface BackfillOptions {
  /** Rows per batch (about: a batch is a range of blocks). */
  batchRows: number;
  /** Called after each committed batch (tests kill the process here). */
  onBatch?: (figures: BackfillFigures) => void;
}

async function blocksOf(knex: Knex, table: string): Promise<{ blocks: number; rowsPerBlock: number }> {
  const r = (
    await knex.raw(
      `select (pg_relation_size(c.oid) / current_setting('block_size')::int)::bigint as blocks, c.reltuples, c.relpages from pg_class c where c.oid = to_regclass(?)`,
      [table],
    )
  ).rows[0];
  const rowsPerBlock = r.relpages > 0 && r.reltuples > 0 ? r.reltuples / r.relpages : 30;
  return { blocks: Number(r.blocks), rowsPerBlock };
}

async function batch(knex: Knex, change: Change, step: BackfillStep, range: string, position: Partial<{ position: number }>, log: Logger): Promise<{ rows: number; inferred: number }> {
  const key = `backfill:${step.name}`;
  return withRetry(key, log, () =>
    knex.transaction(async (trx) => {
      await trx.raw("set local lock_timeout = '2s'");
      const got = await step.fill(trx, range);
      await trx(STATE_TABLE)
        .where({ change: change.name, step: key })
        .update({ ...position, rows: trx.raw('rows + ?', [got.rows]), inferred: trx.raw('inferred + ?', [got.inferred]), updated_at: trx.fn.now() });
      return got;
    }),
  );
}

export async function backfillStep(knex: Knex, change: Change, step: BackfillStep, o: BackfillOptions, log: Logger): Promise<BackfillFigures> {
  const key = `backfill:${step.name}`;
  const t0 = Date.now();
  let state = await stepState(knex, change.name, key);
  if (state?.state === 'done') return { change: change.name, step: step.name, rows: state.rows, inferred: state.inferred, seconds: 0 };
  const { blocks, rowsPerBlock } = await blocksOf(knex, step.table);
  if (!state) {
    // The sweep's end is fixed when it starts: rows appended later are the writers' (filled) or left for the last pass.
    await setStep(knex, change.name, key, 'running', { position: 0, end_position: blocks, rows: 0, inferred: 0 });
    state = (await stepState(knex, change.name, key))!;
  }
  const end = state.end_position ?? blocks;
  const per = Math.max(1, Math.floor(o.batchRows / rowsPerBlock));
  let rows = state.rows;
  let inferred = state.inferred;
  const figures = (): BackfillFigures => ({ change: change.name, step: step.name, rows, inferred, seconds: (Date.now() - t0) / 1000 });
  for (let at = state.position; at < end; ) {
    const hi = Math.min(end, at + per);
    const got = await batch(knex, change, step, `t.ctid >= '(${at},0)'::tid and t.ctid < '(${hi},0)'::tid`, { position: hi }, log);
    rows += got.rows;
    inferred += got.inferred;
    at = hi;
    log.info({ change: change.name, step: step.name, rows, inferred, block: at, blocks: end, percent: Math.floor((100 * at) / end) }, `backfill ${change.name} ${step.name}: ${rows} rows`);
    o.onBatch?.(figures());
  }
  // What is left: rows a writer updated (a new version may land anywhere) before the sweep reached them.
  for (;;) {
    const got = await batch(knex, change, step, `t.ctid = any(array(select x.ctid from ${step.table} x where ${step.pending.replace(/\bt\./g, 'x.')} limit ${o.batchRows}))`, {}, log);
    rows += got.rows;
    inferred += got.inferred;
    if (got.rows === 0) break;
    o.onBatch?.(figures());
  }
  await setStep(knex, change.name, key, 'done', { position: end, end_position: end, rows, inferred });
  return figures();
}
