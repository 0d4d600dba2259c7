/**
 * Canonical rows (schema "etl") → ChatCore's tables (schema "public"), through the generic
 * projection (loaders/projection.ts): what each ChatCore column holds, and in which order.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../src/log';
import { mapped, project as projectAll, type Projection } from '../projection';
import type { ProjectionCounts } from '../target';

/** What ChatCore stores for a user etl has no usable password for: never equal to a hex digest, and a salt that is not hex. */
export const NO_PASSWORD_HASH = 'etl:no-usable-password';
export const NO_PASSWORD_SALT = 'etl:none';
/** ChatCore's own title for a conversation without one. */
export const DEFAULT_TITLE = 'Yeni Sohbet';
export const HISTORY_TITLE = 'Imported history';

// A hash ChatCore's login can verify: its 100,000 iterations, a hex salt that fits salt VARCHAR(64), a hex digest.
const PBKDF2 = "u.password_hash ~ '^pbkdf2_sha256\\$100000\\$([0-9a-fA-F]{2}){1,32}\\$[0-9a-f]{64}$'";

export const PROJECTIONS: readonly Projection[] = [
  {
    table: 'users',
    canonical: 'etl.users',
    columns: ['username', 'email', 'is_active', 'is_admin', 'password_hash', 'salt', 'mfa_enabled', 'theme', 'persona', 'language', 'created_at', 'updated_at'],
    // Dates: the user's own, else its earliest record's (the app's /api/me fails on NULL), never now().
    // Set-based, over the users without a date only: no per-user scan of the messages.
    source: `select u.id as etl_id, u.username, u.email, u.is_active, coalesce(u.role = 'admin', false),
        case when ${PBKDF2} then split_part(u.password_hash, '$', 4) else '${NO_PASSWORD_HASH}' end,
        case when ${PBKDF2} then split_part(u.password_hash, '$', 3) else '${NO_PASSWORD_SALT}' end,
        false, 'light', 'default', 'tr',
        coalesce(u.created_at, first.at),
        u.updated_at
      from etl.users u
      left join (
        select r.user_id, min(r.at) as at from (
          select user_id, created_at as at from etl.conversations union all
          select user_id, created_at from etl.messages union all
          select user_id, created_at from etl.auth_sessions) r
        where r.user_id in (select id from etl.users where created_at is null)
        group by r.user_id) first on first.user_id = u.id`,
    order: 'created_at nulls last, username',
    adopt: 'username',
  },
  {
    table: 'conversations',
    canonical: 'etl.conversations',
    columns: ['conversation_id', 'title', 'user_id', 'is_active', 'message_count', 'created_at', 'updated_at'],
    // The one conversation a user's latest session had open is the active one (at most one per user).
    // Dates missing from the source come from the conversation's messages (set-based, only where missing).
    source: `select c.id as etl_id,
        case when c.kind = 'legacy' then c.legacy_id else 'etl-history-' || left(encode(sha256(convert_to(c.legacy_id, 'UTF8')), 'hex'), 24) end,
        coalesce(c.title, case when c.kind = 'legacy' then '${DEFAULT_TITLE}' else '${HISTORY_TITLE}' end),
        um.app_id,
        c.kind = 'legacy' and c.legacy_id is not distinct from latest.active,
        c.message_count,
        coalesce(c.created_at, mm.first_at),
        coalesce(c.updated_at, mm.last_at, c.created_at)
      from etl.conversations c
      join ${mapped('users', 'um', 'c.user_id')}
      left join (
        select distinct on (s.user_id) s.user_id, s.active_conversation_legacy_id as active from etl.auth_sessions s
        order by s.user_id, s.last_activity desc nulls last, s.created_at desc nulls last, s.id) latest on latest.user_id = c.user_id
      left join (
        select m.conversation_id, min(m.created_at) as first_at, max(m.created_at) as last_at from etl.messages m
        where m.conversation_id in (select id from etl.conversations where created_at is null or updated_at is null)
        group by m.conversation_id) mm on mm.conversation_id = c.id`,
    order: 'created_at nulls first, conversation_id',
    adopt: 'conversation_id',
  },
  {
    table: 'messages',
    canonical: 'etl.messages',
    columns: ['role', 'content', 'conversation_id', 'user_id', 'created_at'],
    // A message belongs to its conversation's owner (the app's history filters on it).
    source: `select m.id as etl_id, upper(m.role)::public.message_role_enum, m.content, cm.app_id, pc.user_id, m.created_at,
        m.legacy_message_id
      from etl.messages m
      join ${mapped('conversations', 'cm', 'm.conversation_id')}
      join public.conversations pc on pc.id = cm.app_id`,
    // The legacy message_id where it fits and no other message has it, else one derived from etl's id.
    insertOnly: {
      message_id: `case when s._legacy is not null and char_length(s._legacy) <= 50 and s._legacy not like 'etl-%' and s._rank = 1
          and not exists (select 1 from public.messages x where x.message_id = s._legacy) then s._legacy else 'etl-' || replace(s.etl_id::text, '-', '') end`,
    },
    helpers: ['_legacy'],
    rankBy: '_legacy',
    order: 'created_at, etl_id',
  },
  {
    table: 'sessions',
    canonical: 'etl.auth_sessions',
    columns: ['user_id', 'access_jti', 'created_at', 'last_activity', 'revoked'],
    // A legacy session is history, not a live login: stored revoked.
    source: `select s.id as etl_id, um.app_id, s.access_jti, s.created_at, s.last_activity, true
      from etl.auth_sessions s join ${mapped('users', 'um', 's.user_id')}`,
    order: 'created_at nulls first, access_jti',
    adopt: 'access_jti',
  },
  {
    table: 'documents',
    canonical: 'etl.documents',
    columns: ['doc_type', 'body', 'created_at'],
    source: `select d.id as etl_id, d.doc_type::public.doc_type_enum, d.body, null::timestamptz from etl.documents d`,
    order: 'etl_id',
  },
];

export function project(knex: Knex, log: Logger): Promise<ProjectionCounts[]> {
  return projectAll(knex, PROJECTIONS, log);
}
