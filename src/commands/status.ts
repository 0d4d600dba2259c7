import { openTarget } from '../db/connect';
import type { Logger } from '../log';
import { formatTable } from '../pipeline/report';
import { assertSchema, readOnly } from '../verify/verify';

export interface StatusReport {
  runs: {
    id: string;
    pipeline: string;
    tenant: string;
    state: string;
    attempts: number;
    fingerprint: string;
    sources: { path: string; sha256: string; size: number }[];
    started_at: string;
    finished_at: string | null;
    error: string | null;
    tables: { table: string; read: number; loaded: number; merged: number; rejected: number }[];
  }[];
  checkpoints: { run: string; pipeline: string; tenant: string; stream: string; position: number; done: boolean; rows: number; updated_at: string }[];
  rejects: { run: string; stream: string; outcome: string; count: number }[];
}

const n = (v: unknown) => Number(v ?? 0);

/** Runs, checkpoints and reject counts of a target; reads only. */
async function readStatus(o: { database?: string }, log: Logger): Promise<StatusReport> {
  const target = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, existingOnly: true });
  try {
    await assertSchema(target.knex);
    return await readOnly(target.knex, async (trx) => {
      const runs = await trx('etl_runs').orderBy([{ column: 'started_at' }, { column: 'id' }]).select('*');
      const checkpoints = await trx('etl_checkpoints').orderBy([{ column: 'updated_at' }, { column: 'stream' }]).select('*');
      const rejects = await trx('etl_rejects').select('run_id', 'stream', 'outcome').count<{ run_id: string; stream: string; outcome: string; count: string }[]>('* as count').groupBy('run_id', 'stream', 'outcome').orderBy(['run_id', 'stream', 'outcome']);
      return {
        runs: runs.map((r) => {
          // Finished (or failed) runs carry their per-table summary; a running or killed one has only its checkpoints.
          const fromSummary = (r.summary?.tables ?? null) as Record<string, unknown>[] | null;
          const tables = fromSummary
            ? fromSummary.map((t) => ({ table: String(t.table), read: n(t.read), loaded: n(t.loaded), merged: n(t.merged), rejected: n(t.rejected) }))
            : checkpoints.filter((c) => c.run_id === r.id).map((c) => ({ table: `${c.stream} (stream)`, read: n(c.counts.read), loaded: n(c.counts.loaded), merged: n(c.counts.merged), rejected: n(c.counts.rejected) }));
          return { id: r.id, pipeline: r.pipeline, tenant: r.tenant, state: r.state, attempts: r.attempts, fingerprint: r.fingerprint, sources: r.sources, started_at: r.started_at, finished_at: r.finished_at, error: r.error, tables };
        }),
        checkpoints: checkpoints.map((c) => ({ run: c.run_id, pipeline: c.pipeline, tenant: c.tenant, stream: c.stream, position: n(c.position), done: c.done, rows: n(c.counts.loaded), updated_at: c.updated_at })),
        rejects: rejects.map((r) => ({ run: r.run_id, stream: r.stream, outcome: r.outcome, count: n(r.count) })),
      };
    });
  } finally {
    await target.close();
  }
}

function formatStatus(s: StatusReport): string {
  const out: string[] = [];
  if (s.runs.length === 0) out.push('no runs recorded in this target');
  for (const r of s.runs) {
    out.push(`run ${r.id}  ${r.pipeline}  tenant ${r.tenant}  ${r.state}${r.attempts > 1 ? ` (${r.attempts} attempts)` : ''}`);
    out.push(`  started ${r.started_at}, finished ${r.finished_at ?? '-'}`);
    for (const src of r.sources) out.push(`  source ${src.path} (sha256 ${src.sha256}, ${src.size} bytes)`);
    out.push(`  fingerprint ${r.fingerprint}`);
    if (r.error) out.push(`  error: ${r.error}`);
    if (r.tables.length) out.push(...formatTable(['table', 'read', 'loaded', 'merged', 'rejected'], r.tables.map((t) => [t.table, String(t.read), String(t.loaded), String(t.merged), String(t.rejected)])).map((l) => `  ${l}`));
    out.push('');
  }
  if (s.checkpoints.length) {
    out.push('checkpoints');
    out.push(...formatTable(['stream', 'run', 'position', 'rows', 'done'], s.checkpoints.map((c) => [c.stream, c.run, String(c.position), String(c.rows), c.done ? 'yes' : 'no'])));
    out.push('');
  }
  out.push('rejects (etl rejects --run ID exports them as NDJSON)');
  out.push(...formatTable(['stream', 'run', 'outcome', 'count'], s.rejects.map((r) => [r.stream, r.run, r.outcome, String(r.count)])));
  return out.join('\n');
}

export async function statusCommand(o: { database?: string; json: boolean }, log: Logger): Promise<number> {
  const s = await readStatus(o, log);
  process.stdout.write(o.json ? JSON.stringify(s, null, 2) + '\n' : formatStatus(s) + '\n');
  return 0;
}
