import type { Knex } from 'knex';

/**
 * What `etl rollback --run ID` needs: the values a run overwrote (one entry per row it changed, the
 * row as it was before the run's first change to it), and the `rolled_back` state. Rows a run
 * inserted are the rows whose etl_run_id it is.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('etl_undo', (t) => {
    t.uuid('run_id').notNullable().references('id').inTable('etl_runs').onDelete('CASCADE');
    t.text('tbl').notNullable();
    t.uuid('id').notNullable();
    t.jsonb('old').notNullable();
    t.primary(['run_id', 'tbl', 'id']);
    t.index(['tbl', 'id']);
  });
  await knex.raw('alter table etl_runs drop constraint etl_runs_state_check');
  await knex.raw("alter table etl_runs add constraint etl_runs_state_check check (state in ('running', 'failed', 'done', 'rolled_back'))");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("delete from etl_runs where state = 'rolled_back'");
  await knex.raw('alter table etl_runs drop constraint etl_runs_state_check');
  await knex.raw("alter table etl_runs add constraint etl_runs_state_check check (state in ('running', 'failed', 'done'))");
  await knex.schema.dropTableIfExists('etl_undo');
}
