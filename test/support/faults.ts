/** Shared checks of the fault tests: what the user sees after a fault, and that a rerun ends like one clean run. */
import type { Knex } from 'knex';
import { type CliResult, runEtl } from './cli';
import { dataChecksums } from './pipeline';

/** Polls `probe` every 10 ms until it is true; fails (rather than hang) once `running` turns false. */
export async function waitUntil(probe: () => Promise<boolean>, what: string, running: () => boolean = () => true): Promise<void> {
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (!running()) throw new Error(`etl exited before ${what}; make the generated input bigger`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Runs `sql` (which must return a column `n`) until n > 0: e.g. terminate a backend once it is busy with COPY. */
export function untilRows(knex: Knex, sql: string, bindings: readonly Knex.Value[], what: string, running?: () => boolean): Promise<void> {
  return waitUntil(async () => Number((await knex.raw(sql, bindings)).rows[0]?.n ?? 0) > 0, what, running);
}

/** Active COPY (a batch being staged) of etl into `db`. */
export const ACTIVE_COPY = "from pg_stat_activity where datname = ? and state = 'active' and query ilike 'copy %' and pid <> pg_backend_pid()";

/**
 * The user-facing contract of a fault: exit 1, one `etl: …` sentence matching `sentence` on
 * stderr, no stack trace, no SQL, no "[object Object]" anywhere in the output.
 */
export function expectFaultReport(r: CliResult, sentence: RegExp): void {
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('etl: '));
  expect({ code: r.code, lines }).toEqual({ code: 1, lines: [expect.stringMatching(sentence)] });
  expect(lines[0]).toMatch(/run the same command again/);
  expect(r.stderr).not.toMatch(/\n\s+at |\binsert into\b|\bcopy "?\w+"? \(|\bselect\b.*\bfrom\b/i);
  expect(r.stderr + r.stdout).not.toContain('[object Object]');
}

/** After the fault: the same command completes, and the target equals a clean load (data columns, verify). */
export async function expectRerunMatchesClean(args: string[], db: { url: string; knex: Knex }, clean: Knex, env: Record<string, string> = {}): Promise<CliResult> {
  const rerun = await runEtl(args, { env: { ...env, DATABASE_URL: db.url } });
  expect({ code: rerun.code, stderr: rerun.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  expect(await dataChecksums(db.knex)).toEqual(await dataChecksums(clean));
  const verify = await runEtl(['verify'], { env: { ...env, DATABASE_URL: db.url } });
  expect({ code: verify.code, out: verify.stdout.slice(-2000) }).toEqual({ code: 0, out: expect.any(String) });
  return rerun;
}
