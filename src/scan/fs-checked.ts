/** File-system calls on user-given paths whose failures (ENOENT, ELOOP, EACCES…) become one-sentence EtlErrors. */
import { promises as fs, type Stats } from 'node:fs';
import { fsError } from './source-errors';

export async function statPath(p: string): Promise<Stats> {
  try {
    return await fs.stat(p);
  } catch (e) {
    throw fsError(p, e);
  }
}

export async function listDir(p: string): Promise<string[]> {
  try {
    return await fs.readdir(p);
  } catch (e) {
    throw fsError(p, e);
  }
}
