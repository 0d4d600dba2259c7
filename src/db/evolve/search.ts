/**
 * Full-text search over message text: `messages.search_vector`, kept by a trigger (a generated
 * column would rewrite the loaded table under an exclusive lock, and cannot read the tenant's
 * configuration), searched through a GIN index. Each tenant has its text search configuration in
 * `tenant_search_configs` (`--fts-config`, default `simple`); the trigger and the backfill read it.
 *
 * The GIN index is built at contract, after the backfill: maintaining it through a million
 * updates costs far more than building it once over the filled column.
 */
import type { Change } from './change';
import { setNotNull } from './ddl';

/** The configuration of the tenant of message `m`, `simple` when none is recorded. */
export const tenantConfig = (m: string): string => `coalesce((select c.config from tenant_search_configs c where c.tenant_id = ${m}.tenant_id), 'simple'::regconfig)`;

export const fullTextSearch: Change = {
  name: '20261201_102_message_search',
  summary: 'messages.search_vector (tsvector by a trigger, per-tenant configuration) with a GIN index',
  async expand() {
    return [
      'create table if not exists tenant_search_configs (tenant_id uuid primary key, config regconfig not null)',
      'alter table messages add column if not exists search_vector tsvector',
      // SET search_path FROM CURRENT: the function finds tenant_search_configs in etl's schema, whichever connection writes.
      `create or replace function etl_message_search_vector() returns trigger language plpgsql set search_path from current as $$
       begin
         new.search_vector := to_tsvector(${tenantConfig('new')}, new.content);
         return new;
       end $$`,
      `do $$ begin
         if not exists (select 1 from pg_trigger where tgname = 'messages_search_vector' and tgrelid = to_regclass('messages')) then
           create trigger messages_search_vector before insert or update of content, tenant_id on messages
             for each row execute function etl_message_search_vector();
         end if;
       end $$`,
    ];
  },
  backfill: [
    {
      name: 'messages',
      table: 'messages',
      pending: 't.search_vector is null',
      async fill(trx, range) {
        const res = await trx.raw(`update messages t set search_vector = to_tsvector(${tenantConfig('t')}, t.content) where ${range} and t.search_vector is null`);
        return { rows: res.rowCount ?? 0, inferred: 0 };
      },
    },
  ],
  checks: [
    {
      name: 'every message has a search vector',
      sql: `with v as (select id::text as l from messages where search_vector is null) select count(*)::bigint as n, array(select l from v limit 5) as sample from v`,
      sentence: (n, s) => `${n} messages have no search_vector (e.g. ${s.join(', ')}); run \`etl migrate\` again to finish the backfill`,
    },
    {
      name: 'every message with text has a non-empty search vector',
      // Text here is what the tenant's configuration finds words in (a message of stop words or emoji has none).
      sql: `with v as (select m.id::text as l from messages m where m.search_vector = ''::tsvector and to_tsvector(${tenantConfig('m')}, m.content) <> ''::tsvector)
            select count(*)::bigint as n, array(select l from v limit 5) as sample from v`,
      sentence: (n, s) => `${n} messages have words but an empty search_vector (e.g. ${s.join(', ')})`,
    },
  ],
  async contract() {
    return [
      // The writer stages rows in a copy of the table (LIKE … INCLUDING DEFAULTS, which keeps NOT NULL)
      // without this column: the default lets them stage; the trigger sets every inserted row's vector.
      // The default comes first, so that no batch staged between the two statements meets NOT NULL without it.
      "alter table messages alter column search_vector set default ''::tsvector",
      ...setNotNull('messages', 'search_vector'),
      { concurrentIndex: 'messages_search_vector_index', sql: 'create index concurrently if not exists messages_search_vector_index on messages using gin (search_vector)' },
    ];
  },
  rollback: [
    'drop index if exists messages_search_vector_index',
    'drop trigger if exists messages_search_vector on messages',
    'drop function if exists etl_message_search_vector()',
    'alter table messages drop column if exists search_vector',
    'drop table if exists tenant_search_configs',
  ],
  irreversible:
    'its contract step made search_vector required and built the search index, and loads have since written messages that exist only in the new shape (nothing records which messages were there before the change): the state a rollback would restore is gone',
};
