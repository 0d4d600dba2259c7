/**
 * What every extractor yields. An extractor knows its format (field names, aliases, drift between
 * versions) and yields canonical entities with raw, untrusted values; normalization knows the rules.
 */

/** Where a record came from, stable across runs of the same file. */
export interface Locator {
  file: string;
  table: string;
  id: string;
}

export interface SourceFile {
  path: string;
  sha256: string;
  size: number;
}

export interface UserEntity {
  kind: 'user';
  username: unknown;
  email?: unknown;
  passwordHash?: unknown;
  salt?: unknown;
  password?: unknown;
  isActive?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
}

export interface ConversationEntity {
  kind: 'conversation';
  conversationId: unknown;
  username: unknown;
  title?: unknown;
  messageCount?: unknown;
  createdAt?: unknown;
  updatedAt?: unknown;
}

export interface MessageEntity {
  kind: 'message';
  username: unknown;
  /** Absent in the oldest formats: such messages go to the user's imported-history conversation. */
  conversationId?: unknown;
  messageId?: unknown;
  role: unknown;
  content: unknown;
  timestamp: unknown;
}

export interface SessionEntity {
  kind: 'session';
  username: unknown;
  token: unknown;
  createdAt?: unknown;
  lastActivity?: unknown;
  activeConversationId?: unknown;
  /** Fields the target has no column for, kept so nothing is lost. */
  metadata: Record<string, unknown>;
}

export interface DocumentEntity {
  kind: 'document';
  docType: string;
  body: unknown;
}

export type Entity = UserEntity | ConversationEntity | MessageEntity | SessionEntity | DocumentEntity;
export type EntityKind = Entity['kind'];

export interface SourceRecord<E extends Entity = Entity> {
  locator: Locator;
  /** 0-based position in the stream's stable order; checkpoints count in it. */
  ordinal: number;
  entity: E;
  /** The record as the source holds it, for reject reports (secrets are redacted when written). */
  raw: unknown;
}

/** One ordered stream of records of a single entity kind from one source file. */
export interface SourceStream {
  /** Unique within a run, e.g. `chat_history` or `documents:employees.json`. */
  name: string;
  entity: EntityKind;
  source: SourceFile;
  count: number;
  read(fromOrdinal: number): AsyncIterable<SourceRecord[]>;
}

/** The result of an extractor's preflight: every source validated and fingerprinted, nothing written. */
export interface OpenedSources {
  sources: SourceFile[];
  streams: SourceStream[];
  /** Facts worth a log line (e.g. NaN values read as null). */
  notes: string[];
}

export interface ExtractorOptions {
  /** Extra source-table → entity mappings given by the user (`--map table=entity`). */
  tableMap: Record<string, EntityKind | 'ignore'>;
  documentsDir?: string;
}

export interface Extractor {
  /** The pipeline name users type: `etl run <name> …`. */
  name: string;
  summary: string;
  open(paths: string[], options: ExtractorOptions): Promise<OpenedSources>;
}
