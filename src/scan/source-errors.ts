/** The errors about a source file (TinyDB's first, any file's fsError), each saying what is wrong and what to do. */
import { EtlError } from '../errors';

const EXPECTS = 'etl expects {table: {doc_id: document}}';
const RESTORE = 'restore the file from a backup or re-export it from the legacy app';

export function q(s: string): string {
  return JSON.stringify(s.length > 200 ? s.slice(0, 200) + '…' : s);
}

export function corrupt(path: string, offset: number, reason: string): EtlError {
  return new EtlError('SOURCE_CORRUPT', `${path} is truncated or corrupt at byte ${offset} (${reason}); ${RESTORE}.`);
}

export function notTinyDb(path: string, offset: number, what: string): EtlError {
  return new EtlError('SOURCE_NOT_TINYDB', `${path} is not a TinyDB database: ${what} (byte ${offset}); ${EXPECTS}.`);
}

export function changed(path: string, detail: string): EtlError {
  return new EtlError(
    'SOURCE_CHANGED',
    `${path} changed after it was checked (${detail}); stop the legacy app so the file stays still, then run the same command again.`,
  );
}

export function fsError(path: string, e: unknown): EtlError {
  if (e instanceof EtlError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new EtlError('SOURCE_NOT_FOUND', `${path} does not exist. Check the path and run again.`);
  }
  if (code === 'EISDIR') {
    return new EtlError('SOURCE_UNREADABLE', `${path} is a directory, not a file; pass the path of the source file itself.`);
  }
  if (code === 'ELOOP') {
    return new EtlError('SOURCE_UNREADABLE', `${path} is a symbolic link that leads back to itself (a loop); point the path at the real file and run again.`);
  }
  if (code === 'ENAMETOOLONG') {
    return new EtlError('SOURCE_NOT_FOUND', `${path} is too long a path; check the path and run again.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (permission denied); give this user read access to it and run again.`);
  }
  const what = code ?? (e instanceof Error ? e.message : String(e));
  return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (${what}); check the file and run again.`);
}

/** A directory given where a file is expected (stat said so; no EISDIR was raised). */
export function isDirectory(path: string): EtlError {
  return fsError(path, Object.assign(new Error('EISDIR'), { code: 'EISDIR' }));
}

export function duplicateId(path: string, table: string, id: string, first: number, second: number): EtlError {
  return new EtlError(
    'SOURCE_CORRUPT',
    `${path} has document id ${q(id)} twice in table ${q(table)} (at bytes ${first} and ${second}); etl will not silently keep only one of them, so remove or renumber one and run again.`,
  );
}

export function notUtf8(path: string, offset: number): EtlError {
  return new EtlError(
    'SOURCE_CORRUPT',
    `${path} is not valid UTF-8 at byte ${offset}; if the legacy app wrote it in another encoding (TinyDB uses the system locale's encoding when ensure_ascii is off), convert it to UTF-8 first (e.g. iconv -f cp1254 -t utf-8), otherwise ${RESTORE}.`,
  );
}
