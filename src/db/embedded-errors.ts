/** The one error embedded PostgreSQL failures surface as, and helpers for its messages. */
import { EtlError } from '../errors';

export const USE_EXISTING = 'or set DATABASE_URL to use an existing PostgreSQL server';

export function fail(message: string): never {
  throw new EtlError('EMBEDDED_START_FAILED', message);
}

export function errCode(e: unknown): string | undefined {
  return (e as { code?: string } | null)?.code;
}

export function reasonOf(e: unknown): string {
  if (e instanceof AggregateError && !e.message) return e.errors.map((x) => reasonOf(x)).join('; ');
  if (e instanceof Error) return e.message || errCode(e) || e.name;
  return String(e ?? 'unknown error');
}

export function firstLine(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
