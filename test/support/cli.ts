import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '../..');
export const ETL_BIN = path.join(ROOT, 'bin/etl.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

type RunOpts = { env?: Record<string, string | undefined>; cwd?: string };

/** Runs the built CLI (`npm test` builds dist/ first) as a user would, without a TTY. */
export function runEtl(args: string[], opts: RunOpts = {}): Promise<CliResult> {
  return runCommand(process.execPath, [ETL_BIN, ...args], opts);
}

export function runCommand(cmd: string, args: string[], opts: RunOpts = {}): Promise<CliResult> {
  return startCommand(cmd, args, opts).result;
}

/** Starts the built CLI in the background: for tests that inject a fault while it runs. */
export function startEtl(args: string[], opts: RunOpts = {}): { child: ChildProcess; result: Promise<CliResult> } {
  return startCommand(process.execPath, [ETL_BIN, ...args], opts);
}

function startCommand(cmd: string, args: string[], opts: RunOpts): { child: ChildProcess; result: Promise<CliResult> } {
  const env: Record<string, string | undefined> = { ...process.env, DATABASE_URL: undefined, ETL_LOG_LEVEL: 'warn', ...opts.env };
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  const child = spawn(cmd, args, { cwd: opts.cwd ?? ROOT, env: env as NodeJS.ProcessEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = new Promise<CliResult>((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result };
}

/** `etl args` against `databaseUrl` exits 2 with one sentence matching `message`, and no stack trace. */
export async function expectRefused(databaseUrl: string, args: string[], env: Record<string, string>, message: RegExp): Promise<void> {
  const r = await runEtl(args, { env: { DATABASE_URL: databaseUrl, ...env } });
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
  expect(r.stderr).not.toMatch(/ at .*\.js/);
}
