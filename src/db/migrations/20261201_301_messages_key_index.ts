import type { Knex } from 'knex';

/**
 * A message's id is the UUIDv5 of its tenant and content key (src/normalize/ids.ts), so the primary
 * key already makes (tenant_id, content_key) unique: the second unique index only doubled the index
 * work of every message written (about 90 bytes a row, random inserts). Dropped; ids do not change.
 * An application target's canonical messages never had it (loaders/projection.ts).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw('alter table messages drop constraint if exists messages_tenant_id_content_key_unique');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('alter table messages add constraint messages_tenant_id_content_key_unique unique (tenant_id, content_key)');
}
