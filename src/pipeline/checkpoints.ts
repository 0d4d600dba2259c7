import type { Knex } from 'knex';
import { emptyCounts, type StreamCounts } from './counts';

export interface CheckpointKey {
  pipeline: string;
  tenant: string;
  fingerprint: string;
  stream: string;
}

export interface Checkpoint {
  position: number;
  done: boolean;
  counts: StreamCounts;
}

export async function loadCheckpoint(knex: Knex, key: CheckpointKey): Promise<Checkpoint> {
  const row = await knex('etl_checkpoints').where(key).first();
  if (!row) return { position: 0, done: false, counts: emptyCounts() };
  return { position: Number(row.position), done: row.done, counts: { ...emptyCounts(), ...row.counts } };
}

/** Written in the batch's own transaction: data and checkpoint can never be out of step. */
export async function saveCheckpoint(trx: Knex.Transaction, key: CheckpointKey, runId: string, cp: Checkpoint): Promise<void> {
  await trx('etl_checkpoints')
    .insert({ ...key, run_id: runId, position: cp.position, done: cp.done, counts: JSON.stringify(cp.counts), updated_at: trx.fn.now() })
    .onConflict(['pipeline', 'tenant', 'fingerprint', 'stream'])
    .merge(['run_id', 'position', 'done', 'counts', 'updated_at']);
}

export async function clearCheckpoints(knex: Knex, key: Omit<CheckpointKey, 'stream'>): Promise<void> {
  await knex('etl_checkpoints').where(key).delete();
}
