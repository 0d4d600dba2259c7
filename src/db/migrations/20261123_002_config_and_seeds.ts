import type { Knex } from 'knex';

/**
 * Config and seed data: Mul-in-One personas and API profiles (etl run yaml-personas), the ITL
 * catalog (etl run json-seeds: LLM models, base tools, agents, tools, their links, tenant
 * permissions), plus the tenant and user columns those sources carry. Ids are UUIDv5 of natural
 * keys as everywhere; catalog tables are global (no tenant_id), as in the ITL schema.
 */
function etlColumns(t: Knex.CreateTableBuilder): void {
  t.uuid('etl_run_id').notNullable();
  t.text('etl_source').notNullable();
  t.text('etl_locator').notNullable();
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('tenants', (t) => {
    t.text('domain');
    t.text('status');
  });
  await knex.schema.alterTable('users', (t) => {
    t.text('role');
  });

  await knex.schema.createTable('api_profiles', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.text('name').notNullable();
    t.text('base_url').notNullable();
    t.text('model').notNullable();
    // Fernet token (or, only with --allow-plaintext-keys, the key itself: api_key_encrypted = false).
    t.text('api_key_cipher');
    t.boolean('api_key_encrypted').notNullable().defaultTo(true);
    // HMAC-SHA256 of the key under the signing half of the Fernet key: tells a changed key from a rerun.
    t.text('api_key_fingerprint');
    t.double('temperature');
    t.boolean('is_default').notNullable().defaultTo(false);
    etlColumns(t);
    t.unique(['tenant_id', 'name']);
  });

  await knex.schema.createTable('personas', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.text('name').notNullable();
    t.text('handle').notNullable();
    t.text('prompt').notNullable();
    t.text('tone').notNullable();
    t.double('proactivity').notNullable();
    // NULL = unlimited (the legacy files say -1)
    t.integer('memory_window');
    t.integer('max_agents_per_turn');
    t.uuid('api_profile_id').references('id').inTable('api_profiles');
    t.text('api_binding');
    t.jsonb('catchphrases').notNullable().defaultTo('[]');
    t.text('background');
    t.jsonb('background_options');
    etlColumns(t);
    t.unique(['tenant_id', 'handle']);
  });
  await knex.raw('alter table personas add constraint personas_proactivity_check check (proactivity between 0 and 1)');

  await knex.schema.createTable('llm_models', (t) => {
    t.uuid('id').primary();
    t.text('model_key').notNullable().unique();
    t.text('provider').notNullable();
    t.text('model_name').notNullable();
    t.text('display_name');
    t.text('description');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('supports_vision');
    t.boolean('supports_function_calling');
    t.integer('context_window');
    t.decimal('input_cost_per_1m_tokens', 14, 6);
    t.decimal('output_cost_per_1m_tokens', 14, 6);
    etlColumns(t);
  });

  await knex.schema.createTable('base_tools', (t) => {
    t.uuid('id').primary();
    t.text('tool_key').notNullable().unique();
    t.text('name').notNullable();
    t.text('category');
    t.text('description');
    t.text('tool_type').notNullable();
    t.boolean('is_active').notNullable().defaultTo(true);
    etlColumns(t);
  });

  await knex.schema.createTable('agents', (t) => {
    t.uuid('id').primary();
    t.text('agent_key').notNullable().unique();
    t.text('name').notNullable();
    t.text('description');
    t.text('agent_type');
    t.text('prompt_template').notNullable();
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('is_system').notNullable().defaultTo(false);
    etlColumns(t);
  });

  await knex.schema.createTable('tools', (t) => {
    t.uuid('id').primary();
    t.text('tool_key').notNullable().unique();
    t.uuid('base_tool_id').notNullable().references('id').inTable('base_tools');
    t.text('name').notNullable();
    t.text('description');
    t.text('tool_type').notNullable();
    t.boolean('is_active').notNullable().defaultTo(true);
    t.jsonb('input_schema').notNullable();
    t.jsonb('config').notNullable();
    etlColumns(t);
  });

  await knex.schema.createTable('agent_tools', (t) => {
    t.uuid('id').primary();
    t.uuid('agent_id').notNullable().references('id').inTable('agents');
    t.uuid('tool_id').notNullable().references('id').inTable('tools');
    t.integer('priority').notNullable();
    etlColumns(t);
    t.unique(['agent_id', 'tool_id']);
    t.index(['agent_id', 'priority']);
  });

  await knex.schema.createTable('tenant_agents', (t) => {
    t.uuid('id').primary();
    t.uuid('tenant_id').notNullable().references('id').inTable('tenants');
    t.uuid('agent_id').notNullable().references('id').inTable('agents');
    t.boolean('enabled').notNullable();
    etlColumns(t);
    t.unique(['tenant_id', 'agent_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  for (const table of ['tenant_agents', 'agent_tools', 'tools', 'agents', 'base_tools', 'llm_models', 'personas', 'api_profiles']) {
    await knex.schema.dropTableIfExists(table);
  }
  await knex.schema.alterTable('users', (t) => t.dropColumn('role'));
  await knex.schema.alterTable('tenants', (t) => {
    t.dropColumn('domain');
    t.dropColumn('status');
  });
}
