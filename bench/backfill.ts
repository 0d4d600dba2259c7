/**
 * The backfill rate of `etl migrate`'s schema changes on a loaded target, for `npm run bench`:
 * the target is put back into the previous release's shape (the changes' columns, tables and
 * bookkeeping gone, as a target loaded before them has it), then `etl migrate`'s own code takes
 * every change through expand, backfill, checks and contract, timed per change.
 */
import { knex as createKnex, type Knex } from 'knex';
import { evolveAll } from '../src/db/evolve/apply';
import { CHANGES } from '../src/db/evolve/index';
import { STATE_TABLE } from '../src/db/evolve/state';
import { silentLogger } from '../src/log';

export interface BackfillBench {
  changes: { change: string; rows: number; seconds: number; rowsPerSecond: number }[];
  /** expand + backfill + checks + contract of every change. */
  seconds: number;
}

/**
 * The target as the release before these changes leaves it: each change's rollback statements and
 * no bookkeeping of them.
 */
export async function asPreviousRelease(knex: Knex): Promise<void> {
  for (const change of [...CHANGES].reverse()) for (const sql of change.rollback) await knex.raw(sql);
  await knex.raw(`drop table if exists ${STATE_TABLE}`);
}

/** Measures the upgrade of the loaded etl target at `url` (it is changed: upgraded again at the end). */
export async function measureBackfill(url: string): Promise<BackfillBench> {
  const knex = createKnex({ client: 'pg', connection: url, pool: { min: 0, max: 4 } });
  try {
    await asPreviousRelease(knex);
    await knex.raw('vacuum analyze');
    const t0 = process.hrtime.bigint();
    const reports = await evolveAll(knex, {}, silentLogger);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const changes = reports.map((r) => {
      const rows = r.backfilled.reduce((n, b) => n + b.rows, 0);
      const s = r.backfilled.reduce((n, b) => n + b.seconds, 0);
      return { change: r.change, rows, seconds: +s.toFixed(2), rowsPerSecond: Math.round(rows / Math.max(s, 1e-3)) };
    });
    const failed = reports.flatMap((r) => r.checks.filter((c) => !c.ok).map((c) => c.detail));
    if (failed.length) throw new Error(`the upgrade's checks failed: ${failed.join('; ')}`);
    return { changes, seconds: +seconds.toFixed(2) };
  } finally {
    await knex.destroy();
  }
}
