/**
 * The table side read ahead: while verify re-reads the sources (node's CPU), the server hashes
 * every table's rows (actual.ts) and they are written here, in id order, as fixed-size records
 * (id, hash, run) in a temporary file; the comparison then reads them back in step with its id
 * ranges. The snapshot is the same (one REPEATABLE READ transaction), so nothing changes but the
 * time: the two sides overlap instead of following each other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { type ActualRow, hashedRowsQuery, readRows } from './actual';
import { copyOutBlocks, isNull, NEWLINE, TAB } from '../db/copy-out';
import { hexBytes, inTempFiles, uuidBytes, uuidText } from './expected-store';

const RECORD = 36;
const READ_BYTES = RECORD * 8192;

export class TableSpool {
  count = 0;
  private fd: number | null = null;
  private buf = Buffer.alloc(0);
  private at = 0;
  private offset = 0;

  constructor(
    private readonly file: string,
    private readonly runs: string[],
  ) {}

  write(rows: readonly ActualRow[], runIndex: (run: string | null) => number): void {
    const out = Buffer.alloc(rows.length * RECORD);
    rows.forEach((r, i) => {
      uuidBytes(r.id, out, i * RECORD);
      out.write(r.hash, i * RECORD + 16, 16, 'latin1');
      out.writeInt32LE(runIndex(r.etl_run_id), i * RECORD + 32);
    });
    this.append(out, rows.length);
  }

  /** COPY output rows `id \t etl_run_id \t md5 hex` (hashedRowsQuery), turned into records without a string per row but the run's. */
  writeCopied(block: Buffer, runIndex: (run: string | null) => number): void {
    // The shortest row: 36 (id) + 1 + 2 (\N) + 1 + 32 (md5) + 1 bytes.
    const out = Buffer.alloc(Math.ceil(block.length / 73) * RECORD);
    let n = 0;
    for (let pos = 0; pos < block.length; n++) {
      const runAt = block.indexOf(TAB, pos) + 1;
      const hashAt = block.indexOf(TAB, runAt) + 1;
      const end = block.indexOf(NEWLINE, hashAt);
      hexBytes(block, pos, runAt - 1, out, n * RECORD);
      hexBytes(block, hashAt, end, out, n * RECORD + 16);
      out.writeInt32LE(runIndex(isNull(block, runAt, hashAt - 1) ? null : block.toString('latin1', runAt, hashAt - 1)), n * RECORD + 32);
      pos = end + 1;
    }
    this.append(out.subarray(0, n * RECORD), n);
  }

  private append(records: Buffer, n: number): void {
    inTempFiles(() => fs.appendFileSync(this.file, records));
    this.count += n;
  }

  /** The next rows (in id order) whose id is below `hi`; all that are left when `hi` is null. */
  next(hi: string | null): ActualRow[] {
    const rows: ActualRow[] = [];
    for (;;) {
      if (this.at >= this.buf.length && !inTempFiles(() => this.fill())) return rows;
      const id = uuidText(this.buf, this.at);
      if (hi !== null && id >= hi) return rows;
      const run = this.buf.readInt32LE(this.at + 32);
      rows.push({ id, hash: this.buf.toString('latin1', this.at + 16, this.at + 32), etl_run_id: run < 0 ? null : this.runs[run] });
      this.at += RECORD;
    }
  }

  private fill(): boolean {
    if (this.count === 0) return false;
    this.fd ??= fs.openSync(this.file, 'r');
    const buf = Buffer.alloc(READ_BYTES);
    let n = 0;
    while (n < READ_BYTES) {
      const got = fs.readSync(this.fd, buf, n, READ_BYTES - n, this.offset + n);
      if (got === 0) break;
      n += got;
    }
    this.offset += n;
    this.buf = buf.subarray(0, n);
    this.at = 0;
    return n > 0;
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

export class ActualSpool {
  private readonly dir = inTempFiles(() => fs.mkdtempSync(path.join(os.tmpdir(), 'etl-verify-actual-')));
  private readonly tables = new Map<string, TableSpool>();
  private readonly runs: string[] = [];
  private readonly runIndex = new Map<string, number>();

  /** Reads every listed table (`table` → checksum columns) into the spool; tables that do not exist are left out. */
  async read(knex: Knex, tables: ReadonlyMap<string, string[]>): Promise<void> {
    const runIndex = (run: string | null) => this.indexOf(run);
    for (const [table, columns] of tables) {
      const spool = new TableSpool(path.join(this.dir, encodeURIComponent(table)), this.runs);
      this.tables.set(table, spool);
      const hashed = await hashedRowsQuery(knex, table, columns);
      if (hashed === null) {
        for await (const page of readRows(knex, table, columns)) spool.write(page, runIndex);
        continue;
      }
      const conn = (await knex.client.acquireConnection()) as PoolClient;
      try {
        for await (const block of copyOutBlocks(conn, `COPY (${hashed}) TO STDOUT`)) spool.writeCopied(block, runIndex);
      } finally {
        await knex.client.releaseConnection(conn);
      }
    }
  }

  private indexOf(run: string | null): number {
    if (run === null) return -1;
    let i = this.runIndex.get(run);
    if (i === undefined) this.runIndex.set(run, (i = this.runs.push(run) - 1));
    return i;
  }

  has(table: string): boolean {
    return this.tables.has(table);
  }

  /** The table's rows, to be read with `next`, in id order. */
  table(table: string): TableSpool {
    const t = this.tables.get(table);
    if (!t) throw new Error(`table ${table} was not read ahead`);
    return t;
  }

  close(): void {
    for (const t of this.tables.values()) t.close();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
