import { compareIds, idClass } from './id-order';
import { Scanner, type Sink } from './scanner';
import { changed, duplicateId, q } from './source-errors';
import { forEachChunk } from './source-file';
import type { TinyDbOrder, TinyDbTable } from './types';

/** Second scan of one unordered table: positions and ids into typed arrays, sorted into stable order. */
export async function buildOrder(path: string, t: TinyDbTable, chunkSize: number): Promise<TinyDbOrder> {
  const n = t.count;
  const offsets = new Float64Array(n);
  const lengths = new Uint32Array(n);
  const numIds = new Float64Array(n);
  const cls = new Uint8Array(n);
  const flags = new Uint8Array(n);
  const text = new Map<number, string>();
  let k = 0;
  const sink: Sink = {
    tableStart() {},
    tableEnd() {},
    doc(id, _keyOffset, _buf, a, b, offset, f) {
      if (k >= n) throw changed(path, `table ${q(t.name)} has more documents than before`);
      offsets[k] = offset;
      lengths[k] = b - a;
      flags[k] = f;
      const c = idClass(id);
      cls[k] = c;
      if (c === 0) numIds[k] = +id;
      else {
        numIds[k] = -1;
        text.set(k, id);
      }
      k++;
    },
  };
  await scanRange(path, Scanner.forTable(path, sink, t.name, t.start, false), t.start, t.end, chunkSize);
  if (k !== n) throw changed(path, `table ${q(t.name)} has fewer documents than before`);

  const perm = new Uint32Array(n);
  for (let j = 0; j < n; j++) perm[j] = j;
  perm.sort((x, y) => {
    const cx = cls[x];
    const cy = cls[y];
    if (cx !== cy) return cx - cy;
    if (cx === 0) return numIds[x] - numIds[y];
    return compareIds(cx, 0, text.get(x)!, cy, 0, text.get(y)!);
  });
  const order: TinyDbOrder = {
    offsets: new Float64Array(n),
    lengths: new Uint32Array(n),
    numIds: new Float64Array(n),
    textIds: new Map(),
    flags: new Uint8Array(n),
  };
  for (let j = 0; j < n; j++) {
    const p = perm[j];
    if (j > 0) {
      const o = perm[j - 1];
      const same = cls[p] === 0 ? cls[o] === 0 && numIds[o] === numIds[p] : cls[o] === cls[p] && text.get(o) === text.get(p);
      if (same) {
        const id = cls[p] === 0 ? String(numIds[p]) : text.get(p)!;
        throw duplicateId(path, t.name, id, Math.min(offsets[o], offsets[p]), Math.max(offsets[o], offsets[p]));
      }
    }
    order.offsets[j] = offsets[p];
    order.lengths[j] = lengths[p];
    order.flags[j] = flags[p];
    order.numIds[j] = numIds[p];
    if (cls[p] !== 0) order.textIds.set(j, text.get(p)!);
  }
  return order;
}

/** Streams file bytes [start, end) through a scanner. */
async function scanRange(path: string, scanner: Scanner, start: number, end: number, chunkSize: number): Promise<void> {
  if (end <= start) return;
  await forEachChunk(path, chunkSize, (chunk) => scanner.push(chunk), { start, end });
  scanner.end();
}
