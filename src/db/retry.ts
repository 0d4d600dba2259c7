/**
 * Bounded retries of transient database errors (see isTransient): a few tries with doubling
 * delays, so a restarting server or a deadlock costs seconds, not the run, and a server that
 * stays down fails the command in bounded time.
 */
import { isTransient, serverMessage } from './faults';

export interface RetryOptions {
  /** What is retried, for the log line ("batch of chat_history", "connecting"). */
  what: string;
  /** Called before each new try (e.g. to log); may throw to stop retrying (a lost run lock). */
  onRetry?(attempt: number, delayMs: number, reason: string): void;
  tries?: number;
}

export const RETRY_TRIES = 5;
const FIRST_DELAY_MS = 500;
const MAX_DELAY_MS = 4000;

export async function withRetry<T>(fn: (attempt: number) => Promise<T>, opts: RetryOptions): Promise<T> {
  const tries = opts.tries ?? RETRY_TRIES;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (attempt >= tries || !isTransient(e)) throw e;
      const delay = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** (attempt - 1));
      opts.onRetry?.(attempt, delay, serverMessage(e));
      await new Promise((r) => setTimeout(r, delay));
    }
  }
}
