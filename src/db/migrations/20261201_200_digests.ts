import type { Knex } from 'knex';

/**
 * Delta passes (src/pipeline/delta/): `etl_digest_sets` names, per stream of a source (pipeline,
 * tenant, file path, stream), the table `etl_digest_<id>` holding one digest per record of the last
 * complete pass (`current`), of the one before it (`superseded`, what `etl rollback` of the last
 * pass goes back to) or of the pass in progress (`building`). `disappeared` is the outcome of
 * a record the source no longer has.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('etl_digest_sets', (t) => {
    t.increments('id').primary();
    t.text('pipeline').notNullable();
    t.text('tenant').notNullable();
    t.text('path').notNullable();
    t.text('stream').notNullable();
    t.text('tbl').notNullable();
    /** Everything besides the record that changes its row: a different key makes every record changed. */
    t.text('options').notNullable();
    t.uuid('run_id').notNullable().references('id').inTable('etl_runs').onDelete('CASCADE');
    t.text('state').notNullable();
    /** The sha256 of every version of the file this lineage's rows came from (their etl_source). */
    t.specificType('sources', 'text[]').notNullable();
    /** The file and table of the records' locators, for reporting a record that disappeared. */
    t.jsonb('locator');
  });
  await knex.raw("alter table etl_digest_sets add constraint etl_digest_sets_state_check check (state in ('building', 'current', 'superseded'))");
  await knex.raw("create unique index etl_digest_sets_current on etl_digest_sets (pipeline, tenant, path, stream) where state = 'current'");
  await knex.raw("create unique index etl_digest_sets_building on etl_digest_sets (run_id, stream) where state = 'building'");
  await knex.raw('alter table etl_rejects drop constraint etl_rejects_outcome_check');
  await knex.raw("alter table etl_rejects add constraint etl_rejects_outcome_check check (outcome in ('rejected', 'merged', 'inferred', 'repaired', 'disappeared'))");
}

export async function down(knex: Knex): Promise<void> {
  for (const { id } of (await knex('etl_digest_sets').select('id')) as { id: number }[]) await knex.raw(`drop table if exists etl_digest_${id}`);
  await knex.schema.dropTableIfExists('etl_digest_sets');
  await knex.raw("delete from etl_rejects where outcome = 'disappeared'");
  await knex.raw('alter table etl_rejects drop constraint etl_rejects_outcome_check');
  await knex.raw("alter table etl_rejects add constraint etl_rejects_outcome_check check (outcome in ('rejected', 'merged', 'inferred', 'repaired'))");
}
