import os from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * bcrypt on a pool of worker threads, one per core. The bcrypt package's async API already runs
 * off the event loop, but on libuv's thread pool (4 threads by default, whatever the cores), which
 * the process shares with every fs read of the source file, DNS lookups and crypto.pbkdf2: a
 * burst of 0.25 s hashes queues the reader behind them. Here each worker runs `hashSync` on its
 * own thread (the async API inside a worker would go back to the shared pool), so hashing
 * scales with the cores and leaves libuv's pool to I/O.
 *
 * The worker is source text (`eval`), so the same code runs from dist/ and from the TypeScript
 * sources under jest; bcrypt is loaded by its resolved path, whatever the working directory.
 */
const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const bcrypt = require(workerData.bcrypt);
parentPort.on('message', ({ plaintext, cost }) => {
  try {
    parentPort.postMessage({ hash: bcrypt.hashSync(plaintext, cost) });
  } catch (e) {
    parentPort.postMessage({ error: e instanceof Error ? e.message : String(e) });
  }
});`;

interface Job {
  plaintext: string;
  cost: number;
  resolve(hash: string): void;
  reject(e: Error): void;
}

interface Slot {
  worker: Worker;
  job: Job | null;
}

export class BcryptPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];

  constructor(readonly size: number) {}

  hash(plaintext: string, cost: number): Promise<string> {
    return new Promise((resolve, reject) => {
      this.queue.push({ plaintext, cost, resolve, reject });
      this.dispatch();
    });
  }

  /** Stops the workers; hashes not yet done fail. The pool starts again on the next hash. */
  async close(): Promise<void> {
    const closed = new Error('the bcrypt pool was closed');
    const slots = this.slots.splice(0);
    for (const job of [...slots.flatMap((s) => (s.job ? [s.job] : [])), ...this.queue.splice(0)]) job.reject(closed);
    for (const s of slots) s.job = null;
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length) {
      const slot = this.slots.find((s) => !s.job) ?? (this.slots.length < this.size ? this.spawn() : undefined);
      if (!slot) return;
      slot.job = this.queue.shift()!;
      // A busy worker keeps the process alive until its hash is back; an idle one does not.
      slot.worker.ref();
      slot.worker.postMessage({ plaintext: slot.job.plaintext, cost: slot.job.cost });
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER, { eval: true, workerData: { bcrypt: require.resolve('bcrypt') } });
    const slot: Slot = { worker, job: null };
    worker.unref();
    const settle = (): Job => {
      const job = slot.job!;
      slot.job = null;
      worker.unref();
      return job;
    };
    worker.on('message', (m: { hash?: string; error?: string }) => {
      if (!slot.job) return; // the pool was closed meanwhile
      const job = settle();
      if (m.hash !== undefined) job.resolve(m.hash);
      else job.reject(new Error(`bcrypt failed: ${m.error}`));
      this.dispatch();
    });
    // A worker that dies takes only its own hash with it; the next hash starts a new worker.
    const lost = (e: Error): void => {
      const at = this.slots.indexOf(slot);
      if (at < 0) return;
      this.slots.splice(at, 1);
      if (slot.job) settle().reject(e);
      this.dispatch();
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`a bcrypt worker thread exited (code ${code})`)));
    this.slots.push(slot);
    return slot;
  }
}

/** The process's pool, sized to the cores. */
export const bcryptPool = new BcryptPool(Math.max(1, os.availableParallelism()));
