import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';
import type {
  AgentEntity,
  AgentToolEntity,
  ApiProfileEntity,
  BaseToolEntity,
  ConversationEntity,
  DocumentEntity,
  Entity,
  LlmModelEntity,
  MessageEntity,
  PersonaEntity,
  SessionEntity,
  TenantAgentEntity,
  TenantEntity,
  ToolEntity,
  UserEntity,
} from '../../extractors/types';
import type {
  AgentRow,
  AgentToolRow,
  AnyRow,
  ApiProfileRow,
  BaseToolRow,
  ConversationRow,
  DocumentRow,
  LlmModelRow,
  MessageRow,
  PersonaRow,
  SessionRow,
  TenantAgentRow,
  TenantRow,
  ToolRow,
  UserRow,
} from '../../loaders/rows';
import { redactRecord } from '../secrets/redact';
import { globalRowId, rowId, tenantId as tenantIdOf, tenantSlug } from './ids';
import { messageKey } from './message-key';
import { decidePassword } from './password';
import { repairDeep, repairText } from './text';
import { parseTimestamp } from './timestamp';
import { foldUsername } from './username';

/** Everything a record's normalization may depend on; no clock, no I/O. */
export interface NormalizeContext {
  tenant: string;
  tenantId: string;
  runId: string;
  /** sha256 of the source file the record came from. */
  source: string;
  sourceTimeZone: string;
}

/** Counted facts about a record that loaded but was changed or completed on the way. */
export interface Notes {
  repaired?: number;
  droppedPlaintextPasswords?: number;
  unrecognizedPasswordHashes?: number;
  invalidOptionalTimestamps?: number;
  encryptedSecrets?: number;
  keptSecretTokens?: number;
  plaintextSecrets?: number;
}

export type Normalized =
  | {
      ok: true;
      row: AnyRow;
      notes: Notes;
      /** a plaintext-only password the caller must hash */
      plaintext?: string;
      /** an API key the caller must encrypt (Fernet needs randomness, normalization has none) */
      secret?: string;
    }
  | { ok: false; code: string; message: string };

const ROLES = new Set(['user', 'assistant', 'system']);

function reject(code: string, message: string): Normalized {
  return { ok: false, code, message };
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Carries the repair count of every text field into the record's notes. */
class Text {
  repaired = 0;
  str(v: unknown): string | null {
    if (typeof v !== 'string') return null;
    const r = repairText(v);
    this.repaired += r.repaired;
    return r.value;
  }
  deep<T>(v: T): T {
    const r = repairDeep(v);
    this.repaired += r.repaired;
    return r.value;
  }
}

/** A legacy id: strings as given, integers as decimal text; anything else is not an id. */
function legacyId(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isInteger(v)) return String(v);
  return null;
}

function username(v: unknown, text: Text): string | null {
  const s = text.str(v);
  if (s === null) return null;
  const folded = foldUsername(s);
  return folded === '' ? null : folded;
}

/** An optional timestamp: unparseable → NULL, counted, never the current time. */
function optionalTime(v: unknown, ctx: NormalizeContext, notes: Notes): string | null {
  if (v === undefined || v === null || v === '') return null;
  const t = parseTimestamp(v, ctx.sourceTimeZone);
  if (t.ok) return t.value;
  notes.invalidOptionalTimestamps = (notes.invalidOptionalTimestamps ?? 0) + 1;
  return null;
}

/**
 * Ids of users and conversations repeat on every message: remember recent ones (bounded, so memory
 * does not grow with the input). A pure cache: the same inputs always give the same id.
 */
const recentIds = new Map<string, string>();
const RECENT_IDS_MAX = 50_000;

function cachedRowId(tenant: string, entity: string, key: string): string {
  const k = `${tenant}/${entity}:${key}`;
  let id = recentIds.get(k);
  if (id === undefined) {
    if (recentIds.size >= RECENT_IDS_MAX) recentIds.clear();
    id = rowId(tenant, entity, key);
    recentIds.set(k, id);
  }
  return id;
}

function etl(ctx: NormalizeContext, locator: string) {
  return { etl_run_id: ctx.runId, etl_source: ctx.source, etl_locator: locator };
}

function user(e: UserEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const notes: Notes = {};
  const name = username(e.username, text);
  if (name === null) return reject('missing_username', 'user has no username (or an empty one)');
  // A source that names the user's tenant (ITL seeds) puts the user there; the tenant must exist.
  let tenant = ctx.tenant;
  let tenantId = ctx.tenantId;
  let tenantName: string | null = null;
  if (e.tenant !== undefined) {
    tenantName = text.str(e.tenant)?.trim() ?? null;
    const slug = tenantName === null ? null : tenantSlug(tenantName);
    if (slug === null) return reject('missing_tenant', `user "${name}" names no tenant`);
    tenant = slug;
    tenantId = tenantIdOf(slug);
  }
  const decision = decidePassword({ passwordHash: e.passwordHash, salt: e.salt, password: e.password });
  let hash: string | null = null;
  let plaintext: string | undefined;
  switch (decision.kind) {
    case 'hash':
      hash = decision.hash;
      if (decision.droppedPlaintext) notes.droppedPlaintextPasswords = 1;
      break;
    case 'plaintext':
      plaintext = decision.plaintext;
      break;
    case 'unrecognized':
      notes.unrecognizedPasswordHashes = 1;
      if (decision.droppedPlaintext) notes.droppedPlaintextPasswords = 1;
      break;
    case 'none':
      break;
  }
  const row: UserRow = {
    id: rowId(tenant, 'user', name),
    tenant_id: tenantId,
    username: name,
    username_original: text.str(e.username) ?? name,
    email: text.str(e.email),
    role: text.str(e.role),
    password_hash: hash,
    password_reset_required: hash === null && plaintext === undefined,
    is_active: typeof e.isActive === 'boolean' ? e.isActive : true,
    inferred: false,
    created_at: optionalTime(e.createdAt, ctx, notes),
    updated_at: optionalTime(e.updatedAt, ctx, notes),
    ...etl(ctx, locator),
    _tenant_name: tenantName,
  };
  if (text.repaired) notes.repaired = text.repaired;
  return { ok: true, row, notes, plaintext };
}

export function conversationRowId(tenant: string, kind: ConversationRow['kind'], legacy: string): string {
  return cachedRowId(tenant, 'conversation', `${kind}:${legacy}`);
}

function conversation(e: ConversationEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const notes: Notes = {};
  const rawId = legacyId(e.conversationId);
  if (rawId === null) return reject('missing_conversation_id', 'conversation has no conversation_id');
  const id = text.str(rawId) ?? rawId;
  const owner = username(e.username, text);
  if (owner === null) return reject('missing_user', `conversation "${id}" names no user`);
  const count = typeof e.messageCount === 'number' && Number.isInteger(e.messageCount) ? e.messageCount : null;
  const row: ConversationRow = {
    id: conversationRowId(ctx.tenant, 'legacy', id),
    tenant_id: ctx.tenantId,
    kind: 'legacy',
    legacy_id: id,
    user_id: cachedRowId(ctx.tenant, 'user', owner),
    title: text.str(e.title),
    legacy_message_count: count,
    inferred: false,
    created_at: optionalTime(e.createdAt, ctx, notes),
    updated_at: optionalTime(e.updatedAt, ctx, notes),
    ...etl(ctx, locator),
    _user_name: owner,
  };
  if (text.repaired) notes.repaired = text.repaired;
  return { ok: true, row, notes };
}

function message(e: MessageEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const notes: Notes = {};
  const owner = username(e.username, text);
  if (owner === null) return reject('missing_user', 'message names no user');
  const role = typeof e.role === 'string' ? e.role.trim().toLowerCase() : '';
  if (!ROLES.has(role)) return reject('invalid_role', `message role ${JSON.stringify(e.role ?? null)} is not user, assistant or system`);
  const content = text.str(e.content);
  if (content === null) return reject('missing_content', 'message has no text content');
  const time = parseTimestamp(e.timestamp, ctx.sourceTimeZone);
  if (!time.ok) return reject('invalid_timestamp', `message timestamp: ${time.reason}`);
  const rawConv = legacyId(e.conversationId);
  const kind: ConversationRow['kind'] = rawConv === null ? 'imported_history' : 'legacy';
  const convLegacy = rawConv === null ? owner : (text.str(rawConv) ?? rawConv);
  const key = messageKey({ conversationKey: `${kind}:${convLegacy}`, role, timestamp: time.value, content });
  const row: MessageRow = {
    id: rowId(ctx.tenant, 'message', key),
    tenant_id: ctx.tenantId,
    conversation_id: conversationRowId(ctx.tenant, kind, convLegacy),
    user_id: cachedRowId(ctx.tenant, 'user', owner),
    content_key: key,
    legacy_message_id: text.str(legacyId(e.messageId)),
    role,
    content,
    created_at: time.value,
    ...etl(ctx, locator),
    _user_name: owner,
    _conv_kind: kind,
    _conv_legacy_id: convLegacy,
  };
  if (text.repaired) notes.repaired = text.repaired;
  return { ok: true, row, notes };
}

function session(e: SessionEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const notes: Notes = {};
  const owner = username(e.username, text);
  if (owner === null) return reject('missing_user', 'session names no user');
  if (typeof e.token !== 'string' || e.token === '') return reject('missing_token', 'session has no token');
  // Only the hash is stored: a leaked target must not yield usable tokens.
  const jti = sha256(e.token);
  const row: SessionRow = {
    id: rowId(ctx.tenant, 'session', jti),
    tenant_id: ctx.tenantId,
    user_id: cachedRowId(ctx.tenant, 'user', owner),
    access_jti: jti,
    active_conversation_legacy_id: text.str(legacyId(e.activeConversationId)),
    // Fields kept for completeness must not smuggle a refresh token or password into the target.
    metadata: text.deep(redactRecord(e.metadata) as Record<string, unknown>),
    created_at: optionalTime(e.createdAt, ctx, notes),
    last_activity: optionalTime(e.lastActivity, ctx, notes),
    ...etl(ctx, locator),
    _user_name: owner,
  };
  if (text.repaired) notes.repaired = text.repaired;
  return { ok: true, row, notes };
}

function document(e: DocumentEntity, ctx: NormalizeContext, locator: string): Normalized {
  if (e.body === null || typeof e.body !== 'object') return reject('invalid_document', 'document is not a JSON object or array');
  const text = new Text();
  const body = text.deep(e.body);
  const hash = sha256(stringify({ type: e.docType, body }));
  const row: DocumentRow = {
    id: rowId(ctx.tenant, 'document', hash),
    tenant_id: ctx.tenantId,
    doc_type: e.docType,
    content_hash: hash,
    body,
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

/** A required text field: trimmed, non-empty, or null. */
function required(v: unknown, text: Text): string | null {
  const s = text.str(v)?.trim();
  return s ? s : null;
}

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

function optionalBool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A count where the legacy files write -1 for "unlimited": NULL here. */
function limit(v: unknown, dflt: number): number | null | undefined {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -1) return undefined;
  return v === -1 ? null : v;
}

function tenant(e: TenantEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'tenant has no name');
  const slug = tenantSlug(name);
  if (slug === null) return reject('invalid_name', `tenant name "${name}" has no letter or digit to make a slug of`);
  const row: TenantRow = {
    id: tenantIdOf(slug),
    slug,
    name,
    domain: required(e.domain, text),
    status: required(e.status, text),
    created_at: null,
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

/** Mul-in-One's handle rule (service `_normalize_handle`): strip, lower case, spaces to `_`. */
export function personaHandle(v: string): string {
  return v.trim().toLowerCase().replace(/ /g, '_');
}

function apiProfile(e: ApiProfileEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'API has no name');
  const baseUrl = required(e.baseUrl, text);
  if (baseUrl === null) return reject('missing_base_url', `API "${name}" has no base_url (nor provider_url or url)`);
  const model = required(e.model, text);
  if (model === null) return reject('missing_model', `API "${name}" has no model`);
  const key = typeof e.apiKey === 'number' ? String(e.apiKey) : typeof e.apiKey === 'string' ? e.apiKey.trim() : '';
  const row: ApiProfileRow = {
    id: rowId(ctx.tenant, 'api_profile', name),
    tenant_id: ctx.tenantId,
    name,
    base_url: baseUrl,
    model,
    api_key_cipher: null,
    api_key_encrypted: true,
    api_key_fingerprint: null,
    temperature: finite(e.temperature),
    is_default: e.isDefault === true,
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {}, secret: key === '' ? undefined : key };
}

function persona(e: PersonaEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'persona has no name');
  const handle = personaHandle(required(e.handle, text) ?? name);
  if (handle === '') return reject('missing_handle', `persona "${name}" has an empty handle`);
  const proactivity = e.proactivity === undefined || e.proactivity === null ? 0.5 : finite(e.proactivity);
  if (proactivity === null || proactivity < 0 || proactivity > 1) return reject('invalid_proactivity', `persona "${name}": proactivity ${JSON.stringify(e.proactivity)} is not a number from 0 to 1`);
  const memory = limit(e.memoryWindow, 8);
  const agents = limit(e.maxAgentsPerTurn, 2);
  if (memory === undefined || agents === undefined) return reject('invalid_setting', 'memory_window and max_agents_per_turn must be integers (-1 = unlimited)');
  const phrases = Array.isArray(e.catchphrases) ? e.catchphrases.filter((p): p is string => typeof p === 'string').map((p) => text.str(p) ?? p) : [];
  const apiName = e.apiProfile ?? null;
  const row: PersonaRow = {
    id: rowId(ctx.tenant, 'persona', handle),
    tenant_id: ctx.tenantId,
    name,
    handle,
    prompt: text.str(e.prompt) ?? '',
    tone: required(e.tone, text) ?? 'neutral',
    proactivity,
    memory_window: memory,
    max_agents_per_turn: agents,
    api_profile_id: apiName === null ? null : rowId(ctx.tenant, 'api_profile', apiName),
    api_binding: required(e.apiBinding, text),
    catchphrases: phrases,
    background: text.str(e.background),
    background_options: e.backgroundOptions && typeof e.backgroundOptions === 'object' ? text.deep(e.backgroundOptions as Record<string, unknown>) : null,
    ...etl(ctx, locator),
    _api_name: apiName,
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

function llmModel(e: LlmModelEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'LLM model has no model_id');
  const provider = required(e.provider, text);
  const modelName = required(e.modelName, text);
  if (provider === null || modelName === null) return reject('missing_model_name', `LLM model "${key}" has no provider or model_name`);
  const ctxWindow = typeof e.contextWindow === 'number' && Number.isInteger(e.contextWindow) ? e.contextWindow : null;
  const row: LlmModelRow = {
    id: globalRowId('llm_model', key),
    model_key: key,
    provider,
    model_name: modelName,
    display_name: required(e.displayName, text),
    description: text.str(e.description),
    is_active: bool(e.isActive, true),
    supports_vision: optionalBool(e.supportsVision),
    supports_function_calling: optionalBool(e.supportsFunctionCalling),
    context_window: ctxWindow,
    // per 1M tokens, as the file gives them (the legacy seed divided by 1000 into per-1K columns)
    input_cost_per_1m_tokens: finite(e.inputCostPer1m),
    output_cost_per_1m_tokens: finite(e.outputCostPer1m),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

function baseTool(e: BaseToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'base tool has no tool_id');
  const name = required(e.name, text);
  const type = required(e.toolType, text);
  if (name === null || type === null) return reject('missing_name', `base tool "${key}" has no name or tool_type`);
  const row: BaseToolRow = {
    id: globalRowId('base_tool', key),
    tool_key: key,
    name,
    category: required(e.category, text),
    description: text.str(e.description),
    tool_type: type,
    is_active: bool(e.isActive, true),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

function agent(e: AgentEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'agent has no agent_id');
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', `agent "${key}" has no name`);
  const prompt = text.str(e.prompt);
  if (prompt === null) return reject('missing_prompt', `agent "${key}" has no system_prompt`);
  const row: AgentRow = {
    id: globalRowId('agent', key),
    agent_key: key,
    name,
    description: text.str(e.description),
    agent_type: required(e.agentType, text),
    prompt_template: prompt,
    is_active: bool(e.isActive, true),
    is_system: bool(e.isSystem, false),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function tool(e: ToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'tool config has no tool_config_id');
  const name = required(e.name, text);
  const type = required(e.toolType, text);
  if (name === null || type === null) return reject('missing_name', `tool "${key}" has no name or tool_type`);
  const base = required(e.baseToolKey, text);
  if (base === null) return reject('missing_base_tool', `tool "${key}" names no base_tool_id`);
  if (!isObject(e.inputSchema) || !isObject(e.config)) return reject('invalid_tool', `tool "${key}": input_schema and config must be JSON objects`);
  const row: ToolRow = {
    id: globalRowId('tool', key),
    tool_key: key,
    base_tool_id: globalRowId('base_tool', base),
    name,
    description: text.str(e.description),
    tool_type: type,
    is_active: bool(e.isActive, true),
    input_schema: text.deep(e.inputSchema),
    config: text.deep(e.config),
    ...etl(ctx, locator),
    _base_tool_key: base,
  };
  return { ok: true, row, notes: text.repaired ? { repaired: text.repaired } : {} };
}

function agentTool(e: AgentToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const agentKey = required(e.agentKey, text);
  const toolKey = required(e.toolKey, text);
  if (agentKey === null || toolKey === null) return reject('missing_key', 'agent-tool link names no agent or no tool');
  if (typeof e.priority !== 'number' || !Number.isInteger(e.priority)) return reject('invalid_priority', `agent-tool link ${agentKey} → ${toolKey} has no integer priority`);
  const row: AgentToolRow = {
    id: globalRowId('agent_tool', `${agentKey}|${toolKey}`),
    agent_id: globalRowId('agent', agentKey),
    tool_id: globalRowId('tool', toolKey),
    priority: e.priority,
    ...etl(ctx, locator),
    _agent_key: agentKey,
    _tool_key: toolKey,
  };
  return { ok: true, row, notes: {} };
}

function tenantAgent(e: TenantAgentEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const tenantName = required(e.tenant, text);
  const slug = tenantName === null ? null : tenantSlug(tenantName);
  if (tenantName === null || slug === null) return reject('missing_tenant', 'tenant-agent mapping names no tenant');
  const agentName = required(e.agentName, text);
  if (agentName === null) return reject('missing_agent', 'tenant-agent mapping names no agent');
  if (typeof e.enabled !== 'boolean') return reject('invalid_enabled', `tenant-agent mapping ${tenantName} → ${agentName}: enabled must be true or false`);
  // An agent name the source's agents lack gets a key no agent has: the writer rejects it, naming it.
  const agentId = globalRowId('agent', e.agentKey ?? `name:${agentName}`);
  const row: TenantAgentRow = {
    id: rowId(slug, 'tenant_agent', agentId),
    tenant_id: tenantIdOf(slug),
    agent_id: agentId,
    enabled: e.enabled,
    ...etl(ctx, locator),
    _tenant_name: tenantName,
    _agent_name: agentName,
  };
  return { ok: true, row, notes: {} };
}

/** One record to one row, or a reject with a reason. `locator` is the record's `table/id`. */
export function normalizeEntity(e: Entity, ctx: NormalizeContext, locator: string): Normalized {
  switch (e.kind) {
    case 'user':
      return user(e, ctx, locator);
    case 'conversation':
      return conversation(e, ctx, locator);
    case 'message':
      return message(e, ctx, locator);
    case 'session':
      return session(e, ctx, locator);
    case 'document':
      return document(e, ctx, locator);
    case 'tenant':
      return tenant(e, ctx, locator);
    case 'api_profile':
      return apiProfile(e, ctx, locator);
    case 'persona':
      return persona(e, ctx, locator);
    case 'llm_model':
      return llmModel(e, ctx, locator);
    case 'base_tool':
      return baseTool(e, ctx, locator);
    case 'agent':
      return agent(e, ctx, locator);
    case 'tool':
      return tool(e, ctx, locator);
    case 'agent_tool':
      return agentTool(e, ctx, locator);
    case 'tenant_agent':
      return tenantAgent(e, ctx, locator);
  }
}
