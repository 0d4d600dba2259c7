import fs from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { preflightTinyDb, readTinyDbTable, type TinyDbTable } from '../src/scan/tinydb-scan';

export interface MutateOptions {
  /** New messages, as a percentage of the file's messages, appended with higher ids (as TinyDB does). */
  newPercent: number;
  /** Messages whose content the app edited, as a percentage of the file's messages, spread evenly. */
  editedPercent: number;
  /** Messages the app deleted, as a percentage, spread evenly. */
  deletedPercent?: number;
}

export interface MutateResult {
  messages: number;
  added: number;
  edited: number;
  deleted: number;
}

/** Python's json.dumps(ensure_ascii=True) with its default separators, as TinyDB writes documents (and files). */
export function py(v: unknown): string {
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
  const result: MutateResult = { messages: 0, added: Math.round((total * o.newPercent) / 100), edited: 0, deleted: 0 };
  const toEdit = Math.round((total * o.editedPercent) / 100);
  const toDelete = Math.round((total * (o.deletedPercent ?? 0)) / 100);
  const editEvery = spacing(total, toEdit);
  const deleteEvery = spacing(total, toDelete);

  /** A table's documents as TinyDB writes them, the messages changed as asked. */
  async function* documents(t: TinyDbTable): AsyncGenerator<string> {
    let maxId = 0;
    let last: Record<string, unknown> | undefined;
    for await (const docs of readTinyDbTable(index, t.name, 0)) {
      for (const d of docs) {
        let doc = d.doc;
        maxId = Math.max(maxId, Number(d.id) || 0);
        if (t === history) {
          // Deletions on ordinals ≡ 0 (mod their spacing), edits on ≡ 1 (mod theirs); a deleted message is not edited.
          if (deleteEvery && d.ordinal % deleteEvery === 0 && result.deleted < toDelete) {
            result.deleted++;
            continue;
          }
          if (editEvery && d.ordinal % editEvery === Math.min(1, editEvery - 1) && result.edited < toEdit && typeof doc.content === 'string') {
            doc = { ...doc, content: `${doc.content} (edited)` };
            result.edited++;
          }
          last = d.doc;
          result.messages++;
        }
        yield `${py(d.id)}: ${py(doc)}`;
      }
    }
    if (t !== history || !last) return;
    const t0 = Date.UTC(2026, 0, 1);
    for (let k = 0; k < result.added; k++) {
      yield `"${maxId + k + 1}": ${py({ ...last, content: `new message ${k}`, timestamp: new Date(t0 + k * 1000).toISOString().slice(0, 19) + '.000000', message_id: `n${k.toString(16)}` })}`;
      result.messages++;
    }
  }

  /** The whole file, in chunks of about 1 MiB. */
  async function* file(): AsyncGenerator<string> {
    let chunk = '{';
    for (const [ti, t] of index.tables.entries()) {
      chunk += `${ti ? ', ' : ''}${py(t.name)}: {`;
      let n = 0;
      for await (const doc of documents(t)) {
        chunk += (n++ ? ', ' : '') + doc;
        if (chunk.length >= 1 << 20) {
          yield chunk;
          chunk = '';
        }
      }
      chunk += '}';
    }
    yield chunk + '}';
  }
  await pipeline(Readable.from(file()), fs.createWriteStream(output));
  return result;
}
