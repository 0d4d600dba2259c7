/**
 * Persona segmentation: conversations and messages carry the persona the user speaks as
 * (`persona_id` → `user_personas`), so a user with several personas no longer shares one history.
 *
 * `user_personas` is a table of its own rather than Mul-in-One's `personas`: those are AI
 * characters of a tenant (prompt, tone, API binding; NOT NULL columns a user persona has no value
 * for) projected into Mul-in-One as they are; a user persona belongs to one user and needs only a
 * name and whether it is the user's default.
 *
 * Backfill, per row: the persona the row's conversation names (loads after expand fill it), else
 * the user's default persona, else a default persona created for the user (named after them,
 * `inferred`), with the id a load gives it (src/normalize/records/chat.ts `personaRowId`).
 */
import type { Knex } from 'knex';
import { personaRowId } from '../../normalize/records/chat';
import type { BackfillStep, Change, Ddl } from './change';
import { addConstraint, setNotNull } from './ddl';

/** The etl target keeps its foreign keys on messages; an application target's canonical messages have none (slimCanonicalMessages). */
async function messagesHaveForeignKeys(knex: Knex): Promise<boolean> {
  return (await knex.raw("select exists (select 1 from pg_constraint where conrelid = to_regclass('messages') and contype = 'f') as x")).rows[0].x;
}

/** Creates the default persona of every user of a pending row in `range` who has none; returns how many. */
async function inferDefaults(trx: Knex.Transaction, table: string, range: string): Promise<number> {
  const users: { user_id: string; username: string; slug: string; tenant_id: string; etl_run_id: string; etl_source: string; etl_locator: string }[] = (
    await trx.raw(
      `select distinct u.id as user_id, u.username, tn.slug, u.tenant_id, u.etl_run_id, u.etl_source, u.etl_locator
       from ${table} t join users u on u.id = t.user_id join tenants tn on tn.id = u.tenant_id
       where ${range} and t.persona_id is null
         and not exists (select 1 from user_personas p where p.user_id = t.user_id and p.is_default)`,
    )
  ).rows;
  if (users.length === 0) return 0;
  const rows = users.map((u) => ({
    id: personaRowId(u.slug, u.username),
    tenant_id: u.tenant_id,
    user_id: u.user_id,
    name: u.username,
    is_default: true,
    inferred: true,
    etl_run_id: u.etl_run_id,
    etl_source: u.etl_source,
    etl_locator: u.etl_locator,
  }));
  const created = await trx('user_personas').insert(rows).onConflict('id').ignore().returning('id');
  return created.length;
}

function step(table: 'conversations' | 'messages'): BackfillStep {
  // A message takes its conversation's persona when the conversation has one of this user's; else the user's default.
  const fromConversation =
    table === 'messages'
      ? `(select c.persona_id from conversations c join user_personas cp on cp.id = c.persona_id where c.id = t.conversation_id and cp.user_id = t.user_id)`
      : 'null';
  return {
    name: table,
    table,
    pending: 't.persona_id is null',
    async fill(trx, range) {
      const inferred = await inferDefaults(trx, table, range);
      const res = await trx.raw(
        `update ${table} t set persona_id = coalesce(${fromConversation}, p.id)
         from user_personas p where p.user_id = t.user_id and p.is_default and ${range} and t.persona_id is null`,
      );
      return { rows: res.rowCount ?? 0, inferred };
    },
  };
}

const sample = (label: string) => `array(select ${label} from v limit 5)`;

export const personaSegmentation: Change = {
  name: '20261201_101_persona_segmentation',
  summary: 'conversations and messages carry the persona the user speaks as (user_personas)',
  async expand(knex) {
    const ddl: Ddl[] = [
      `create table if not exists user_personas (
        id uuid primary key,
        tenant_id uuid not null references tenants (id),
        user_id uuid not null references users (id),
        name text not null,
        is_default boolean not null default false,
        inferred boolean not null default false,
        etl_run_id uuid not null,
        etl_source text not null,
        etl_locator text not null,
        constraint user_personas_user_id_name_unique unique (user_id, name))`,
      // One default per user; also the index the backfill finds a user's default by.
      'create unique index if not exists user_personas_one_default on user_personas (user_id) where is_default',
      'alter table conversations add column if not exists persona_id uuid',
      'alter table messages add column if not exists persona_id uuid',
      // NOT VALID: enforced for rows written from now on, the existing ones are checked at contract.
      addConstraint('conversations', 'conversations_persona_id_foreign', 'foreign key (persona_id) references user_personas (id) not valid'),
    ];
    if (await messagesHaveForeignKeys(knex)) ddl.push(addConstraint('messages', 'messages_persona_id_foreign', 'foreign key (persona_id) references user_personas (id) not valid'));
    // A user's history per persona; replaces the index on user_id alone, dropped at contract.
    ddl.push({ concurrentIndex: 'conversations_user_id_persona_id_index', sql: 'create index concurrently if not exists conversations_user_id_persona_id_index on conversations (user_id, persona_id)' });
    return ddl;
  },
  backfill: [step('conversations'), step('messages')],
  checks: [
    {
      name: 'no conversation or message without a persona',
      sql: `with v as (select 'conversation ' || id as l from conversations where persona_id is null union all select 'message ' || id from messages where persona_id is null)
            select count(*)::bigint as n, ${sample('l')} as sample from v`,
      sentence: (n, s) => `${n} conversations or messages have no persona_id (e.g. ${s.join(', ')}); run \`etl migrate\` again to finish the backfill`,
    },
    {
      name: 'every persona_id names a persona of the row’s user',
      sql: `with v as (
              select 'conversation ' || t.id as l from conversations t left join user_personas p on p.id = t.persona_id where t.persona_id is not null and (p.id is null or p.user_id <> t.user_id)
              union all
              select 'message ' || t.id from messages t left join user_personas p on p.id = t.persona_id where t.persona_id is not null and (p.id is null or p.user_id <> t.user_id))
            select count(*)::bigint as n, ${sample('l')} as sample from v`,
      sentence: (n, s) => `${n} conversations or messages name a persona that does not exist or belongs to another user (e.g. ${s.join(', ')})`,
    },
    {
      name: 'the messages of a conversation speak as its persona',
      sql: `with v as (select distinct 'conversation ' || c.id as l from conversations c join messages m on m.conversation_id = c.id
                       where m.persona_id is distinct from c.persona_id and m.user_id = c.user_id)
            select count(*)::bigint as n, ${sample('l')} as sample from v`,
      sentence: (n, s) => `${n} conversations have messages of their owner that disagree with the conversation on the persona (e.g. ${s.join(', ')})`,
    },
  ],
  async contract(knex) {
    const ddl: Ddl[] = [
      'alter table conversations validate constraint conversations_persona_id_foreign',
      ...setNotNull('conversations', 'persona_id'),
      ...setNotNull('messages', 'persona_id'),
      'drop index if exists conversations_user_id_index',
    ];
    if (await messagesHaveForeignKeys(knex)) ddl.splice(1, 0, 'alter table messages validate constraint messages_persona_id_foreign');
    return ddl;
  },
  rollback: [
    'alter table messages drop constraint if exists messages_persona_id_foreign',
    'alter table conversations drop constraint if exists conversations_persona_id_foreign',
    'drop index if exists conversations_user_id_persona_id_index',
    'alter table messages drop column if exists persona_id',
    'alter table conversations drop column if exists persona_id',
    'drop table if exists user_personas',
    // What contract dropped, when a contracted change is undone on empty tables (a no-op before contract).
    'create index if not exists conversations_user_id_index on conversations (user_id)',
  ],
  irreversible:
    'its contract step dropped conversations_user_id_index and made persona_id required, and loads have since written rows and personas that exist only in the new shape (nothing records which personas the backfill inferred and which a load created): the state a rollback would restore is gone',
};
