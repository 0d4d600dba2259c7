/**
 * Expected failures carry a stable code and a message written for the user; the CLI prints the
 * message (no stack) and maps the code's class to an exit code.
 */
export type ErrorCode =
  | 'USAGE'
  | 'SOURCE_NOT_FOUND'
  | 'SOURCE_UNREADABLE'
  | 'SOURCE_CORRUPT'
  | 'SOURCE_NOT_TINYDB'
  | 'SOURCE_CHANGED'
  | 'UNKNOWN_TABLE'
  | 'BAD_DATABASE_URL'
  | 'DATABASE_UNREACHABLE'
  | 'EMBEDDED_START_FAILED'
  | 'RUN_LOCKED'
  | 'RUN_FAILED'
  | 'TOO_MANY_REJECTS'
  | 'NO_SCHEMA'
  | 'TARGET_SCHEMA'
  // Database faults during a command (src/db/faults.ts): exit 1, committed batches kept, rerun resumes.
  | 'DB_CONNECTION_LOST'
  | 'DB_NOT_RESPONDING'
  | 'DB_DISK_FULL'
  | 'DB_STATEMENT_TIMEOUT'
  | 'DB_LOCK_TIMEOUT'
  | 'DB_RESOURCES'
  | 'DB_ERROR';

/** Exit code 2: bad usage or bad input, nothing written. Exit code 1: a run failed. */
const BAD_INPUT: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'USAGE',
  'SOURCE_NOT_FOUND',
  'SOURCE_UNREADABLE',
  'SOURCE_CORRUPT',
  'SOURCE_NOT_TINYDB',
  // The source changed while etl read it: bad input like a corrupt file; the same command reruns
  // on the file as it now is (committed batches of the earlier version stay, upserts correct them).
  'SOURCE_CHANGED',
  'UNKNOWN_TABLE',
  'BAD_DATABASE_URL',
  'DATABASE_UNREACHABLE',
  'EMBEDDED_START_FAILED',
  'RUN_LOCKED',
  'NO_SCHEMA',
  'TARGET_SCHEMA',
]);

export class EtlError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EtlError';
  }

  get exitCode(): 1 | 2 {
    return BAD_INPUT.has(this.code) ? 2 : 1;
  }
}

export function isEtlError(e: unknown): e is EtlError {
  return e instanceof EtlError;
}
