/**
 * What a database failure means for the user. pg and knex errors carry the SQL statement (knex
 * prefixes it, bound values interpolated, to the message) and a stack; neither may reach the
 * user. Each fault becomes an EtlError with a stable code and one sentence: what happened, and
 * that the same command resumes (every batch commits its rows and checkpoint together).
 */
import { EtlError, type ErrorCode, isEtlError } from '../errors';

const RESUME = 'committed batches are kept: run the same command again';

/** Node socket errors of a connection that broke or could not be made (a restart, a cut cable). */
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN']);

/** What pg says when the socket ended under a query or the client was already broken. */
const CLOSED_MESSAGES = /Connection terminated|connection error and is not queryable|Client was closed and is not queryable|Connection ended unexpectedly/i;

/** SQLSTATEs that mean the server went away: admin_shutdown (terminated backend, fast shutdown), crash_shutdown, cannot_connect_now (starting up / shutting down). */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03']);

/** Worth re-running the whole batch transaction for: serialization_failure, deadlock_detected. */
const CONFLICTS = new Set(['40001', '40P01']);

export function sqlState(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The connection (or the server behind it) is gone: the statement's outcome is unknown, the session is lost. */
export function isConnectionLost(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return true;
  const state = sqlState(e);
  if (state !== undefined) return SERVER_GONE.has(state) || state.startsWith('08');
  if (e instanceof AggregateError) return e.errors.some(isConnectionLost);
  return e instanceof Error && CLOSED_MESSAGES.test(e.message);
}

/** Errors a retry can cure: a broken connection, a restarting server, a serialization failure or deadlock. */
export function isTransient(e: unknown): boolean {
  if (isEtlError(e)) return false;
  const state = sqlState(e);
  return (state !== undefined && CONFLICTS.has(state)) || isConnectionLost(e);
}

/**
 * PostgreSQL's own message without the statement knex put in front of it ("<sql> - <message>"):
 * what follows the last " - " is always a suffix of the server's message, so it never holds SQL
 * or bound values (a server message that itself holds " - " is only shortened).
 */
export function serverMessage(e: unknown): string {
  if (e instanceof AggregateError && !e.message) return e.errors.map(serverMessage).join('; ');
  const raw = e instanceof Error ? e.message : String(e);
  const first = raw.includes(' - ') ? raw.slice(raw.lastIndexOf(' - ') + 3) : raw;
  const line = first.split('\n')[0]!.trim() || ((e as { code?: string })?.code ?? 'unknown error');
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}

/**
 * An error as log fields: its type, code and message without the SQL knex prefixes. Logged as
 * `{ err: e }`, an error reaches the serializer already turned into a plain object by the
 * redacting formatter and prints as "[object Object]".
 */
export function errorFields(e: unknown): { errorType: string; code?: string; reason: string } {
  const code = (e as { code?: unknown } | null)?.code;
  return { errorType: e instanceof Error ? e.name : typeof e, code: typeof code === 'string' ? code : undefined, reason: serverMessage(e) };
}

function fault(code: ErrorCode, message: string, cause: unknown): EtlError {
  const err = new EtlError(code, message);
  (err as { cause?: unknown }).cause = cause;
  return err;
}

/** The connection was lost: also what the run lock's watchdog reports (src/pipeline/lock.ts). */
export function connectionLost(cause: unknown): EtlError {
  return fault(
    'DB_CONNECTION_LOST',
    `The database server closed the connection during the load (server restart, terminated session or network fault: ${serverMessage(cause)}); ${RESUME} once the server is reachable.`,
    cause,
  );
}

export function notResponding(seconds: number): EtlError {
  return fault(
    'DB_NOT_RESPONDING',
    `The database server stopped answering for ${seconds} s (a network partition or a hung server; ETL_NETWORK_TIMEOUT sets this bound), so etl dropped its connections; ${RESUME} once the server is reachable.`,
    undefined,
  );
}

/** Any error from a database call, as the user should read it; EtlErrors pass through, non-database errors give undefined. */
export function databaseFault(e: unknown): EtlError | undefined {
  if (isEtlError(e)) return e;
  if (isConnectionLost(e)) return connectionLost(e);
  const state = sqlState(e);
  if (state === undefined) return undefined;
  const pgMessage = `PostgreSQL: ${serverMessage(e)}`;
  if (state === '53100') {
    return fault('DB_DISK_FULL', `The database ran out of disk space (${pgMessage}); free space on the database server, then run the same command again: committed batches are kept.`, e);
  }
  if (state === '57014') {
    return fault(
      'DB_STATEMENT_TIMEOUT',
      `A statement was cancelled by the database's statement_timeout (${pgMessage}); raise it for etl's role or database (ALTER DATABASE … SET statement_timeout = 0) or lower --batch-size, then run the same command again: committed batches are kept.`,
      e,
    );
  }
  if (state === '55P03') {
    return fault(
      'DB_LOCK_TIMEOUT',
      `A table etl writes stayed locked by another session longer than the database's lock_timeout (${pgMessage}); let that session finish (or raise lock_timeout), then run the same command again: committed batches are kept.`,
      e,
    );
  }
  if (state.startsWith('53')) {
    return fault('DB_RESOURCES', `The database server ran out of a resource (${pgMessage}, SQLSTATE ${state}); fix the server, then run the same command again: committed batches are kept.`, e);
  }
  if (CONFLICTS.has(state)) {
    return fault('DB_ERROR', `A batch kept conflicting with another session and was retried until giving up (${pgMessage}); run the same command again: committed batches are kept.`, e);
  }
  return fault('DB_ERROR', `The database refused a statement (${pgMessage}, SQLSTATE ${state}); fix the cause, then run the same command again: committed batches are kept.`, e);
}
