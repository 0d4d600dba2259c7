import type { Knex } from 'knex';
import { EtlError } from '../errors';
import type { SourceRecord, SourceStream } from '../../extractors/types';
import type { AnyRow, ApiProfileRow, UserRow } from '../../loaders/rows';
import { type RejectEntry, writeRejects } from '../../loaders/rejects';
import { TABLES } from '../../loaders/tables';
import { type OrphanPolicy, type RowBatch, writeRows } from '../../loaders/writer';
import { directCopyState, encodeForDirectCopy } from '../../loaders/direct-copy';
import type { Target } from '../../loaders/target';
import { type Fernet, sealSecret } from '../secrets/fernet';
import type { NormalizeContext, Notes } from '../normalize/records';
import { normalizeFor } from '../../loaders/admit';
import { type CheckpointKey, loadCheckpoint, saveCheckpoint } from './checkpoints';
import { addCounts, type StreamCounts } from './counts';
import type { Logger } from '../log';
import { withRetry } from '../db/retry';
import type { RunLock } from './lock';
import { hashPassword } from './hash-stage';
import { type DeltaBatch, StreamDelta } from './delta/stream-delta';

export interface StreamOptions {
  knex: Knex;
  runId: string;
  pipeline: string;
  tenant: string;
  tenantId: string;
  fingerprint: string;
  sourceTimeZone: string;
  tenantMap?: Readonly<Record<string, string>>;
  batchSize: number;
  bcryptCost: number;
  orphans: OrphanPolicy;
  /** The options key stored with each record's digest (src/pipeline/delta/digest.ts). */
  digestOptions: string;
  /** Delete the rows of records gone from the source since its last pass. */
  prune: boolean;
  /** The key API keys are encrypted with; null only when plaintext keys were allowed. */
  fernet: Fernet | null;
  target: Target;
  /** The run lock: each batch commits only while the server still sees it held. */
  lock?: RunLock;
  log?: Logger;
  onProgress(stream: string, done: number, total: number, first: boolean): void;
  /** The stream's committed figures: at the start (from its checkpoint, `batch` false), then after every batch; may throw to stop the run. */
  onCounts?(stream: string, counts: StreamCounts, batch: boolean): void;
}

interface Prepared {
  rows: RowBatch;
  rejects: RejectEntry[];
  notes: Partial<StreamCounts>;
  read: number;
  position: number;
  delta: DeltaBatch;
  /** Locator id → repairs normalization made to the record, for records with any (the delta pass counts them again when unchanged). */
  repaired: Map<string, number>;
}

/**
 * Normalizing a batch is CPU work on the thread that also drives the previous batch's statements:
 * giving the event loop a turn every few hundred records keeps the database from waiting on us.
 */
const YIELD_EVERY = 256;
const yieldToWriter = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function addNotes(into: Partial<StreamCounts>, notes: Notes): void {
  for (const [k, v] of Object.entries(notes) as [keyof Notes, number][]) into[k] = (into[k] ?? 0) + v;
}

async function prepare(records: readonly SourceRecord[], stream: SourceStream, ctx: NormalizeContext, opts: StreamOptions): Promise<Omit<Prepared, 'read' | 'position' | 'delta'>> {
  const { bcryptCost, fernet, target } = opts;
  const rows: RowBatch = { rows: [], locators: [], records: [] };
  const rejects: RejectEntry[] = [];
  const notes: Partial<StreamCounts> = {};
  const repaired = new Map<string, number>();
  const hashes: Promise<void>[] = [];
  for (const [i, rec] of records.entries()) {
    if (i % YIELD_EVERY === YIELD_EVERY - 1) await yieldToWriter();
    const n = normalizeFor(target, rec.entity, ctx, `${rec.locator.table}/${rec.locator.id}`);
    if (!n.ok) {
      rejects.push({ stream: stream.name, outcome: 'rejected', locator: rec.locator, reasonCode: n.code, message: n.message, record: rec.raw });
      continue;
    }
    for (const r of n.repairs) rejects.push({ stream: stream.name, outcome: 'repaired', locator: rec.locator, reasonCode: r.code, message: r.message, record: rec.raw });
    addNotes(notes, n.notes);
    if (n.notes.repaired) repaired.set(rec.locator.id, n.notes.repaired);
    if (n.plaintext !== undefined) {
      const row = n.row as UserRow;
      const plaintext = n.plaintext;
      hashes.push(hashPassword(() => target.hashPlaintext(plaintext, bcryptCost)).then((hash) => void (row.password_hash = hash)));
    }
    if (n.secret !== undefined) {
      const row = n.row as ApiProfileRow;
      const sealed = sealSecret(n.secret, fernet);
      row.api_key_cipher = sealed.value;
      row.api_key_encrypted = sealed.encrypted;
      row.api_key_fingerprint = sealed.fingerprint;
      addNotes(notes, sealed.kept ? { keptSecretTokens: 1 } : sealed.encrypted ? { encryptedSecrets: 1 } : { plaintextSecrets: 1 });
    }
    rows.rows.push(n.row as AnyRow);
    rows.locators.push(rec.locator);
    rows.records.push(rec.raw);
  }
  await Promise.all(hashes);
  rows.copyText = encodeForDirectCopy(TABLES[stream.entity], rows.rows);
  return { rows, rejects, notes, repaired };
}

/**
 * Loads one stream from its checkpoint on: batches of `batchSize` records, each written in one
 * transaction (rows, rejects, checkpoint). The next batch is read and normalized while the
 * previous one is being written.
 */
export async function runStream(stream: SourceStream, opts: StreamOptions): Promise<StreamCounts> {
  const spec = TABLES[stream.entity];
  const key: CheckpointKey = { pipeline: opts.pipeline, tenant: opts.tenant, fingerprint: opts.fingerprint, stream: stream.name };
  const cp = await loadCheckpoint(opts.knex, key);
  opts.onCounts?.(stream.name, cp.counts, false);
  if (cp.done) return cp.counts;
  const ctx: NormalizeContext = { tenant: opts.tenant, tenantId: opts.tenantId, runId: opts.runId, source: stream.source.sha256, sourceTimeZone: opts.sourceTimeZone, tenantMap: opts.tenantMap };
  const delta = await StreamDelta.open(opts.knex, stream, { pipeline: opts.pipeline, tenant: opts.tenant, runId: opts.runId, options: opts.digestOptions });
  let counts = cp.counts;
  let position = cp.position;
  let t0 = Date.now();
  const direct = directCopyState();
  opts.onProgress(stream.name, position, stream.count, true);

  const commit = (p: Prepared): Promise<StreamCounts> =>
    opts.knex.transaction(async (trx) => {
      const done = p.position >= stream.count;
      const res = await writeRows(trx, spec, p.rows, { runId: opts.runId, fingerprint: opts.fingerprint, stream: stream.name, orphans: opts.orphans, direct });
      await writeRejects(trx, opts.runId, opts.fingerprint, [...p.rejects, ...res.entries]);
      const replaced = await delta.commit(trx, p.delta, p.rows, p.repaired, res.entries, done, { runId: opts.runId, prune: opts.prune });
      // The delta's counts add to the writer's: unchanged records count as loaded, merged or rejected as before.
      const next = addCounts(addCounts(counts, { ...p.delta.counts, ...replaced }), {
        ...p.notes,
        read: p.read,
        loaded: res.loaded,
        merged: res.merged,
        rejected: res.rejected + p.rejects.filter((r) => r.outcome === 'rejected').length,
        inferredUsers: res.inferredUsers,
        inferredConversations: res.inferredConversations,
        inferredPersonas: res.inferredPersonas,
        importedHistory: res.importedHistory,
        inserted: res.inserted,
        updated: res.updated,
        seconds: (Date.now() - t0) / 1000,
      });
      await saveCheckpoint(trx, key, opts.runId, { position: p.position, done, counts: next });
      await opts.lock?.assertHeld(trx);
      return next;
    });

  /**
   * The batch is one transaction, so a transient failure (a terminated session, a deadlock) is
   * cured by running it again. Its COMMIT may have succeeded before the connection broke: the
   * checkpoint tells, and a committed batch is not written twice.
   */
  const write = async (p: Prepared): Promise<void> => {
    counts = await withRetry(
      async (attempt) => {
        if (attempt > 1) {
          const saved = await loadCheckpoint(opts.knex, key);
          if (saved.position >= p.position) return saved.counts;
        }
        return commit(p);
      },
      {
        what: `batch of ${stream.name}`,
        onRetry: (attempt, delayMs, reason) => {
          if (opts.lock?.lost) throw opts.lock.lost;
          opts.log?.warn({ stream: stream.name, attempt, delayMs, reason }, 'a batch failed on a transient database error; retrying it');
        },
      },
    );
    t0 = Date.now();
    position = p.position;
    opts.onProgress(stream.name, position, stream.count, false);
    opts.onCounts?.(stream.name, counts, true);
  };

  let pending: Promise<void> = Promise.resolve();
  let batch = delta.batch(position);
  const flush = async (): Promise<void> => {
    const picked = batch;
    // The stream's last batch also takes the records gone from the source.
    await delta.close(picked, picked.end >= stream.count);
    const prepared: Prepared = { ...(await prepare(picked.records, stream, ctx, opts)), read: picked.read, position: picked.end, delta: picked };
    prepared.rejects.push(...picked.gone);
    batch = delta.batch(picked.end);
    await pending;
    pending = write(prepared);
    // Keep the rejection observed now; it is rethrown at the next await of `pending`.
    pending.catch(() => undefined);
  };
  for await (const records of stream.read(position)) {
    await yieldToWriter();
    // Unchanged records are skipped here, before normalization; the rest are written.
    for (let i = 0; i < records.length; ) {
      i = await delta.pick(batch, records, i, opts.batchSize);
      if (StreamDelta.full(batch, opts.batchSize)) await flush();
    }
  }
  // An empty stream still ends in a batch: it reports the records gone from it and records its pass.
  if (batch.read || stream.count === 0) await flush();
  await pending;
  if (position !== stream.count) {
    throw new EtlError('SOURCE_CHANGED', `${stream.source.path} gave ${position} of the ${stream.count} records its check counted in ${stream.name}; it may have changed during the run: run the same command again.`);
  }
  return counts;
}
