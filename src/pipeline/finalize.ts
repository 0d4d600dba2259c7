import type { Knex } from 'knex';

/**
 * The conversations run `:run` touched: those it wrote, those of the messages it wrote, and those
 * its messages had before it changed or deleted them (their old rows are in etl_undo). Runs of the
 * tenant that never finished count as this one's: one killed before its own finalize left its
 * conversations uncounted.
 */
const TOUCHED = `c.id in (
  select id from conversations where tenant_id = :tenant and etl_run_id = any(cast(:runs as uuid[]))
  union select conversation_id from messages where tenant_id = :tenant and etl_run_id = any(cast(:runs as uuid[]))
  union select cast(old->>'conversation_id' as uuid) from etl_undo where run_id = any(cast(:runs as uuid[])) and tbl = 'messages')`;

/**
 * After the messages: every conversation's message_count is its real number of messages, and the
 * conversations etl created (inferred or imported history) take their dates from those messages
 * rather than from the clock. Guarded so a re-run rewrites nothing. With `touchedBy` (a delta
 * pass), only the conversations that run (or an unfinished one) touched are counted again: the
 * others cannot have changed, and counting them all cost a delta pass of 1,000,000 messages a second.
 */
export async function finalizeConversations(knex: Knex, tenantId: string, touchedBy?: string): Promise<number> {
  const runs = touchedBy
    ? (
        await knex.raw(`select id from etl_runs where id = ? or (tenant = (select slug from tenants where id = ?) and state not in ('done', 'rolled_back'))`, [touchedBy, tenantId])
      ).rows.map((r: { id: string }) => r.id)
    : [];
  const res = await knex.raw(
    `with x as (
       select c.id,
              cast(count(m.id) as int) as n,
              case when c.inferred or c.kind = 'imported_history' then min(m.created_at) else c.created_at end as first_at,
              case when c.inferred or c.kind = 'imported_history' then max(m.created_at) else c.updated_at end as last_at
       from conversations c left join messages m on m.conversation_id = c.id
       where c.tenant_id = :tenant and ${touchedBy ? TOUCHED : 'true'}
       group by c.id)
     update conversations c set message_count = x.n, created_at = x.first_at, updated_at = x.last_at
     from x
     where c.id = x.id and (c.message_count, c.created_at, c.updated_at) is distinct from (x.n, x.first_at, x.last_at)`,
    { tenant: tenantId, runs },
  );
  return res.rowCount ?? 0;
}
