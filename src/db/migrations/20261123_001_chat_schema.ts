import type { Knex } from 'knex';

/**
 * The chat part of the target schema. Primary keys are deterministic UUIDv5 of natural keys
 * (computed by etl, so no DB default); every loaded row records the run that first wrote it
 * (`etl_run_id`), the source file (`etl_source`, its sha256) and the record's locator, which is
 * how a rerun tells a replay of the same record from a duplicate of another one.
 */
const ROLE_CHECK = "role in ('user', 'assistant', 'system')";

function etlColumns(t: Knex.CreateTableBuilder): void {
  t.uuid('etl_run_id').notNullable();
  t.text('etl_source').notNullable();
  t.text('etl_locator').notNullable();
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('etl_runs', (t) => {
    t.uuid('id').primary();
    t.text('pipeline').notNullable();
    t.text('tenant').notNullable();
    t.jsonb('sources').notNullable();
    t.text('fingerprint').notNullable();
    t.text('state').notNullable();
    t.integer('attempts').notNullable().defaultTo(1);
    t.jsonb('options').notNullable().defaultTo('{}');
    t.jsonb('summary');
    t.text('error');
    t.timestamp('started_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('finished_at', { useTz: true });
    t.index(['pipeline', 'tenant', 'fingerprint']);
  });
  await knex.raw("alter table etl_runs add constraint etl_runs_state_check check (state in ('running', 'failed', 'done'))");

  await knex.schema.createTable('etl_checkpoints', (t) => {
    t.text('pipeline').notNullable();
    t.text('tenant').notNullable();
    t.text('fingerprint').notNullable();
    t.text('stream').notNullable();
    t.uuid('run_id').notNullable().references('id').inTable('etl_runs').onDelete('CASCADE');
    t.bigInteger('position').notNullable().defaultTo(0);
    t.boolean('done').notNullable().defaultTo(false);
    t.jsonb('counts').notNullable().defaultTo('{}');
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['pipeline', 'tenant', 'fingerprint', 'stream']);
  });

  await knex.schema.createTable('etl_rejects', (t) => {
    t.uuid('id').primary();
    t.uuid('run_id').notNullable().references('id').inTable('etl_runs').onDelete('CASCADE');
    t.text('stream').notNullable();
    t.text('outcome').notNullable();
    t.jsonb('locator').notNullable();
    t.text('reason_code').notNullable();
    t.text('message').notNullable();
    t.uuid('merged_into');
    t.jsonb('record');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['run_id', 'stream']);
  });
  await knex.raw("alter table etl_rejects add constraint etl_rejects_outcome_check check (outcome in ('rejected', 'merged', 'inferred', 'repaired'))");

  await knex.schema.createTable('tenants', (t) => {
    t.uuid('id').primary();
    t.text('slug').notNullable().unique();
    t.text('name').notNullable();
    t.timestamp('created_at', { useTz: true });
    etlColumns(t);
  });

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.text('username').notNullable();
    t.text('username_original').notNullable();
    t.text('email');
    t.text('password_hash');
    t.boolean('password_reset_required').notNullable();
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('inferred').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true });
    etlColumns(t);
    t.unique(['tenant_id', 'username']);
  });

  await knex.schema.createTable('conversations', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.text('kind').notNullable();
    t.text('legacy_id').notNullable();
    t.uuid('user_id').notNullable().references('id').inTable('users');
    t.text('title');
    t.integer('message_count').notNullable().defaultTo(0);
    t.integer('legacy_message_count');
    t.boolean('inferred').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true });
    etlColumns(t);
    t.unique(['tenant_id', 'kind', 'legacy_id']);
    t.index(['user_id']);
  });
  await knex.raw("alter table conversations add constraint conversations_kind_check check (kind in ('legacy', 'imported_history'))");

  await knex.schema.createTable('messages', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.uuid('conversation_id').notNullable().references('id').inTable('conversations');
    t.uuid('user_id').notNullable().references('id').inTable('users');
    t.text('content_key').notNullable();
    t.text('legacy_message_id');
    t.text('role').notNullable();
    t.text('content').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable();
    etlColumns(t);
    t.unique(['tenant_id', 'content_key']);
    t.index(['conversation_id', 'created_at']);
  });
  await knex.raw(`alter table messages add constraint messages_role_check check (${ROLE_CHECK})`);

  await knex.schema.createTable('auth_sessions', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.uuid('user_id').notNullable().references('id').inTable('users');
    t.text('access_jti').notNullable();
    t.text('active_conversation_legacy_id');
    t.jsonb('metadata').notNullable().defaultTo('{}');
    t.timestamp('created_at', { useTz: true });
    t.timestamp('last_activity', { useTz: true });
    etlColumns(t);
    t.unique(['tenant_id', 'access_jti']);
  });

  await knex.schema.createTable('documents', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.text('doc_type').notNullable();
    t.text('content_hash').notNullable();
    t.jsonb('body').notNullable();
    etlColumns(t);
    t.unique(['tenant_id', 'content_hash']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['documents', 'auth_sessions', 'messages', 'conversations', 'users', 'tenants', 'etl_rejects', 'etl_checkpoints', 'etl_runs']) {
    await knex.schema.dropTableIfExists(table);
  }
}
