/**
 * The files next to the data directory through which concurrent etl processes share one server:
 * password, owner record, client registrations and the lock (see embedded.ts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import path from 'node:path';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { errCode, fail, USE_EXISTING } from './embedded-errors';
import { isAlive, sleep } from './embedded-processes';

const LOCK_TIMEOUT_MS = 120_000;

export interface Paths {
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

export function pathsFor(dataDir: string): Paths {
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

export function readOwner(p: Paths): OwnerRecord | undefined {
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

export function writeOwner(p: Paths, owner: OwnerRecord): void {
  const tmp = `${p.ownerFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(owner)}\n`, { mode: 0o644 });
  fs.renameSync(tmp, p.ownerFile);
}

export function removeOwner(p: Paths, token: string): void {
  if (readOwner(p)?.token === token) fs.rmSync(p.ownerFile, { force: true });
}

export function registerClient(p: Paths, token: string): void {
  fs.mkdirSync(p.clientsDir, { recursive: true });
  fs.writeFileSync(path.join(p.clientsDir, `${process.pid}-${token}`), '');
}

export function unregisterClient(p: Paths, token: string): void {
  fs.rmSync(path.join(p.clientsDir, `${process.pid}-${token}`), { force: true });
}

/** Processes still using the server; entries of dead ones are removed. */
export function liveClients(p: Paths): { pid: number; token: string }[] {
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
export async function acquireLock(p: Paths, log: Logger): Promise<() => void> {
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

export async function readOrCreatePassword(p: Paths): Promise<string> {
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
