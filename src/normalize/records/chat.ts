/** Chat records (TinyDB / lowdb): users, conversations, messages, sessions, documents. */
import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';
import type { ConversationEntity, DocumentEntity, MessageEntity, SessionEntity, UserEntity, UserPersonaEntity } from '../../../extractors/types';
import type { ConversationRow, DocumentRow, MessageRow, SessionRow, UserPersonaRow, UserRow } from '../../../loaders/rows';
import { redactRecord } from '../../secrets/redact';
import { rowId, tenantId as tenantIdOf } from '../ids';
import { messageKey } from '../message-key';
import { decidePassword } from '../password';
import { parseTimestamp } from '../timestamp';
import { foldUsername } from '../username';
import { etl, type NormalizeContext, type Normalized, type Notes, reject, slugOfTenant, Text } from './common';

const ROLES = new Set(['user', 'assistant', 'system']);

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
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

export function user(e: UserEntity, ctx: NormalizeContext, locator: string): Normalized {
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
    const slug = tenantName === null ? null : slugOfTenant(tenantName, ctx);
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
  return { ok: true, row, notes: text.notes(notes), plaintext };
}

/**
 * A user's persona: UUIDv5 of (user, folded persona name). The default persona is named after the
 * user (the folded username), which is the persona every legacy conversation and message speaks as:
 * no legacy chat format names one. `etl migrate`'s backfill derives the same id for rows loaded
 * before persona_id existed (src/db/evolve/persona.ts).
 */
export function personaRowId(tenant: string, username: string, name: string = username): string {
  return cachedRowId(tenant, 'user_persona', `${username}:${foldUsername(name)}`);
}

/** The persona columns of a row of `owner`'s that names no persona: their default one. */
function defaultPersona(ctx: NormalizeContext, owner: string): { persona_id: string; _persona_name: string; _persona_default: boolean } {
  return { persona_id: personaRowId(ctx.tenant, owner), _persona_name: owner, _persona_default: true };
}

export function userPersona(e: UserPersonaEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const owner = username(e.username, text);
  if (owner === null) return reject('missing_user', 'persona names no user');
  const name = text.str(e.name)?.trim() ?? '';
  if (name === '') return reject('missing_name', `a persona of user "${owner}" has no name`);
  const row: UserPersonaRow = {
    id: personaRowId(ctx.tenant, owner, name),
    tenant_id: ctx.tenantId,
    user_id: cachedRowId(ctx.tenant, 'user', owner),
    name,
    is_default: e.isDefault === true,
    inferred: false,
    ...etl(ctx, locator),
    _user_name: owner,
  };
  return { ok: true, row, notes: text.notes() };
}

export function conversationRowId(tenant: string, kind: ConversationRow['kind'], legacy: string): string {
  return cachedRowId(tenant, 'conversation', `${kind}:${legacy}`);
}

export function conversation(e: ConversationEntity, ctx: NormalizeContext, locator: string): Normalized {
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
    ...defaultPersona(ctx, owner),
  };
  return { ok: true, row, notes: text.notes(notes) };
}

export function message(e: MessageEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
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
    ...defaultPersona(ctx, owner),
  };
  return { ok: true, row, notes: text.notes() };
}

export function session(e: SessionEntity, ctx: NormalizeContext, locator: string): Normalized {
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
  return { ok: true, row, notes: text.notes(notes) };
}

export function document(e: DocumentEntity, ctx: NormalizeContext, locator: string): Normalized {
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
  return { ok: true, row, notes: text.notes() };
}
