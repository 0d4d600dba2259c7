import { once } from 'node:events';
import type { Knex } from 'knex';
import { openTarget } from '../db/connect';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { redactRecord, redactText } from '../secrets/redact';
import { assertSchema, readOnly } from '../verify/verify';

export interface RejectsOptions {
  database?: string;
  run?: string;
  stream?: string;
  outcome?: 'rejected' | 'merged' | 'inferred' | 'repaired' | 'disappeared';
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const PAGE = 1000;
const PIPE_CLOSED = Symbol('stdout closed');

/**
 * One JSON document per line for every entry of etl_rejects, in source order: where the record is
 * (locator: file, table, doc id), what happened (outcome, reason_code, message, merged_into) and
 * the record itself with its secrets redacted. Streams through a cursor, so memory stays flat.
 */
async function exportRejects(knex: Knex, o: RejectsOptions, write: (line: string) => Promise<void> | void): Promise<number> {
  if (o.run !== undefined && !UUID.test(o.run)) throw new EtlError('USAGE', `--run expects a run id (a UUID, see \`etl status\`), got "${o.run}".`);
  await assertSchema(knex);
  return readOnly(knex, async (trx) => {
    if (o.run !== undefined && !(await trx('etl_runs').where({ id: o.run }).first())) {
      throw new EtlError('USAGE', `There is no run ${o.run} in this target; \`etl status\` lists the runs.`);
    }
    const where: string[] = [];
    const bindings: string[] = [];
    if (o.run !== undefined) {
      where.push('r.run_id = ?');
      bindings.push(o.run);
    }
    if (o.stream !== undefined) {
      where.push('r.stream = ?');
      bindings.push(o.stream);
    }
    if (o.outcome !== undefined) {
      where.push('r.outcome = ?');
      bindings.push(o.outcome);
    }
    await trx.raw(
      `declare etl_rejects_export no scroll cursor for
       select r.run_id, ru.pipeline, ru.tenant, r.stream, r.outcome, r.reason_code, r.message, r.locator, r.merged_into, r.record
       from etl_rejects r join etl_runs ru on ru.id = r.run_id
       ${where.length ? `where ${where.join(' and ')}` : ''}
       order by ru.started_at, r.run_id, r.stream, r.locator->>'file', r.locator->>'table', length(r.locator->>'id'), r.locator->>'id', r.outcome`,
      bindings,
    );
    let n = 0;
    for (;;) {
      const res = await trx.raw(`fetch ${PAGE} from etl_rejects_export`);
      for (const row of res.rows) {
        // Redacted again on the way out: entries written by an older etl may hold secrets it did not know.
        await write(JSON.stringify({ ...row, record: redactRecord(row.record), message: typeof row.message === 'string' ? redactText(row.message) : row.message }) + '\n');
        n++;
      }
      if (res.rows.length < PAGE) return n;
    }
  });
}

export async function rejectsCommand(o: RejectsOptions, log: Logger): Promise<number> {
  const target = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, existingOnly: true });
  // A reader that stops early (`etl rejects | head`) closes the pipe: stop exporting, quietly.
  let closed = false;
  const onError = (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') closed = true;
  };
  process.stdout.on('error', onError);
  try {
    const n = await exportRejects(target.knex, o, async (line) => {
      if (closed) throw PIPE_CLOSED;
      if (!process.stdout.write(line)) await once(process.stdout, 'drain').catch(() => undefined); // rejects on EPIPE: `closed` is then set
    }).catch((e) => {
      if (e === PIPE_CLOSED) return -1;
      throw e;
    });
    if (n >= 0) log.info({ entries: n }, 'rejects exported');
    return 0;
  } finally {
    process.stdout.off('error', onError);
    await target.close();
  }
}
