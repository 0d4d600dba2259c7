import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import type { SourceRecord, SourceStream } from '../../../extractors/types';
import { copyRows } from '../../../loaders/copy';
import type { RejectEntry } from '../../../loaders/rejects';
import { deleteReplaced } from '../../../loaders/replace';
import { TABLES } from '../../../loaders/tables';
import type { RowBatch } from '../../../loaders/writer';
import type { StreamCounts } from '../counts';
import { recordDigest } from './digest';
import { buildingSet, currentSet, type DigestRow, type DigestSet, earlierSources, type Lineage, promoteSet, readSet, setTable } from './sets';

const OUTCOME_COUNT = { l: 'loaded', m: 'merged', r: 'rejected' } as const;

/**
 * Unchanged records cost only a digest row each: a batch holds up to this many times `batchSize`
 * records read, so a delta pass over a big file commits few transactions (at 1,000,000 messages,
 * one transaction per 5,000 records read cost a quarter of the pass in round trips).
 */
const UNCHANGED_PER_BATCH = 8;

/** A digest row to write, next in the batch's sequence. */
function write(b: DeltaBatch, row: DigestRow): void {
  b.rows.push(row);
  b.seqs.push(b.firstSeq + b.size++);
}

/** The last pass's digest row `ord`, unchanged, next in the batch's sequence: it extends the run of the previous one where it can. */
function carry(b: DeltaBatch, ord: number): void {
  const c = b.carried;
  const shift = b.firstSeq + b.size++ - ord;
  const k = c.lo.length - 1;
  if (k >= 0 && c.hi[k] === ord - 1 && c.shift[k] === shift) c.hi[k] = ord;
  else {
    c.lo.push(ord);
    c.hi.push(ord);
    c.shift.push(shift);
  }
}

function add(b: DeltaBatch, k: 'deltaNew' | 'deltaChanged' | 'deltaUnchanged' | 'disappeared' | 'loaded' | 'merged' | 'rejected'): void {
  b.counts[k] = (b.counts[k] ?? 0) + 1;
}

/** A batch as the delta pass sees it: the records to write, and a digest row for every record read (and every gone one). */
export interface DeltaBatch {
  /** Records read into the batch (unchanged ones included), and the stream position after the last. */
  read: number;
  end: number;
  records: SourceRecord[];
  /** Digest rows to write, each with its sequence number in this pass's set. */
  rows: DigestRow[];
  seqs: number[];
  /**
   * Unchanged records' digest rows, copied from the last pass's set by the server: runs of its
   * sequence numbers [lo, hi], each shifted by `shift` into this pass's set. Sending a million
   * unchanged rows back in COPY text cost the server more than all else in a delta pass.
   */
  carried: { lo: number[]; hi: number[]; shift: number[] };
  firstSeq: number;
  /** Digest rows in the batch, written and carried. */
  size: number;
  /** `disappeared` entries for etl_rejects. */
  gone: RejectEntry[];
  counts: Partial<StreamCounts>;
  /** Locator id → index in `rows` of a record to write: its row id is known once it is normalized. */
  pending: Map<string, number>;
}

/** The rows of the last complete pass, in the order they were written, consumed as the new pass goes. */
interface Previous {
  /** Takes the entry of `id`, after handing every earlier one to `gone`; a promise only when a page must be read first. */
  take(id: string, gone: (r: DigestRow) => void): DigestRow | undefined | Promise<DigestRow | undefined>;
  rest(gone: (r: DigestRow) => void): Promise<void>;
}

/** Streams whose records come in the order of their ids (TinyDB): a merge of two ordered sequences, memory flat. */
function ordered(knex: Knex, set: DigestSet, cmp: (a: string, b: string) => number, after: string | null): Previous {
  const it = readSet(knex, set.id);
  let page: DigestRow[] = [];
  let k = 0;
  let end = false;
  const peek = async (): Promise<DigestRow | undefined> => {
    while (k >= page.length && !end) {
      const r = await it.next();
      if (r.done) end = true;
      else {
        page = r.value;
        k = 0;
      }
    }
    return k < page.length ? page[k] : undefined;
  };
  let skipped = after === null;
  const skip = async (): Promise<void> => {
    if (skipped) return;
    skipped = true;
    // A resumed pass: what the set holds up to `after` was handled before the interruption.
    for (let r = await peek(); r && cmp(r.loc, after!) <= 0; r = await peek()) k++;
  };
  const slow = async (id: string, gone: (r: DigestRow) => void): Promise<DigestRow | undefined> => {
    await skip();
    let r = await peek();
    for (; r && cmp(r.loc, id) < 0; r = await peek()) gone(page[k++]);
    if (r && r.loc === id) return page[k++];
    return undefined;
  };
  return {
    take(id, gone) {
      // The common case without a promise per record: the entry is in the page at hand.
      if (skipped && k < page.length && page[k].loc === id) return page[k++];
      return slow(id, gone);
    },
    async rest(gone) {
      await skip();
      for (let r = await peek(); r; r = await peek()) gone(page[k++]);
    },
  };
}

/** Any other stream (small files read whole): the previous pass's rows in a map. */
async function unordered(knex: Knex, set: DigestSet, building: DigestSet): Promise<Previous> {
  const map = new Map<string, DigestRow>();
  for await (const rows of readSet(knex, set.id)) for (const r of rows) map.set(r.loc, r);
  for await (const rows of readSet(knex, building.id)) for (const r of rows) map.delete(r.loc);
  return {
    async take(id) {
      const r = map.get(id);
      map.delete(id);
      return r;
    },
    async rest(gone) {
      for (const r of map.values()) gone(r);
      map.clear();
    },
  };
}

/**
 * The delta pass of one stream (ARCHITECTURE.md, "Delta passes"). Every record gets a digest; a
 * record whose digest equals the one the last complete pass stored for its locator is unchanged
 * and skipped before normalization; the others are written. The digests of this pass go into its
 * own set, batch by batch in the batch's transaction; the stream's last batch deletes the rows
 * edited records replaced (and, with `prune`, those of gone records) and makes the set current.
 */
export class StreamDelta {
  private seq: number;
  private locator: DigestSet['locator'];

  private constructor(
    private readonly stream: SourceStream,
    private readonly lineage: Lineage,
    /** Stored digests count only under the same options key: else every record is changed. */
    private readonly sameOptions: boolean,
    private readonly building: DigestSet,
    /** The last complete pass's set, which unchanged records' digest rows are copied from. */
    private readonly current: DigestSet | undefined,
    private readonly previous: Previous | undefined,
    nextSeq: number,
    locator: DigestSet['locator'],
    /** Without a previous set: the sha256 of the earlier files of this source that runs loaded. */
    private readonly earlier: string[],
  ) {
    this.seq = nextSeq;
    this.locator = locator;
  }

  static async open(knex: Knex, stream: SourceStream, o: { pipeline: string; tenant: string; runId: string; options: string }): Promise<StreamDelta> {
    const lineage: Lineage = { pipeline: o.pipeline, tenant: o.tenant, path: stream.source.path, stream: stream.name };
    const current = await currentSet(knex, lineage);
    const sources = [...new Set([...(current?.sources ?? []), stream.source.sha256])];
    const { set, nextSeq, last } = await buildingSet(knex, lineage, TABLES[stream.entity].table, o.runId, o.options, sources);
    const previous = current && (stream.compareIds ? ordered(knex, current, stream.compareIds, last) : await unordered(knex, current, set));
    const earlier = current ? [] : await earlierSources(knex, lineage, o.runId);
    return new StreamDelta(stream, lineage, current?.options === o.options, set, current, previous, nextSeq, current?.locator ?? null, earlier);
  }

  /** An empty batch starting at stream position `position`. */
  batch(position: number): DeltaBatch {
    return { read: 0, end: position, records: [], rows: [], seqs: [], carried: { lo: [], hi: [], shift: [] }, firstSeq: this.seq, size: 0, gone: [], counts: {}, pending: new Map() };
  }

  /**
   * Sorts records read, from `records[from]` on, into the batch: unchanged ones are skipped (only
   * their digest row is kept), new and changed ones are to be written. Stops when the batch is
   * full (`batchSize` records to write, or `UNCHANGED_PER_BATCH` times as many records read) and
   * returns the index of the next record.
   */
  async pick(b: DeltaBatch, records: readonly SourceRecord[], from: number, batchSize: number): Promise<number> {
    const gone = this.gone(b);
    let i = from;
    while (i < records.length && !StreamDelta.full(b, batchSize)) {
      const rec = records[i++];
      const id = rec.locator.id;
      b.read++;
      b.end = rec.ordinal + 1;
      this.locator ??= { file: rec.locator.file, table: rec.locator.table };
      const digest = recordDigest(rec);
      let old = this.previous?.take(id, gone);
      if (old instanceof Promise) old = await old;
      if (old?.digest === digest && this.sameOptions) {
        add(b, 'deltaUnchanged');
        // Counted as the pass that wrote it counted it: every report accounts for every record.
        add(b, OUTCOME_COUNT[old.outcome ?? 'l']);
        if (old.repaired) b.counts.repaired = (b.counts.repaired ?? 0) + old.repaired;
        carry(b, old.ord!);
        continue;
      }
      add(b, old?.digest ? 'deltaChanged' : 'deltaNew');
      b.pending.set(id, b.rows.length);
      write(b, { loc: id, digest, row_id: null, old_id: old?.row_id ?? null, outcome: 'r', repaired: null });
      // Parsed now: a record read lazily then lets go of its read chunk, which changed records
      // spread over a big file would otherwise keep in memory until their batch is written.
      void rec.entity;
      b.records.push(rec);
    }
    return i;
  }

  /** Whether the batch should be written now. */
  static full(b: DeltaBatch, batchSize: number): boolean {
    return b.records.length >= batchSize || b.read >= batchSize * UNCHANGED_PER_BATCH;
  }

  /** Closes the batch; the stream's last one (`final`) also takes the records gone from the source. */
  async close(b: DeltaBatch, final: boolean): Promise<void> {
    if (final) await this.previous?.rest(this.gone(b));
    this.seq += b.size;
  }

  /** Adds a record the source no longer has to the batch. */
  private gone(b: DeltaBatch): (r: DigestRow) => void {
    return (r) => {
      add(b, 'disappeared');
      write(b, { loc: r.loc, digest: null, row_id: r.row_id, old_id: null, outcome: null, repaired: null });
      const locator = { file: this.locator?.file ?? this.stream.source.path, table: this.locator?.table ?? this.stream.name, id: r.loc };
      const message = 'the source no longer has this record; the row it produced stays (etl run --prune deletes it)';
      b.gone.push({ stream: this.stream.name, outcome: 'disappeared', locator, reasonCode: 'disappeared', message, record: null });
    };
  }

  /**
   * In the batch's transaction, after its rows are written: stores the batch's digests (each with
   * the id of the row its record produced) and, in the stream's last batch, deletes replaced rows
   * and makes this pass's set the current one.
   */
  async commit(
    trx: Knex.Transaction,
    b: DeltaBatch,
    written: RowBatch,
    repaired: ReadonlyMap<string, number>,
    entries: readonly RejectEntry[],
    last: boolean,
    o: { runId: string; prune: boolean },
  ): Promise<Partial<StreamCounts>> {
    // A record without a row was rejected by normalization; the writer may reject or merge one with a row.
    written.locators.forEach((l, i) => {
      const k = b.pending.get(l.id);
      if (k !== undefined) Object.assign(b.rows[k], { row_id: (written.rows[i] as { id: string }).id, outcome: 'l' });
    });
    for (const [id, n] of repaired) {
      const k = b.pending.get(id);
      if (k !== undefined) b.rows[k].repaired = n;
    }
    for (const e of entries) {
      const k = e.outcome === 'rejected' || e.outcome === 'merged' ? b.pending.get(e.locator.id) : undefined;
      if (k !== undefined) b.rows[k].outcome = e.outcome === 'merged' ? 'm' : 'r';
    }
    if (b.rows.length) {
      const conn = (await trx.client.acquireConnection()) as PoolClient;
      await copyRows(conn, setTable(this.building.id), ['loc', 'digest', 'row_id', 'old_id', 'outcome', 'repaired'], b.rows, (i) => b.seqs[i]);
    }
    if (b.carried.lo.length) {
      const { lo, hi, shift } = b.carried;
      await trx.raw(
        `insert into ${setTable(this.building.id)} (_ord, loc, digest, row_id, outcome, repaired)
         select o._ord + r.shift, o.loc, o.digest, o.row_id, o.outcome, o.repaired
         from unnest(cast(? as bigint[]), cast(? as bigint[]), cast(? as bigint[])) r(lo, hi, shift) join ${setTable(this.current!.id)} o on o._ord between r.lo and r.hi`,
        [lo, hi, shift],
      );
    }
    if (!last) return {};
    const spec = TABLES[this.stream.entity];
    const digests = setTable(this.building.id);
    let res = { replaced: 0, pruned: 0 };
    if (this.previous) res = await deleteReplaced(trx, spec, digests, this.building.sources, o.runId, { prune: o.prune });
    // No digests, but earlier files of this source were loaded: their rows are found by locator.
    else if (this.earlier.length && this.locator) res = await deleteReplaced(trx, spec, digests, this.earlier, o.runId, { locatorTable: this.locator.table });
    await promoteSet(trx, this.lineage, this.building, this.locator);
    return res;
  }
}
