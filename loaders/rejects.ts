import type { Knex } from 'knex';
import type { Locator } from '../extractors/types';
import { uuidv5 } from '../src/normalize/ids';
import { repairDeep } from '../src/normalize/text';
import { redactRecord } from '../src/secrets/redact';

/** A record that did not become a row of its own (rejected or merged), or a row etl had to infer. */
export interface RejectEntry {
  stream: string;
  outcome: 'rejected' | 'merged' | 'inferred' | 'repaired' | 'disappeared';
  locator: Locator;
  reasonCode: string;
  message: string;
  mergedInto?: string;
  record: unknown;
}

const CHUNK = 500;

/** Deterministic ids make a replayed batch write the same entries again, not new ones. */
export async function writeRejects(trx: Knex.Transaction, runId: string, fingerprint: string, entries: readonly RejectEntry[]): Promise<void> {
  for (let i = 0; i < entries.length; i += CHUNK) {
    const rows = entries.slice(i, i + CHUNK).map((e) => ({
      id: uuidv5(`${fingerprint}|${e.stream}|${e.locator.file}|${e.locator.table}|${e.locator.id}|${e.outcome}|${e.reasonCode}`),
      run_id: runId,
      stream: e.stream,
      outcome: e.outcome,
      locator: JSON.stringify(e.locator),
      reason_code: e.reasonCode,
      message: e.message,
      merged_into: e.mergedInto ?? null,
      // jsonb cannot hold U+0000 or lone surrogates either
      record: JSON.stringify(repairDeep(redactRecord(e.record)).value),
    }));
    await trx('etl_rejects').insert(rows).onConflict('id').ignore();
  }
}
