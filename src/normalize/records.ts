import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';
import type { ConversationEntity, DocumentEntity, Entity, MessageEntity, SessionEntity, UserEntity } from '../../extractors/types';
import type { AnyRow, ConversationRow, DocumentRow, MessageRow, SessionRow, UserRow } from '../../loaders/rows';
import { rowId } from './ids';
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
}

export type Normalized =
  | { ok: true; row: AnyRow; notes: Notes; /** a plaintext-only password the caller must hash */ plaintext?: string }
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
    id: rowId(ctx.tenant, 'user', name),
    tenant_id: ctx.tenantId,
    username: name,
    username_original: text.str(e.username) ?? name,
    email: text.str(e.email),
    password_hash: hash,
    password_reset_required: hash === null && plaintext === undefined,
    is_active: typeof e.isActive === 'boolean' ? e.isActive : true,
    inferred: false,
    created_at: optionalTime(e.createdAt, ctx, notes),
    updated_at: optionalTime(e.updatedAt, ctx, notes),
    ...etl(ctx, locator),
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
    metadata: text.deep(e.metadata),
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
  }
}
