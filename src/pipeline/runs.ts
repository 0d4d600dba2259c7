import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { SourceFile } from '../../extractors/types';

/** The pipeline name of the run that records a rollback (`etl rollback`). */
export const ROLLBACK_PIPELINE = 'rollback';

export type RunState = 'running' | 'failed' | 'done' | 'rolled_back';

export interface RunRecord {
  id: string;
  pipeline: string;
  tenant: string;
  fingerprint: string;
  state: RunState;
  attempts: number;
  started_at: string;
  finished_at: string | null;
  summary: unknown;
}

export interface RunKey {
  pipeline: string;
  tenant: string;
  fingerprint: string;
}

export async function latestRun(knex: Knex, key: RunKey): Promise<RunRecord | undefined> {
  // A rolled-back run left nothing behind: the source is loaded afresh.
  return knex('etl_runs').where(key).whereNot('state', 'rolled_back').orderBy('started_at', 'desc').first();
}

export async function startRun(knex: Knex, key: RunKey, sources: SourceFile[], options: Record<string, unknown>): Promise<string> {
  const id = randomUUID();
  await knex('etl_runs').insert({ id, ...key, sources: JSON.stringify(sources), state: 'running', options: JSON.stringify(options) });
  return id;
}

export async function resumeRun(knex: Knex, id: string): Promise<void> {
  await knex('etl_runs').where({ id }).update({ state: 'running', attempts: knex.raw('attempts + 1'), error: null, finished_at: null });
}

export async function finishRun(knex: Knex, id: string, state: 'done' | 'failed', summary: unknown, error?: string): Promise<void> {
  await knex('etl_runs')
    .where({ id })
    .update({ state, summary: JSON.stringify(summary), error: error ?? null, finished_at: knex.fn.now() });
}
