import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Low as LowClass } from 'lowdb';
import type { DataFile as DataFileClass } from 'lowdb/node';
import { EtlError } from '../src/errors';
import { own } from '../src/own';
import { hostRequire } from '../src/host-node';
import { parseJsonText, readJsonFile, statBounded } from '../src/scan/json-file';
import { fsError } from '../src/scan/source-errors';
import { chatCoreEntity } from './tinydb';
import type { ChatKind, Extractor, ExtractorOptions, OpenedSources, SourceFile, SourceRecord, SourceStream } from './types';

/**
 * A lowdb JSON file (`{collection: [documents]}`) of a Node app of the same family, read with lowdb
 * itself (the app's own library): read only (never write(), which would reformat the user's file),
 * bounded in size (lowdb reads the whole file; research/libraries.md §2), with a key twice in one
 * object refused rather than silently collapsed as JSON.parse does. Collections
 * map onto users/conversations/messages/sessions/documents by name or by `--map`
 * (`--map users=users,chats=messages`); a non-empty collection etl does not know stops the run.
 * Fields are ChatCore's, in snake_case or camelCase (`userId`, `createdAt`); a `userId` that is the
 * `id` of a document of the users collection is resolved to that user's username; a conversation's
 * `id` is its conversation id, a message's `chatId` its conversation and `text` its content.
 */
const DEFAULT_COLLECTIONS: Readonly<Record<string, ChatKind>> = {
  users: 'user',
  conversations: 'conversation',
  messages: 'message',
  chat_history: 'message',
  sessions: 'session',
};

type Doc = Record<string, unknown>;

/**
 * `createdAt` → `created_at`; snake_case keys win over their camelCase twins. Built with own
 * properties (fromEntries), so a `__proto__` field stays a field and never sets the prototype.
 */
function snakeKeys(doc: Doc): Doc {
  const entries: [string, unknown][] = [];
  for (const [k, v] of Object.entries(doc)) {
    const snake = k.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase());
    if (snake === k || !Object.hasOwn(doc, snake)) entries.push([snake, v]);
  }
  return Object.fromEntries(entries);
}

/**
 * The file through lowdb's DataFile (readFile as UTF-8, then our parse). lowdb turns a missing file
 * into its default data and would throw on an empty one: the size is checked first, and an empty
 * file is an empty database. The text re-encodes to the file's bytes unless decoding replaced an
 * invalid sequence (U+FFFD), in which case the bytes are read to say where, or to hash them as they are.
 */
async function readWithLowdb(given: string): Promise<{ value: unknown; sha256: string; size: number }> {
  const size = await statBounded(given, 'lowdb file');
  const { Low } = hostRequire('lowdb') as { Low: typeof LowClass };
  const { DataFile } = hostRequire('lowdb/node') as { DataFile: typeof DataFileClass };
  let text = '';
  const parse = (t: string): unknown => {
    text = t;
    const json = t.charCodeAt(0) === 0xfeff ? t.slice(1) : t;
    return json.trim() === '' ? {} : parseJsonText(json, given, 'lowdb file');
  };
  const refuse = (): string => {
    throw new Error('etl never writes a lowdb source');
  };
  const db = new Low<unknown>(new DataFile<unknown>(given, { parse, stringify: refuse }), {});
  try {
    await db.read();
  } catch (e) {
    // lowdb's own readFile: a file swapped or removed since the stat is still one sentence.
    throw fsError(given, e);
  }
  if (text.includes('\uFFFD')) return readJsonFile(given, 'lowdb file');
  return { value: db.data, sha256: createHash('sha256').update(text, 'utf8').digest('hex'), size };
}

async function open(paths: string[], options: ExtractorOptions): Promise<OpenedSources> {
  if (paths.length !== 1) throw new EtlError('USAGE', `etl run lowdb takes one lowdb JSON file, got ${paths.length}; run it once per file.`);
  const file = path.resolve(paths[0]);
  const read = await readWithLowdb(paths[0]);
  const data = read.value;
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new EtlError('SOURCE_CORRUPT', `${paths[0]} is not a lowdb database: the top level must be an object of collections ({collection: [documents]}).`);
  }
  const source: SourceFile = { path: file, sha256: read.sha256, size: read.size };
  const notes: string[] = [];
  const collections = Object.entries(data as Record<string, unknown>);
  const kinds = new Map<string, ChatKind>();
  for (const [name, value] of collections) {
    const mapped = own(options.tableMap, name) ?? own(DEFAULT_COLLECTIONS, name);
    if (mapped === 'ignore') {
      notes.push(`collection "${name}" ignored as asked by --map ${name}=ignore`);
      continue;
    }
    if (!Array.isArray(value)) {
      if (mapped === undefined) {
        notes.push(`"${name}" is not a collection (an array), so not read`);
        continue;
      }
      throw new EtlError('SOURCE_CORRUPT', `${paths[0]}: collection "${name}" is not an array of documents.`);
    }
    const bad = value.findIndex((d) => d === null || typeof d !== 'object' || Array.isArray(d));
    if (bad >= 0) throw new EtlError('SOURCE_CORRUPT', `${paths[0]}: ${name}[${bad}] is not a JSON object.`);
    if (mapped === undefined) {
      if (value.length === 0) continue;
      throw new EtlError(
        'UNKNOWN_TABLE',
        `${paths[0]} has a collection "${name}" (${value.length} documents) that etl does not know; map it with --map ${name}=users|conversations|messages|sessions|documents, or skip it with --map ${name}=ignore.`,
      );
    }
    kinds.set(name, mapped);
  }
  // userId → username, from the collections mapped onto users.
  const usernames = new Map<string, unknown>();
  for (const [name, kind] of kinds) {
    if (kind !== 'user') continue;
    for (const d of (data as Record<string, Doc[]>)[name]) {
      const id = d.id ?? d._id;
      const username = d.username ?? d.user_id ?? d.userId;
      if ((typeof id === 'string' || typeof id === 'number') && username !== undefined) usernames.set(String(id), username);
    }
  }
  const streams: SourceStream[] = [];
  for (const [name, kind] of kinds) {
    const docs = (data as Record<string, Doc[]>)[name];
    const records: SourceRecord[] = docs.map((raw, i) => {
      const doc = snakeKeys(raw);
      if (kind !== 'user' && doc.username === undefined && (typeof doc.user_id === 'string' || typeof doc.user_id === 'number')) {
        const username = usernames.get(String(doc.user_id));
        if (username !== undefined) doc.user_id = username;
      }
      // The locator is the position in the collection, not the document's own `id`: two documents
      // with one `id` are two records (the writer tells duplicates apart by locator), and the `id`
      // stays in the record kept with a reject.
      const id = String(i);
      if (kind === 'conversation') doc.conversation_id ??= raw.id;
      if (kind === 'message') {
        doc.conversation_id ??= doc.chat_id;
        doc.message_id ??= raw.id;
        doc.content ??= doc.text;
      }
      const entity = kind === 'document' ? { kind: 'document' as const, docType: name, body: raw } : chatCoreEntity(kind, doc);
      return { locator: { file, table: name, id }, ordinal: i, entity, raw };
    });
    streams.push({
      name,
      entity: kind,
      source,
      count: records.length,
      async *read(fromOrdinal: number) {
        for (let i = fromOrdinal; i < records.length; i += 5000) yield records.slice(i, i + 5000);
      },
    });
  }
  return { sources: [source], streams, notes };
}

export const lowdbExtractor: Extractor = {
  name: 'lowdb',
  summary: 'a lowdb JSON file ({collection: [documents]}) of users, chats, messages (map collections with --map)',
  open,
};
