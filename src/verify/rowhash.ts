import { hash } from 'node:crypto';
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
 * md5 of the values as a JSON array with ", " between them (PostgreSQL's `json_build_array` text,
 * so the table side can hash flat rows in SQL: actual.ts); objects as stable JSON. The same on both
 * sides by construction. Kept as a 16-character latin1 string: a Buffer per row would cost ~10× the memory.
 */
export function rowHash(values: readonly unknown[]): string {
  let text = '[';
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    text += (i ? ', ' : '') + (v === undefined || v === null ? 'null' : typeof v === 'object' ? stringify(v) : JSON.stringify(v));
  }
  return hash('md5', text + ']', 'binary');
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
