import fs from 'node:fs';
import { createHash } from 'node:crypto';
import { ExpectedStore, type Occurrence } from '../../src/verify/expected-store';

function uuid(i: number): string {
  const h = createHash('md5').update(String(i)).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** n occurrences over n/2 ids (each id twice, from two sources), in a scrambled order. */
function fill(store: ExpectedStore, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = (i * 7919) % (n / 2);
    store.add('messages', uuid(k), createHash('md5').update(`h${k}`).digest('binary'), i % 3, `source-${i % 2}`, `table/${i}`);
  }
}

function all(store: ExpectedStore): { lo: string | null; hi: string | null; occurrences: Occurrence[] }[] {
  return [...store.ranges('messages')].map((r) => ({ ...r, occurrences: [...r.occurrences] }));
}

describe('ExpectedStore (the sources side of verify, bounded memory)', () => {
  test('ranges cover the id space in order, each sorted by id then load order; spilled or not, the same', () => {
    const inMemory = new ExpectedStore({ spillBytes: 2 ** 30, rangeRecords: 1000 });
    const spilled = new ExpectedStore({ spillBytes: 4096, rangeRecords: 1000 });
    fill(inMemory, 20_000);
    fill(spilled, 20_000);
    expect(inMemory.spillDir).toBeNull();
    const dir = spilled.spillDir!;
    expect(fs.readdirSync(dir)).toEqual(['messages']);

    const a = all(inMemory);
    const b = all(spilled);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    expect(a[0].lo).toBeNull();
    expect(a[a.length - 1].hi).toBeNull();
    for (let i = 1; i < a.length; i++) expect(a[i].lo).toBe(a[i - 1].hi);
    expect(a.length).toBeGreaterThan(10);
    const occ = a.flatMap((r) => r.occurrences);
    expect(occ).toHaveLength(20_000);
    expect(inMemory.count('messages')).toBe(20_000);
    const unordered = occ.filter((q, i) => i > 0 && !(occ[i - 1].id < q.id || (occ[i - 1].id === q.id && occ[i - 1].seq < q.seq)));
    expect(unordered).toEqual([]);
    const outside = a.flatMap((r) => r.occurrences.filter((o) => (r.lo !== null && o.id < r.lo) || (r.hi !== null && o.id >= r.hi)));
    expect(outside).toEqual([]);
    // Each record comes back as it was added.
    const first = occ.find((o) => o.seq === 0)!;
    expect(first).toMatchObject({ id: uuid(0), hash: createHash('md5').update('h0').digest('binary'), stream: 0, source: 'source-0' });
    expect(occ.find((o) => o.seq === 1)!.locator).not.toBe(first.locator);

    spilled.close();
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('a table with no occurrence is one range over every id', () => {
    expect([...new ExpectedStore().ranges('users')]).toEqual([{ lo: null, hi: null, occurrences: [] }]);
  });
});
