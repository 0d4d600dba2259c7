/**
 * `--fts-config`: the text search configuration of a tenant's messages (default `simple`), recorded
 * in `tenant_search_configs`, which the trigger and the backfill read. A tenant whose messages are
 * already indexed keeps its configuration: another one would leave two kinds of vectors.
 */
import type { Knex } from 'knex';
import type { Target } from '../../../loaders/target';
import { EtlError } from '../../errors';
import { tenantId } from '../../normalize/ids';

export async function recordSearchConfig(knex: Knex, tenant: string, config: string): Promise<void> {
  const known = (await knex.raw('select c.oid::regconfig::text as c from pg_ts_config c where c.cfgname = ? and pg_ts_config_is_visible(c.oid)', [config])).rows[0]?.c as string | undefined;
  if (known === undefined) {
    const names = (await knex.raw('select cfgname from pg_ts_config where pg_ts_config_is_visible(oid) order by cfgname')).rows.map((r: { cfgname: string }) => r.cfgname);
    throw new EtlError('USAGE', `--fts-config ${config} is not a text search configuration of this PostgreSQL; use one of ${names.join(', ')}.`);
  }
  const id = tenantId(tenant);
  const current = (await knex.raw('select config::text as c from tenant_search_configs where tenant_id = ?', [id])).rows[0]?.c as string | undefined;
  if (current === known) return;
  const indexed = (await knex.raw('select exists (select 1 from messages where tenant_id = ? and search_vector is not null) as x', [id])).rows[0].x;
  if (indexed) {
    throw new EtlError('USAGE', `Tenant ${tenant}'s messages are indexed for search with the configuration ${current ?? 'simple'}; run without --fts-config (or with --fts-config ${current ?? 'simple'}), or load the tenant into a new target to index it with ${known}.`);
  }
  await knex.raw('insert into tenant_search_configs (tenant_id, config) values (?, ?::regconfig) on conflict (tenant_id) do update set config = excluded.config', [id, known]);
}

/** The target, recording the tenant's search configuration once its schema is prepared (before any row is written). */
export function withSearchConfig(target: Target, tenant: string, config: string | undefined): Target {
  if (config === undefined) return target;
  return {
    ...target,
    schema: {
      async prepare(knex, record, log) {
        const applied = await target.schema.prepare(knex, record, log);
        await recordSearchConfig(knex, tenant, config);
        return applied;
      },
    },
  };
}
