import { spawn } from 'node:child_process';
import type { Knex } from 'knex';
import { ETL_BIN, runEtl } from './cli';

export interface Interruption {
  /** `etl` arguments, e.g. ['run', 'tinydb', file]. */
  args: string[];
  env: Record<string, string>;
  /** The stream whose committed position is watched; all streams together when absent. */
  stream?: string;
  /** Interrupt once `stream` has committed this many records; 0: once the run is recorded, before its first batch. */
  rows: number;
  /** Instead of `rows`: interrupt once this query (`select … as n`) returns n > 0. */
  query?: string;
  signal?: NodeJS.Signals;
}

/** Starts `etl` and sends it a signal (SIGKILL by default) at the point `at` describes; resolves when it has exited. */
export async function interruptRun(knex: Knex, at: Interruption): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [ETL_BIN, ...at.args], { env: { ...process.env, ETL_LOG_LEVEL: 'warn', ...at.env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  let exit: number | null | undefined;
  void exited.then((code) => (exit = code));
  for (;;) {
    if (exit !== undefined) throw new Error(`the run ended (exit ${exit}) before ${at.rows} records of ${at.stream ?? 'its streams'} were committed; make the generated input bigger. Its stderr: ${stderr.slice(-2000)}`);
    const sql =
      at.query ??
      (at.rows === 0
        ? "select count(*)::int as n from etl_runs where state = 'running'"
        : `select coalesce(sum(position), 0)::int as n from etl_checkpoints${at.stream === undefined ? '' : ' where stream = ?'}`);
    const n = await knex
      .raw(sql, at.query || at.rows === 0 || at.stream === undefined ? [] : [at.stream])
      .then((r) => r.rows[0].n as number)
      .catch(() => -1);
    if (at.query || at.rows === 0 ? n > 0 : n >= at.rows) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  child.kill(at.signal ?? 'SIGKILL');
  return { code: await exited, stderr };
}

/** A run report's per-table figures without the timings, to compare two runs. */
export function figures(report: { tables: Record<string, unknown>[] }): Record<string, unknown>[] {
  return report.tables.map(({ seconds: _s, ...rest }) => rest);
}

/**
 * The kill -9 scenario of the application targets: `args` once into `clean`; into `killed`, a kill
 * at each of `kills` in turn (the run stays recorded as running), then the same command, which
 * resumes; verify holds on `killed`. The caller compares the two databases' app rows.
 */
export async function killThenResume(clean: { url: string }, killed: { url: string; knex: Knex }, args: string[], kills: readonly Omit<Interruption, 'args' | 'env'>[]): Promise<void> {
  expect((await runEtl(args, { env: { DATABASE_URL: clean.url } })).code).toBe(0);
  const env = { DATABASE_URL: killed.url };
  for (const at of kills) await interruptRun(killed.knex, { ...at, args, env });
  expect((await killed.knex.raw('select state from etl.etl_runs')).rows).toEqual([{ state: 'running' }]);
  const resumed = await runEtl([...args, '--json'], { env });
  expect(resumed.code).toBe(0);
  expect(JSON.parse(resumed.stdout).mode).toBe('resumed');
  expect((await runEtl(['verify'], { env })).code).toBe(0);
}
