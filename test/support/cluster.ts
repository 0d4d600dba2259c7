/**
 * A throwaway PostgreSQL cluster of its own, for fault tests that restart the server or fill its
 * disk (the shared test server must not be touched). Debian's binaries (/usr/lib/postgresql/15/bin,
 * or PG_BIN); as root the server runs as the `postgres` user, as .ci/run does.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const exec = promisify(execFile);
export const IS_ROOT = process.getuid?.() === 0;
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';

export interface Cluster {
  port: number;
  /** Folder owned by the server's OS user (for tablespaces and mounts). */
  dir: string;
  url(db?: string): string;
  /** Runs SQL as the superuser on `db` (default postgres). */
  sql(text: string, db?: string): Promise<Record<string, unknown>[]>;
  /** `pg_ctl restart -m fast`: every session is terminated, the server is back when this resolves. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a command as the server's OS user (PostgreSQL refuses to run as root). */
export function asServerUser(cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  return IS_ROOT ? exec('runuser', ['-u', 'postgres', '--', cmd, ...args]) : exec(cmd, args);
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startCluster(): Promise<Cluster> {
  if (!fs.existsSync(path.join(PG_BIN, 'initdb'))) {
    throw new Error(`fault tests need PostgreSQL's server binaries: ${PG_BIN}/initdb is missing (install postgresql-15, as .ci/run does, or set PG_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(IS_ROOT ? '/tmp' : os.tmpdir(), 'etl-fault-pg-'));
  if (IS_ROOT) await exec('chown', ['postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  const port = await freePort();
  const pgCtl = path.join(PG_BIN, 'pg_ctl');
  await asServerUser(path.join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'etl', '--encoding=UTF8', '--locale=C', '--no-sync']);
  // fsync off: these clusters are thrown away; a crash test here is about connections, not durability.
  const log = ['-l', path.join(dir, 'server.log')]; // without it the server keeps our pipes open and exec never returns
  await asServerUser(pgCtl, ['-D', data, ...log, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-w', 'start']);
  const url = (db = 'postgres') => `postgres://etl@127.0.0.1:${port}/${db}`;
  return {
    port,
    dir,
    url,
    async sql(text, db) {
      const c = new Client({ connectionString: url(db), connectionTimeoutMillis: 10_000 });
      c.on('error', () => undefined);
      await c.connect();
      try {
        return (await c.query(text)).rows;
      } finally {
        await c.end().catch(() => undefined);
      }
    },
    async restart() {
      await asServerUser(pgCtl, ['-D', data, ...log, '-m', 'fast', '-w', 'restart']);
    },
    async stop() {
      await asServerUser(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
