/**
 * One table's rows against what the sources give, an id range at a time: the range's expected rows
 * (settled from the store, sorted by id) are merged with the table's rows of that range, read back
 * in id order from the spool, so memory holds one range, never the table.
 */
import type { TableSpec } from '../../loaders/tables';
import { RUN_TENANT_SOURCE } from '../pipeline/run';
import type { TableSpool } from './actual-spool';
import { type Expectation, settle } from './expected';
import { SetChecksum } from './rowhash';

/** Ids listed per table and kind of difference (the counts are always complete). */
const MAX_IDS = 1000;

/** The first MAX_IDS ids of one kind of difference, in id order, and how many there are. */
export class IdList {
  readonly ids: string[] = [];
  count = 0;
  add(id: string): void {
    if (this.ids.length < MAX_IDS) this.ids.push(id);
    this.count++;
  }
}

export interface TableComparison {
  /** Rows the re-read sources give. */
  expected: number;
  /** Of those, rows first written by counted runs (compared by count instead). */
  countedExpected: number;
  /** Rows first written by runs whose sources could not be re-read (or earlier runs of the same files). */
  countsOnly: number;
  sumExpected: SetChecksum;
  sumActual: SetChecksum;
  missing: IdList;
  extra: IdList;
  /** Rows whose checksum columns differ from what the source gives. */
  changed: IdList;
}

/**
 * Compares `spec.table` (its rows read ahead, in id order) with the expectation; settles the
 * expected rows (and so the figures of the streams loading it) even when the table does not exist
 * (`actual` null).
 */
export function compareTable(spec: TableSpec, actual: TableSpool | null, expectation: Expectation, countedRuns: ReadonlySet<string>): TableComparison {
  const c: TableComparison = { expected: 0, countedExpected: 0, countsOnly: 0, sumExpected: new SetChecksum(), sumActual: new SetChecksum(), missing: new IdList(), extra: new IdList(), changed: new IdList() };
  for (const range of expectation.store.ranges(spec.table)) {
    const expected = settle(spec, range.occurrences, expectation.figures);
    c.expected += expected.length;
    for (const r of expected) c.sumExpected.add(r.hash);
    if (!actual) continue;
    let next = 0;
    for (const row of actual.next(range.hi)) {
      c.sumActual.add(row.hash);
      while (next < expected.length && expected[next].id < row.id) c.missing.add(expected[next++].id);
      const exp = next < expected.length && expected[next].id === row.id ? expected[next++] : undefined;
      if (row.etl_run_id !== null && countedRuns.has(row.etl_run_id) && exp?.source !== RUN_TENANT_SOURCE) {
        c.countsOnly++;
        if (exp) c.countedExpected++;
      } else if (!exp) {
        c.extra.add(row.id);
        continue;
      }
      if (exp && exp.hash !== row.hash) c.changed.add(row.id);
    }
    while (next < expected.length) c.missing.add(expected[next++].id);
  }
  return c;
}
