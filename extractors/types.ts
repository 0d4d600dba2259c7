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
  /** The user's tenant by name, where the source names one (ITL seeds); else the run's --tenant. */
  tenant?: unknown;
  role?: unknown;
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

/** A persona a user speaks as, where a source names one (no legacy chat format does yet). */
export interface UserPersonaEntity {
  kind: 'user_persona';
  username: unknown;
  name: unknown;
  isDefault?: unknown;
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

/** A tenant the source defines (ITL tenants.json); keyed by its name, folded to a slug. */
export interface TenantEntity {
  kind: 'tenant';
  name: unknown;
  domain?: unknown;
  status?: unknown;
}

/** A Mul-in-One API profile (api_configuration.yaml `apis[]`, or a persona's inline `api` mapping). */
export interface ApiProfileEntity {
  kind: 'api_profile';
  name: unknown;
  baseUrl: unknown;
  model: unknown;
  /** A secret: stored only as a Fernet token. */
  apiKey?: unknown;
  temperature?: unknown;
  isDefault?: boolean;
}

/** A Mul-in-One persona with the file-global settings already applied. */
export interface PersonaEntity {
  kind: 'persona';
  name: unknown;
  handle?: unknown;
  prompt?: unknown;
  tone?: unknown;
  proactivity?: unknown;
  catchphrases?: unknown;
  memoryWindow?: unknown;
  maxAgentsPerTurn?: unknown;
  /** Name of the API profile this persona uses (resolved by the extractor from bindings), or null. */
  apiProfile?: string | null;
  /** The binding as the source wrote it (`api_binding`, `api`, or a persona_bindings entry). */
  apiBinding?: unknown;
  background?: unknown;
  backgroundOptions?: unknown;
}

export interface LlmModelEntity {
  kind: 'llm_model';
  key: unknown;
  provider: unknown;
  modelName: unknown;
  displayName?: unknown;
  description?: unknown;
  isActive?: unknown;
  supportsVision?: unknown;
  supportsFunctionCalling?: unknown;
  contextWindow?: unknown;
  inputCostPer1m?: unknown;
  outputCostPer1m?: unknown;
}

export interface BaseToolEntity {
  kind: 'base_tool';
  key: unknown;
  name: unknown;
  category?: unknown;
  description?: unknown;
  toolType: unknown;
  isActive?: unknown;
}

export interface AgentEntity {
  kind: 'agent';
  key: unknown;
  name: unknown;
  description?: unknown;
  agentType?: unknown;
  prompt: unknown;
  isActive?: unknown;
  isSystem?: unknown;
}

export interface ToolEntity {
  kind: 'tool';
  key: unknown;
  baseToolKey: unknown;
  name: unknown;
  description?: unknown;
  toolType: unknown;
  isActive?: unknown;
  inputSchema: unknown;
  config: unknown;
}

/** An agent → tool link with its priority (the legacy seed step 6 hard-coded these). */
export interface AgentToolEntity {
  kind: 'agent_tool';
  agentKey: unknown;
  toolKey: unknown;
  priority: unknown;
}

/** A tenant's permission on an agent (tenant_agent_mapping.json). Names are resolved to keys by the extractor. */
export interface TenantAgentEntity {
  kind: 'tenant_agent';
  tenant: unknown;
  /** The agent's key when the source's agents name it; null when no agent has that name. */
  agentKey: string | null;
  agentName: unknown;
  enabled: unknown;
}

export type Entity =
  | UserEntity
  | ConversationEntity
  | MessageEntity
  | UserPersonaEntity
  | SessionEntity
  | DocumentEntity
  | TenantEntity
  | ApiProfileEntity
  | PersonaEntity
  | LlmModelEntity
  | BaseToolEntity
  | AgentEntity
  | ToolEntity
  | AgentToolEntity
  | TenantAgentEntity;
export type EntityKind = Entity['kind'];

/** The kinds a chat-data source table can be mapped onto (`--map table=kind`). */
export const CHAT_KINDS = ['user', 'conversation', 'message', 'session', 'document'] as const;
export type ChatKind = (typeof CHAT_KINDS)[number];

export interface SourceRecord<E extends Entity = Entity> {
  locator: Locator;
  /** 0-based position in the stream's stable order; checkpoints count in it. */
  ordinal: number;
  entity: E;
  /** The record as the source holds it, for reject reports (secrets are redacted when written). */
  raw: unknown;
  /** Byte offset of the record in its source file, where the stream reads the file in order (progress). */
  offset?: number;
  /**
   * A digest of the record's bytes as the source holds them, where the extractor reads them one
   * by one (TinyDB). A delta pass compares it instead of hashing the entity, so an unchanged
   * record is never parsed: such records compute `entity` and `raw` only when first read.
   */
  readonly digest?: string;
}

/** One ordered stream of records of a single entity kind from one source file. */
export interface SourceStream {
  /** Unique within a run, e.g. `chat_history` or `documents:employees.json`. */
  name: string;
  entity: EntityKind;
  source: SourceFile;
  count: number;
  /** The stream's byte range of its source file, where it reads that range in order (progress is measured in its bytes). */
  bytes?: { start: number; end: number };
  read(fromOrdinal: number): AsyncIterable<SourceRecord[]>;
  /** The order `read` yields locator ids in, where it is one (TinyDB): lets a delta pass merge instead of holding a map. */
  compareIds?(a: string, b: string): number;
}

/** The result of an extractor's preflight: every source validated and fingerprinted, nothing written. */
export interface OpenedSources {
  sources: SourceFile[];
  streams: SourceStream[];
  /** Facts worth a log line (e.g. NaN values read as null). */
  notes: string[];
  /** How many secret values (API keys) the sources hold: they need ETL_ENCRYPTION_KEY. */
  secrets?: number;
}

export interface ExtractorOptions {
  /** Extra source-table → entity mappings given by the user (`--map table=entity`). */
  tableMap: Record<string, ChatKind | 'ignore'>;
  documentsDir?: string;
  /** Bytes of a big source file checked so far by the preflight pass, for a progress line. */
  onPreflight?(file: string, read: number, size: number): void;
}

export interface Extractor {
  /** The pipeline name users type: `etl run <name> …`. */
  name: string;
  summary: string;
  open(paths: string[], options: ExtractorOptions): Promise<OpenedSources>;
}
