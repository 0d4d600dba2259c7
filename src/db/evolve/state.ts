/**
 * The bookkeeping of expand/backfill/contract: one row per change and step (`expand`,
 * `backfill:<name>`, `checks`, `contract`) in `etl_evolve`, next to etl's other bookkeeping. A
 * backfill batch updates its row in the batch's own transaction: position and data never disagree.
 */
import type { Knex } from 'knex';

export const STATE_TABLE = 'etl_evolve';

export type StepState = 'running' | 'done' | 'failed';

export interface StepRow {
  change: string;
  step: string;
  state: StepState;
  /** Backfill: the next block to sweep (a position in the table), and rows filled so far. */
  position: number;
  end_position: number | null;
  rows: number;
  inferred: number;
  detail: Record<string, unknown>;
  updated_at: string;
}

export async function ensureStateTable(knex: Knex): Promise<void> {
  await knex.raw(`create table if not exists ${STATE_TABLE} (
    change text not null,
    step text not null,
    state text not null check (state in ('running', 'done', 'failed')),
    position bigint not null default 0,
    end_position bigint,
    rows bigint not null default 0,
    inferred bigint not null default 0,
    detail jsonb not null default '{}',
    updated_at timestamptz not null default now(),
    primary key (change, step))`);
}

export async function stateTableExists(knex: Knex): Promise<boolean> {
  return (await knex.raw('select to_regclass(?) as t', [STATE_TABLE])).rows[0].t !== null;
}

export async function readSteps(knex: Knex, change?: string): Promise<StepRow[]> {
  if (!(await stateTableExists(knex))) return [];
  const rows: StepRow[] = (await knex.raw(`select * from ${STATE_TABLE} ${change ? 'where change = ?' : ''} order by change, updated_at`, change ? [change] : [])).rows;
  return rows.map((r) => ({ ...r, position: Number(r.position), end_position: r.end_position === null ? null : Number(r.end_position), rows: Number(r.rows), inferred: Number(r.inferred) }));
}

export async function stepState(knex: Knex, change: string, step: string): Promise<StepRow | undefined> {
  return (await readSteps(knex, change)).find((r) => r.step === step);
}

export async function setStep(knex: Knex, change: string, step: string, state: StepState, fields: Partial<Pick<StepRow, 'position' | 'end_position' | 'rows' | 'inferred' | 'detail'>> = {}): Promise<void> {
  const { detail, ...figures } = fields;
  const row = { change, step, state, ...figures, ...(detail && { detail: JSON.stringify(detail) }), updated_at: knex.fn.now() };
  await knex(STATE_TABLE).insert(row).onConflict(['change', 'step']).merge();
}

export async function forgetChange(knex: Knex, change: string): Promise<void> {
  await knex(STATE_TABLE).where({ change }).delete();
}
