/**
 * Canonical rows (schema "etl") → ChatCore's tables (schema "public"). Each app row is tied to its
 * canonical row by an id map (etl.chatcore_ids), so a rerun updates the same row and a row is never
 * written twice; an app row that already holds a natural key (a user the app created, say) is taken
 * over rather than duplicated. Integer ids continue after the table's largest id in a fixed order and
 * the sequence is set past them, so the app's next insert never collides and a killed and rerun
 * projection gives the same ids as a clean one. Foreign keys resolve through the map.
 */
import type { Knex } from 'knex';
import type { Logger } from '../../src/log';
import type { ProjectionCounts } from '../target';

export const ID_MAP_DDL = `create table if not exists etl.chatcore_ids (
  tbl text not null,
  etl_id uuid not null,
  app_id integer not null,
  primary key (tbl, etl_id),
  unique (tbl, app_id)
)`;

/** What ChatCore stores for a user etl has no usable password for: never equal to a hex digest, and a salt that is not hex. */
export const NO_PASSWORD_HASH = 'etl:no-usable-password';
export const NO_PASSWORD_SALT = 'etl:none';
/** ChatCore's own title for a conversation without one. */
export const DEFAULT_TITLE = 'Yeni Sohbet';
export const HISTORY_TITLE = 'Imported history';

export interface Projection {
  /** The app table in public, and its key in the id map. */
  table: string;
  /** App columns etl writes (besides id), in the order of `source`'s columns. */
  columns: readonly string[];
  /** `select etl_id, <columns> …` over the canonical tables: what each app row must hold. */
  source: string;
  /** Extra source columns (after `columns`) that only `insertOnly` reads. */
  helpers?: readonly string[];
  /** Written on insert only (never changed by a rerun): column → expression over a new source row `s`, which also has `_rank`. */
  insertOnly?: Readonly<Record<string, string>>;
  /** `_rank` of a new row: its place among new rows with the same value of this helper column. */
  rankBy?: string;
  /** The order new rows get their ids in. */
  order: string;
  /** Natural key: an app row with this value and no map entry is taken over. */
  adopt?: string;
}

const mapped = (tbl: string, alias: string, etlId: string) => `etl.chatcore_ids ${alias} on ${alias}.tbl = '${tbl}' and ${alias}.etl_id = ${etlId}`;

// A hash ChatCore's login can verify: its 100,000 iterations, a hex salt that fits salt VARCHAR(64), a hex digest.
const PBKDF2 = "u.password_hash ~ '^pbkdf2_sha256\\$100000\\$([0-9a-fA-F]{2}){1,32}\\$[0-9a-f]{64}$'";

export const PROJECTIONS: readonly Projection[] = [
  {
    table: 'users',
    columns: ['username', 'email', 'is_active', 'is_admin', 'password_hash', 'salt', 'mfa_enabled', 'theme', 'persona', 'language', 'created_at', 'updated_at'],
    // Dates: the user's own, else its earliest record's (the app's /api/me fails on NULL), never now().
    source: `select u.id as etl_id, u.username, u.email, u.is_active, coalesce(u.role = 'admin', false),
        case when ${PBKDF2} then split_part(u.password_hash, '$', 4) else '${NO_PASSWORD_HASH}' end,
        case when ${PBKDF2} then split_part(u.password_hash, '$', 3) else '${NO_PASSWORD_SALT}' end,
        false, 'light', 'default', 'tr',
        coalesce(u.created_at, case when u.created_at is null then least(
          (select min(c.created_at) from etl.conversations c where c.user_id = u.id),
          (select min(m.created_at) from etl.messages m where m.user_id = u.id),
          (select min(s.created_at) from etl.auth_sessions s where s.user_id = u.id)) end),
        u.updated_at
      from etl.users u`,
    order: 'created_at nulls last, username',
    adopt: 'username',
  },
  {
    table: 'conversations',
    columns: ['conversation_id', 'title', 'user_id', 'is_active', 'message_count', 'created_at', 'updated_at'],
    // The one conversation a user's latest session had open is the active one (at most one per user).
    source: `select c.id as etl_id,
        case when c.kind = 'legacy' then c.legacy_id else 'etl-history-' || left(encode(sha256(convert_to(c.legacy_id, 'UTF8')), 'hex'), 24) end,
        coalesce(c.title, case when c.kind = 'legacy' then '${DEFAULT_TITLE}' else '${HISTORY_TITLE}' end),
        um.app_id,
        c.kind = 'legacy' and c.legacy_id is not distinct from (
          select s.active_conversation_legacy_id from etl.auth_sessions s where s.user_id = c.user_id
          order by s.last_activity desc nulls last, s.created_at desc nulls last, s.id limit 1),
        c.message_count,
        coalesce(c.created_at, mm.first_at),
        coalesce(c.updated_at, mm.last_at, c.created_at)
      from etl.conversations c
      join ${mapped('users', 'um', 'c.user_id')}
      left join lateral (select min(m.created_at) as first_at, max(m.created_at) as last_at from etl.messages m where m.conversation_id = c.id) mm on c.created_at is null or c.updated_at is null`,
    order: 'created_at nulls first, conversation_id',
    adopt: 'conversation_id',
  },
  {
    table: 'messages',
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
    columns: ['user_id', 'access_jti', 'created_at', 'last_activity', 'revoked'],
    // A legacy session is history, not a live login: stored revoked.
    source: `select s.id as etl_id, um.app_id, s.access_jti, s.created_at, s.last_activity, true
      from etl.auth_sessions s join ${mapped('users', 'um', 's.user_id')}`,
    order: 'created_at nulls first, access_jti',
    adopt: 'access_jti',
  },
  {
    table: 'documents',
    columns: ['doc_type', 'body', 'created_at'],
    source: `select d.id as etl_id, d.doc_type::public.doc_type_enum, d.body, null::timestamptz from etl.documents d`,
    order: 'etl_id',
  },
];

function q(name: string): string {
  return `"${name}"`;
}

/** The source with named columns (`select etl_id, a, b …` positions → names). */
export function named(p: Projection): string {
  return `select * from (${p.source}) as src (etl_id, ${[...p.columns, ...(p.helpers ?? [])].map(q).join(', ')})`;
}

async function projectTable(trx: Knex.Transaction, p: Projection): Promise<ProjectionCounts> {
  const t = `public.${q(p.table)}`;
  const src = named(p);
  const notMapped = `not exists (select 1 from etl.chatcore_ids m where m.tbl = '${p.table}' and m.etl_id = s.etl_id)`;
  if (p.adopt) {
    await trx.raw(
      `insert into etl.chatcore_ids (tbl, etl_id, app_id)
       select '${p.table}', s.etl_id, t.id from (${src}) s join ${t} t on t.${q(p.adopt)} = s.${q(p.adopt)}
       where ${notMapped} and not exists (select 1 from etl.chatcore_ids m where m.tbl = '${p.table}' and m.app_id = t.id)`,
    );
  }
  const cols = p.columns.map(q);
  const updated = await trx.raw(
    `update ${t} t set (${cols.join(', ')}) = row(${cols.map((c) => `s.${c}`).join(', ')})
     from (${src}) s join ${mapped(p.table, 'm', 's.etl_id')}
     where t.id = m.app_id and (${cols.map((c) => `t.${c}`).join(', ')}) is distinct from (${cols.map((c) => `s.${c}`).join(', ')})`,
  );
  const insertOnly = Object.entries(p.insertOnly ?? {});
  const orderBy = p.order.split(',').map((o) => `s.${o.trim()}`).join(', ');
  const rank = p.rankBy ? `, row_number() over (partition by s.${q(p.rankBy)} order by ${orderBy}) as _rank` : '';
  const inserted = await trx.raw(
    `with base as (select coalesce(max(id), 0) as n from ${t}),
     ranked as (select s.*${rank}, (select n from base) + row_number() over (order by ${orderBy}) as _app_id
                from (${src}) s where ${notMapped}),
     fresh as materialized (select s.*${insertOnly.map(([c, e]) => `, ${e} as ${q(`_new_${c}`)}`).join('')} from ranked s),
     ins as (insert into ${t} (id, ${[...cols, ...insertOnly.map(([c]) => q(c))].join(', ')})
             select _app_id, ${[...cols, ...insertOnly.map(([c]) => q(`_new_${c}`))].join(', ')} from fresh)
     insert into etl.chatcore_ids (tbl, etl_id, app_id) select '${p.table}', etl_id, _app_id from fresh`,
  );
  // The app's next insert takes the id after the largest one.
  await trx.raw(`select setval(pg_get_serial_sequence('${t}', 'id'), coalesce(max(id), 1), max(id) is not null) from ${t}`);
  return { table: p.table, inserted: inserted.rowCount ?? 0, updated: updated.rowCount ?? 0 };
}

/** Projects every table, parents first, each in one transaction (each step is idempotent). */
export async function project(knex: Knex, log: Logger): Promise<ProjectionCounts[]> {
  const out: ProjectionCounts[] = [];
  for (const p of PROJECTIONS) {
    const counts = await knex.transaction((trx) => projectTable(trx, p));
    if (counts.inserted || counts.updated) log.info(counts, 'projected into the ChatCore table');
    out.push(counts);
  }
  return out;
}
