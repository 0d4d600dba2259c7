import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { EtlError } from '../src/errors';
import type { OpenedSources, SourceFile, SourceStream } from './types';

/** Files above this are not company documents; reading them whole would not be bounded. */
const MAX_BYTES = 256 * 1024 * 1024;

/** `employees.json` → `employee`: the doc_type ChatCore's own migration gives these files. */
export function docTypeOf(file: string): string {
  const base = path.basename(file, '.json').toLowerCase();
  if (base.endsWith('ies')) return base.slice(0, -3) + 'y';
  if (base.endsWith('s') && !base.endsWith('ss')) return base.slice(0, -1);
  return base;
}

/**
 * Every `*.json` file in `dir` (but those in `exclude`) that holds a top-level array: one document per element, doc_type
 * from the file name. Other JSON files are named in a note (they are not documents, e.g. a TinyDB
 * file next to them), never read as records.
 */
export async function openDocumentsDir(dir: string, exclude: ReadonlySet<string> = new Set()): Promise<OpenedSources> {
  const abs = path.resolve(dir);
  const stat = await fs.stat(abs).catch(() => null);
  if (!stat) throw new EtlError('SOURCE_NOT_FOUND', `The documents folder ${dir} does not exist; check the --documents path.`);
  if (!stat.isDirectory()) throw new EtlError('USAGE', `--documents expects a folder of JSON files, and ${dir} is not a folder.`);
  const names = (await fs.readdir(abs)).filter((n) => n.endsWith('.json') && !exclude.has(n)).sort();
  const sources: SourceFile[] = [];
  const streams: SourceStream[] = [];
  const notes: string[] = [];
  for (const name of names) {
    const file = path.join(abs, name);
    const buf = await fs.readFile(file);
    if (buf.length > MAX_BYTES) throw new EtlError('USAGE', `${file} is ${buf.length} bytes, too big for a documents file (max ${MAX_BYTES}).`);
    let value: unknown;
    try {
      value = buf.length === 0 ? null : JSON.parse(buf.toString('utf8'));
    } catch (e) {
      throw new EtlError('SOURCE_CORRUPT', `${file} is not valid JSON (${(e as Error).message}); fix or remove it from the documents folder.`);
    }
    if (!Array.isArray(value)) {
      notes.push(`${name} in the documents folder is not a JSON array; not read as documents`);
      continue;
    }
    const items: unknown[] = value;
    const source: SourceFile = { path: file, sha256: createHash('sha256').update(buf).digest('hex'), size: buf.length };
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
  return { sources, streams, notes };
}
