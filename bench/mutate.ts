import fs from 'node:fs';
import { once } from 'node:events';
import { preflightTinyDb, readTinyDbTable } from '../src/scan/tinydb-scan';

export interface MutateOptions {
  /** New messages, as a percentage of the file's messages, appended with higher ids (as TinyDB does). */
  newPercent: number;
  /** Messages whose content the app edited, as a percentage of the file's messages, spread evenly. */
  editedPercent: number;
  /** Messages the app deleted, as a percentage, spread evenly (never one that is edited). */
  deletedPercent?: number;
}

export interface MutateResult {
  messages: number;
  added: number;
  edited: number;
  deleted: number;
}

/** Python's json.dumps(ensure_ascii=True) with its default separators, as TinyDB writes documents. */
function py(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  if (Array.isArray(v)) return `[${v.map(py).join(', ')}]`;
  return `{${Object.entries(v).map(([k, x]) => `${py(k)}: ${py(x)}`).join(', ')}}`;
}

/** Every `every`-th ordinal starting at `offset`, for `count` of `total`; 0 when count is 0. */
function spacing(total: number, count: number): number {
  return count > 0 ? Math.max(1, Math.floor(total / count)) : 0;
}

/**
 * Writes what ChatCore's TinyDB makes of a file (e.g. one bench/generate.ts wrote) after the app
 * ran on: the whole file rewritten, documents in id order, `newPercent`% messages appended with
 * higher ids (copies of existing messages' conversations, new content and time), `editedPercent`%
 * messages with changed content, `deletedPercent`% removed. Deterministic for the same input and
 * options; streams, so any size works.
 */
export async function mutateChatCore(input: string, output: string, o: MutateOptions): Promise<MutateResult> {
  const index = await preflightTinyDb(input);
  const history = index.tables.find((t) => t.name === 'chat_history');
  if (!history) throw new Error(`${input} has no chat_history table`);
  const total = history.count;
  const added = Math.round((total * o.newPercent) / 100);
  const editEvery = spacing(total, Math.round((total * o.editedPercent) / 100));
  const deleteEvery = spacing(total, Math.round((total * (o.deletedPercent ?? 0)) / 100));
  const out = fs.createWriteStream(output);
  let buf = '';
  const write = async (s: string) => {
    buf += s;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  };
  const result: MutateResult = { messages: 0, added, edited: 0, deleted: 0 };
  await write('{');
  for (const [ti, t] of index.tables.entries()) {
    await write(`${ti ? ', ' : ''}${py(t.name)}: {`);
    let first = true;
    let maxId = 0;
    let last: Record<string, unknown> | undefined;
    for await (const docs of readTinyDbTable(index, t.name, 0)) {
      for (const d of docs) {
        let doc = d.doc;
        maxId = Math.max(maxId, Number(d.id) || 0);
        if (t === history) {
          // Edits on ordinals ≡ 1 (mod every), deletions on ≡ 0: never the same message.
          if (deleteEvery && d.ordinal % deleteEvery === 0 && result.deleted < Math.round((total * (o.deletedPercent ?? 0)) / 100)) {
            result.deleted++;
            continue;
          }
          if (editEvery && d.ordinal % editEvery === Math.min(1, editEvery - 1) && typeof doc.content === 'string') {
            doc = { ...doc, content: `${doc.content} (edited)` };
            result.edited++;
          }
          last = d.doc;
          result.messages++;
        }
        await write(`${first ? '' : ', '}${py(d.id)}: ${py(doc)}`);
        first = false;
      }
    }
    if (t === history && last) {
      const t0 = Date.UTC(2026, 0, 1);
      for (let k = 0; k < added; k++) {
        const doc = { ...last, content: `new message ${k}`, timestamp: new Date(t0 + k * 1000).toISOString().slice(0, 19) + '.000000', message_id: `n${k.toString(16)}` };
        await write(`${first ? '' : ', '}"${maxId + k + 1}": ${py(doc)}`);
        first = false;
        result.messages++;
      }
    }
    await write('}');
  }
  await write('}');
  out.end(buf);
  await once(out, 'finish');
  return result;
}
