import path from 'node:path';
import { EtlError } from '../src/errors';
import { own } from '../src/own';
import { compareTinyDbIds, preflightTinyDb, readTinyDbTable, type TinyDbDoc, type TinyDbIndex, type TinyDbTable } from '../src/scan/tinydb-scan';
import { addDocumentsDir } from './json-documents';
import type { ChatKind, Entity, Extractor, ExtractorOptions, Locator, OpenedSources, SourceFile, SourceRecord, SourceStream } from './types';

/**
 * ChatCore's TinyDB database (`backend/data/sessions.json`): tables `users`, `conversations`,
 * `chat_history`, `sessions`, in all five real format versions (research/seed-formats.md §3).
 * Field drift handled here: `conversation_id`/`message_id` absent in the oldest version, a
 * plaintext `password` next to the hash in the newest.
 */
const DEFAULT_TABLES: Readonly<Record<string, ChatKind>> = {
  users: 'user',
  conversations: 'conversation',
  chat_history: 'message',
  messages: 'message',
  sessions: 'session',
};

type Doc = Record<string, unknown>;

function pick(doc: Doc, ...keys: string[]): unknown {
  for (const k of keys) if (doc[k] !== undefined) return doc[k];
  return undefined;
}

const SESSION_FIELDS = new Set(['user_id', 'username', 'token', 'created_at', 'last_activity', 'active_conversation_id']);

/** A ChatCore document as a canonical entity (raw values; normalization validates them). */
export function chatCoreEntity(kind: ChatKind, doc: Doc): Entity {
  switch (kind) {
    case 'user':
      return {
        kind,
        username: pick(doc, 'username', 'user_id'),
        email: doc.email,
        passwordHash: doc.password_hash,
        salt: doc.salt,
        password: doc.password,
        isActive: doc.is_active,
        createdAt: doc.created_at,
        updatedAt: doc.updated_at,
      };
    case 'conversation':
      return {
        kind,
        conversationId: doc.conversation_id,
        username: pick(doc, 'user_id', 'username'),
        title: doc.title,
        messageCount: doc.message_count,
        createdAt: doc.created_at,
        updatedAt: doc.updated_at,
      };
    case 'message':
      return {
        kind,
        username: pick(doc, 'user_id', 'username'),
        conversationId: doc.conversation_id,
        messageId: doc.message_id,
        role: doc.role,
        content: doc.content,
        timestamp: pick(doc, 'timestamp', 'created_at'),
      };
    case 'session':
      return {
        kind,
        username: pick(doc, 'user_id', 'username'),
        token: doc.token,
        createdAt: doc.created_at,
        lastActivity: doc.last_activity,
        activeConversationId: doc.active_conversation_id,
        metadata: Object.fromEntries(Object.entries(doc).filter(([k]) => !SESSION_FIELDS.has(k))),
      };
    case 'document':
      return { kind, docType: 'document', body: doc };
  }
}

/**
 * The load reads in 128 KiB pieces (about 500 documents), each parsed in one go: small enough that
 * the batch writer's statements, which share this thread, are never kept waiting long.
 */
const LOAD_READ = { chunkSize: 128 * 1024, maxDocs: 500 };

/** A document as a record: parsed, and mapped onto its entity, only when first read (a delta pass skips unchanged ones by their digest). */
class TinyDbRecord implements SourceRecord {
  readonly locator: Locator;
  readonly ordinal: number;
  readonly offset: number;
  readonly #doc: TinyDbDoc;
  readonly #kind: ChatKind;
  #entity: Entity | undefined;

  constructor(file: string, kind: ChatKind, d: TinyDbDoc) {
    this.locator = { file, table: d.table, id: d.id };
    this.ordinal = d.ordinal;
    this.offset = d.offset;
    this.#doc = d;
    this.#kind = kind;
  }

  get entity(): Entity {
    return (this.#entity ??= chatCoreEntity(this.#kind, this.#doc.doc));
  }

  get raw(): unknown {
    return this.#doc.doc;
  }

  get digest(): string {
    return this.#doc.digest;
  }
}

function tableStream(index: TinyDbIndex, source: SourceFile, t: TinyDbTable, kind: ChatKind): SourceStream {
  const { name: table, count } = t;
  return {
    name: table,
    entity: kind,
    source,
    count,
    bytes: t.ordered ? { start: t.start, end: t.end } : undefined,
    compareIds: compareTinyDbIds,
    async *read(fromOrdinal: number) {
      for await (const docs of readTinyDbTable(index, table, fromOrdinal, LOAD_READ)) {
        yield docs.map((d) => new TinyDbRecord(source.path, kind, d));
      }
    },
  };
}

async function open(paths: string[], options: ExtractorOptions): Promise<OpenedSources> {
  if (paths.length !== 1) throw new EtlError('USAGE', `etl run tinydb takes one TinyDB file, got ${paths.length}; run it once per file.`);
  // Messages name the file as the user typed it; the run records its absolute path.
  const index = await preflightTinyDb(paths[0], { onBytes: (read, size) => options.onPreflight?.(paths[0], read, size) });
  const source: SourceFile = { path: path.resolve(index.path), sha256: index.sha256, size: index.size };
  const streams: SourceStream[] = [];
  const notes: string[] = [];
  for (const t of index.tables) {
    const mapped = own(options.tableMap, t.name) ?? own(DEFAULT_TABLES, t.name);
    if (mapped === 'ignore') {
      notes.push(`table "${t.name}" (${t.count} records) ignored as asked by --map ${t.name}=ignore`);
      continue;
    }
    if (mapped === undefined) {
      if (t.count === 0) continue;
      throw new EtlError(
        'UNKNOWN_TABLE',
        `${paths[0]} has a table "${t.name}" (${t.count} records) that etl does not know; map it with --map ${t.name}=user|conversation|message|session, or skip it with --map ${t.name}=ignore.`,
      );
    }
    streams.push(tableStream(index, source, t, mapped));
  }
  if (index.nonFinite) notes.push(`${index.nonFinite} NaN/Infinity values (or numbers too large for a double, like 1e400) were read as null`);
  if (index.bigInts) notes.push(`${index.bigInts} integers beyond 2^53 were kept as exact decimal text`);
  const opened: OpenedSources = { sources: [source], streams, notes };
  if (options.documentsDir) await addDocumentsDir(opened, options.documentsDir);
  return opened;
}

export const tinydbExtractor: Extractor = {
  name: 'tinydb',
  summary: 'a TinyDB JSON database of ChatCore (users, conversations, chat_history, sessions)',
  open,
};
