import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';
import type { TableSpec } from '../../loaders/tables';

/**
 * The columns a table's checksum covers: `id` and every column a rerun never rewrites (not in the
 * spec's `update` list nor its update expressions), without the etl_* bookkeeping. These are the
 * natural-key and content columns that the id derives from, so verify can recompute them exactly
 * from the source (e.g. messages: conversation, user, role, content, timestamp; users: the folded
 * username). Columns a later source may legitimately rewrite (titles, dates, password hashes with a
 * random bcrypt salt) are not in it.
 */
export function checksumColumns(spec: TableSpec): string[] {
  const rewritable = new Set([...spec.update, ...Object.keys(spec.updateExpr ?? {})]);
  return spec.columns.filter((c) => !rewritable.has(c) && !c.startsWith('etl_'));
}

/**
 * md5 of the stable JSON of the column values in order; the same on both sides by construction.
 * Kept as a 16-character latin1 string: a Buffer per expected row would cost ~10× the memory.
 */
export function rowHash(values: readonly unknown[]): string {
  return createHash('md5').update(stringify(values.map((v) => (v === undefined ? null : v)))).digest('binary');
}

/** Order-independent checksum of a set of rows: XOR of their row hashes, with the count. */
export class SetChecksum {
  private acc = Buffer.alloc(16);
  count = 0;
  add(h: string): void {
    for (let i = 0; i < 16; i++) this.acc[i] ^= h.charCodeAt(i);
    this.count++;
  }
  toString(): string {
    return `${this.count}:${this.acc.toString('hex')}`;
  }
}
