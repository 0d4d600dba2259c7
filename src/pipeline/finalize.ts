import type { Knex } from 'knex';

/**
 * After the messages: every conversation's message_count is its real number of messages, and the
 * conversations etl created (inferred or imported history) take their dates from those messages
 * rather than from the clock. Guarded so a re-run rewrites nothing.
 */
export async function finalizeConversations(knex: Knex, tenantId: string): Promise<number> {
  const res = await knex.raw(
    `with x as (
       select c.id,
              count(m.id)::int as n,
              case when c.inferred or c.kind = 'imported_history' then min(m.created_at) else c.created_at end as first_at,
              case when c.inferred or c.kind = 'imported_history' then max(m.created_at) else c.updated_at end as last_at
       from conversations c left join messages m on m.conversation_id = c.id
       where c.tenant_id = ?
       group by c.id)
     update conversations c set message_count = x.n, created_at = x.first_at, updated_at = x.last_at
     from x
     where c.id = x.id and (c.message_count, c.created_at, c.updated_at) is distinct from (x.n, x.first_at, x.last_at)`,
    [tenantId],
  );
  return res.rowCount ?? 0;
}
