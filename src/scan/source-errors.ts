/** The errors about a TinyDB source file, each saying what is wrong and what to do. */
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
    'RUN_FAILED',
    `${path} changed after it was checked (${detail}); stop the legacy app so the file stays still, then run again.`,
  );
}

export function fsError(path: string, e: unknown): EtlError {
  if (e instanceof EtlError) return e;
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new EtlError('SOURCE_NOT_FOUND', `${path} does not exist. Check the path and run again.`);
  }
  if (code === 'EISDIR') {
    return new EtlError('SOURCE_UNREADABLE', `${path} is a directory, not a TinyDB file; pass the path of the database's .json file.`);
  }
  if (code === 'EACCES' || code === 'EPERM') {
    return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (permission denied); give this user read access to it and run again.`);
  }
  const what = code ?? (e instanceof Error ? e.message : String(e));
  return new EtlError('SOURCE_UNREADABLE', `${path} cannot be read (${what}); check the file and run again.`);
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
