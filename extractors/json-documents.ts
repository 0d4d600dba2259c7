import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EtlError } from '../src/errors';
import { MAX_JSON_BYTES, readJsonFile, startsWithJsonArray } from '../src/scan/json-file';
import { listDir, statPath } from '../src/scan/fs-checked';
import { fsError } from '../src/scan/source-errors';
import type { OpenedSources, SourceFile } from './types';

/** `employees.json` → `employee`: the doc_type ChatCore's own migration gives these files. */
function docTypeOf(file: string): string {
  const base = path.basename(file, '.json').toLowerCase();
  if (base.endsWith('ies')) return base.slice(0, -3) + 'y';
  if (base.endsWith('s') && !base.endsWith('ss')) return base.slice(0, -1);
  return base;
}

/**
 * Every `*.json` file in `dir` (but those in `exclude`) that holds a top-level array: one document per element, doc_type
 * from the file name. Other JSON files are named in a note (they are not documents, e.g. a TinyDB
 * file next to them), never read as records, and never read whole: a file over the size cap is
 * skipped on its stat, one that does not start with `[` on its first bytes.
 */
export async function addDocumentsDir(into: OpenedSources, dir: string, exclude: ReadonlySet<string> = new Set()): Promise<void> {
  const abs = path.resolve(dir);
  const stat = await statPath(abs).catch((e: unknown) => {
    throw (e as EtlError).code === 'SOURCE_NOT_FOUND' ? new EtlError('SOURCE_NOT_FOUND', `The documents folder ${dir} does not exist; check the --documents path.`) : e;
  });
  if (!stat.isDirectory()) throw new EtlError('USAGE', `--documents expects a folder of JSON files, and ${dir} is not a folder.`);
  const names = (await listDir(abs)).filter((n) => n.endsWith('.json') && !exclude.has(n)).sort();
  const { sources, streams, notes } = into;
  for (const name of names) {
    const file = path.join(abs, name);
    let st: Awaited<ReturnType<typeof fs.stat>>;
    try {
      st = await fs.stat(file);
    } catch (e) {
      throw fsError(file, e);
    }
    if (!st.isFile()) {
      notes.push(`${name} in the documents folder is not a file; not read as documents`);
      continue;
    }
    if (st.size > MAX_JSON_BYTES) {
      notes.push(`${name} in the documents folder is ${st.size} bytes, over the ${MAX_JSON_BYTES}-byte limit of a documents file; not read as documents`);
      continue;
    }
    if (!(await startsWithJsonArray(file))) {
      notes.push(`${name} in the documents folder is not a JSON array; not read as documents`);
      continue;
    }
    const { value, sha256, size } = await readJsonFile(file, 'documents file');
    if (!Array.isArray(value)) throw new EtlError('SOURCE_CORRUPT', `${file} starts like a JSON array but is not one; fix the documents file and run again, nothing was written.`);
    const items: unknown[] = value;
    const source: SourceFile = { path: file, sha256, size };
    const docType = docTypeOf(name);
    sources.push(source);
    streams.push({
      name: `documents:${name}`,
      entity: 'document',
      source,
      count: items.length,
      async *read(fromOrdinal: number) {
        const records = items.slice(fromOrdinal).map((body, i) => ({
          locator: { file, table: name, id: String(fromOrdinal + i) },
          ordinal: fromOrdinal + i,
          entity: { kind: 'document' as const, docType, body },
          raw: body,
        }));
        if (records.length) yield records;
      },
    });
  }
}
