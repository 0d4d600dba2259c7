import os from 'node:os';
import pLimit from 'p-limit';

/** Plaintext passwords of this process: queued for hashing, and hashed so far. */
export interface HashCounts {
  queued: number;
  hashed: number;
}

const counts: HashCounts = { queued: 0, hashed: 0 };
const watchers = new Set<(c: Readonly<HashCounts>) => void>();

/**
 * As many hashes at once as cores: bcrypt's worker pool (src/secrets/bcrypt-pool.ts) has one
 * thread per core, and ChatCore's PBKDF2 runs on libuv's pool, which the source reads need too.
 */
const limit = pLimit(Math.max(1, os.availableParallelism()));

function changed(): void {
  for (const w of watchers) w(counts);
}

/**
 * Runs one password hash (the target's `hashPlaintext`) as part of the process's hashing stage,
 * which the progress display counts (at cost 12, bcrypt takes about 0.25 s a password).
 */
export function hashPassword(hash: () => Promise<string>): Promise<string> {
  counts.queued++;
  changed();
  return limit(hash).finally(() => {
    counts.hashed++;
    changed();
  });
}

/** A copy of the counts so far. */
export function hashCounts(): HashCounts {
  return { ...counts };
}

/** Calls `watch` on every change of the counts (process-wide totals); returns the unsubscribe. */
export function watchHashes(watch: (c: Readonly<HashCounts>) => void): () => void {
  watchers.add(watch);
  return () => void watchers.delete(watch);
}
