/**
 * The preflight's document checks on their own thread (doc-check.ts): JSON.parse of each document
 * and the key-twice check, batch by batch as the scanner finds the documents.
 */
import { parentPort } from 'node:worker_threads';
import { EtlError } from '../errors';
import type { PatchCounts } from './json-text';
import { checkDoc } from './parse-doc';
import type { CheckBatch, CheckReply } from './doc-check';

const port = parentPort!;
const counts: PatchCounts = { nonFinite: 0, bigInts: 0 };
let failed = false;

port.on('message', (m: CheckBatch | 'end') => {
  if (m === 'end') return port.postMessage({ counts } satisfies CheckReply);
  // After the first bad document the rest is not looked at: the file is refused for that one.
  if (failed) return port.postMessage({ checked: true } satisfies CheckReply);
  const buf = Buffer.from(m.bytes);
  let a = 0;
  try {
    for (let k = 0; k < m.ids.length; k++) {
      checkDoc(m.path, m.table, m.ids[k], buf, a, m.ends[k], m.offsets[k], m.flags[k], m.keys[k], counts);
      a = m.ends[k];
    }
    port.postMessage({ checked: true } satisfies CheckReply);
  } catch (e) {
    failed = true;
    const error = e instanceof EtlError ? { code: e.code, message: e.message } : { code: null, message: e instanceof Error ? e.message : String(e) };
    port.postMessage({ error } satisfies CheckReply);
  }
});
