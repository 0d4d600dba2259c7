import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { EtlError, type ErrorCode } from '../errors';
import type { PatchCounts } from './json-text';
import { checkDoc } from './parse-doc';

/** Documents of one table, their bytes end to end, as sent to the checking thread. */
export interface CheckBatch {
  path: string;
  table: string;
  bytes: ArrayBuffer;
  ids: string[];
  /** Where each document's bytes end in `bytes` (each starts where the previous one ends; the rest is unused). */
  ends: number[];
  offsets: number[];
  flags: number[];
  keys: number[];
}

export type CheckReply = { checked: true } | { error: { code: ErrorCode | null; message: string } } | { counts: PatchCounts };

/** Bytes of documents per message, and messages in flight before the scanner waits. */
const BATCH_BYTES = 1 << 20;
const IN_FLIGHT = 4;
/** A file smaller than this is checked on the scanner's thread: starting a thread would cost more than it saves. */
const THREAD_FROM = 4 * BATCH_BYTES;

/** The compiled worker module; under jest (TypeScript sources) the build's copy, which `npm test` makes first. */
const WORKER = __filename.endsWith('.ts') ? path.resolve(__dirname, '../../dist/src/scan/doc-check-worker.js') : path.join(__dirname, 'doc-check-worker.js');

/**
 * JSON.parse of every document, and the key-twice check, on a worker thread while the preflight's
 * scanner goes on with the next chunk: on two cores the preflight takes about the time of the scan
 * alone. The documents are checked in file order and the first bad one is reported, exactly as a
 * check on the scanner's thread would: a problem the scanner finds later in the file gives way to
 * it (`settle`). A small file is checked on the scanner's thread, each document as it is found.
 */
export class DocChecker {
  private readonly worker: Worker | null = null;
  private readonly inline: PatchCounts = { nonFinite: 0, bigInts: 0 };
  /** The batch being filled; its memory is handed to the thread whole when sent. */
  private batch = Buffer.alloc(0);
  private used = 0;
  private meta: Omit<CheckBatch, 'path' | 'bytes'> | null = null;
  private inFlight = 0;
  private failure: EtlError | Error | null = null;
  private counts: PatchCounts | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly file: string,
    size: number,
  ) {
    if (size < THREAD_FROM) return;
    this.batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    // A small young generation: the thread's garbage is short-lived parse results.
    this.worker = new Worker(WORKER, { resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker.on('message', (m: CheckReply) => {
      if ('counts' in m) this.counts = m.counts;
      else {
        this.inFlight--;
        if ('error' in m) this.failure ??= m.error.code ? new EtlError(m.error.code, m.error.message) : new Error(m.error.message);
      }
      this.notify();
    });
    const lost = (e: Error): void => {
      this.failure ??= e;
      this.notify();
    };
    this.worker.on('error', lost);
    this.worker.on('exit', (code) => lost(new Error(`the document check thread stopped (code ${code})`)));
  }

  add(table: string, id: string, buf: Buffer, a: number, b: number, offset: number, flags: number, keys: number): void {
    if (!this.worker) return checkDoc(this.file, table, id, buf, a, b, offset, flags, keys, this.inline);
    if (this.meta && this.meta.table !== table) this.send();
    const n = b - a;
    if (this.used + n > this.batch.length) {
      if (this.used > 0) this.send();
      if (n > this.batch.length) this.batch = Buffer.allocUnsafeSlow(n);
    }
    buf.copy(this.batch, this.used, a, b);
    this.used += n;
    const m = (this.meta ??= { table, ids: [], ends: [], offsets: [], flags: [], keys: [] });
    m.ids.push(id);
    m.ends.push(this.used);
    m.offsets.push(offset);
    m.flags.push(flags);
    m.keys.push(keys);
  }

  /** Waits while the checking thread is behind: memory stays at a few batches. */
  async keepUp(): Promise<void> {
    while (this.inFlight >= IN_FLIGHT && !this.failure) await this.next();
  }

  /** After the whole file: the counts of the checks, or the first bad document's error. */
  async finish(): Promise<PatchCounts> {
    if (!this.worker) return this.inline;
    await this.settled();
    if (this.failure) throw this.failure;
    this.worker.postMessage('end');
    while (!this.counts && !this.failure) await this.next();
    if (this.failure) throw this.failure;
    return this.counts!;
  }

  /** When the scanner fails: the error of a bad document before that point wins, as it comes first in the file (a thread that died does not). */
  async settle(scanError: unknown): Promise<unknown> {
    await this.settled();
    return this.failure instanceof EtlError ? this.failure : scanError;
  }

  async close(): Promise<void> {
    this.worker?.removeAllListeners('exit');
    await this.worker?.terminate();
  }

  private async settled(): Promise<void> {
    if (!this.worker) return;
    if (this.used > 0) this.send();
    while (this.inFlight > 0 && !this.failure) await this.next();
  }

  private send(): void {
    // allocUnsafeSlow: the batch owns its ArrayBuffer, so it can be transferred, not copied.
    const bytes = this.batch.buffer as ArrayBuffer;
    this.worker!.postMessage({ path: this.file, bytes, ...this.meta! } satisfies CheckBatch, [bytes]);
    this.inFlight++;
    this.batch = Buffer.allocUnsafeSlow(BATCH_BYTES);
    this.used = 0;
    this.meta = null;
  }

  private next(): Promise<void> {
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }
}
