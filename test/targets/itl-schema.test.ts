/**
 * `etl migrate --target itl` creates ITL's schema at its Alembic head (8a1c0e5f9d2b) as the app's
 * reachable migration chain leaves it (the lists below are written from the migrations,
 * independently of loaders/itl/ddl.ts), and a run refuses a passphrase for FERNET_KEY, records ITL
 * has no table for, a schema that differs and rows etl did not write, with exit 2.
 */
import fs from 'node:fs';
import path from 'node:path';
import { publicCatalog, tableCount } from '../support/catalog';
import { expectRefused, runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { seedFolder } from '../support/seed-folder';

const TS = (c: string) => `${c} timestamp not null`;
const COLUMNS: Record<string, string[]> = {
  agent_configs: ['agent_id uuid not null', 'name varchar(100) not null', 'prompt_template text not null', 'llm_model_id uuid not null', 'default_output_format_id uuid', 'description text', 'handler_class varchar(255)', 'is_active bool not null', TS('created_at'), TS('updated_at')],
  agent_tools: ['agent_id uuid not null', 'tool_id uuid not null', 'priority int4 not null', TS('created_at')],
  alembic_version: ['version_num varchar(32) not null'],
  base_tools: ['base_tool_id uuid not null', 'type varchar(50) not null', 'handler_class varchar(255) not null', 'description text', 'default_config_schema jsonb', TS('created_at')],
  chat_users: ['user_id uuid not null', 'tenant_id uuid not null', 'email varchar(255) not null', 'username varchar(255) not null', 'department varchar(255)', 'created_at timestamp not null default now()', 'last_active timestamp not null default now()'],
  llm_models: ['llm_model_id uuid not null', 'provider varchar(50) not null', 'model_name varchar(100) not null', 'context_window int4 not null', 'cost_per_1k_input_tokens numeric not null', 'cost_per_1k_output_tokens numeric not null', 'is_active bool not null', 'capabilities jsonb', TS('created_at')],
  messages: ['message_id uuid not null', 'session_id uuid not null', 'role varchar(50) not null', 'content text not null', 'timestamp timestamp not null', 'metadata jsonb', 'sender_user_id uuid'],
  output_formats: ['format_id uuid not null', 'name varchar(100) not null', 'schema jsonb', 'renderer_hint jsonb', 'description text', TS('created_at')],
  sessions: [
    'session_id uuid not null', 'tenant_id uuid not null', 'agent_id uuid', 'thread_id varchar(500)', TS('created_at'), TS('last_message_at'), 'metadata jsonb',
    'escalation_status varchar(50)', 'escalation_reason varchar(500)', 'escalation_requested_at timestamp', 'escalation_assigned_at timestamp', 'assigned_user_id uuid', 'user_id uuid not null',
  ],
  tenant_agent_permissions: ['tenant_id uuid not null', 'agent_id uuid not null', 'enabled bool not null', 'output_override_id uuid', TS('created_at'), TS('updated_at')],
  tenant_llm_configs: ['config_id uuid not null', 'tenant_id uuid not null', 'llm_model_id uuid not null', 'encrypted_api_key text not null', 'rate_limit_rpm int4', 'rate_limit_tpm int4', TS('created_at'), TS('updated_at')],
  tenant_tool_permissions: ['tenant_id uuid not null', 'tool_id uuid not null', 'enabled bool not null', TS('created_at')],
  tenant_widget_configs: [
    'config_id uuid not null', 'tenant_id uuid not null', 'widget_key varchar(64) not null', 'widget_secret varchar(255) not null', 'theme varchar(20)', 'primary_color varchar(7)', 'position varchar(20)', 'custom_css text', 'auto_open bool',
    'welcome_message text', 'placeholder_text varchar(255)', 'allowed_domains jsonb', 'max_session_duration int4', 'rate_limit_per_minute int4', 'enable_file_upload bool', 'enable_voice_input bool', 'enable_conversation_history bool',
    'embed_script_url varchar(500)', 'embed_code_snippet text', TS('created_at'), TS('updated_at'), 'last_regenerated_at timestamp',
  ],
  tenants: ['tenant_id uuid not null', 'name varchar(255) not null', 'domain varchar(255)', 'status varchar(50) not null', TS('created_at'), TS('updated_at')],
  tool_configs: ['tool_id uuid not null', 'name varchar(100) not null', 'base_tool_id uuid not null', 'config jsonb not null', 'input_schema jsonb not null', 'output_format_id uuid', 'description text', 'is_active bool not null', TS('created_at'), TS('updated_at')],
  users: [
    'user_id uuid not null', 'tenant_id uuid not null', 'email varchar(255) not null', 'username varchar(255) not null', 'password_hash varchar(255) not null', 'role varchar(50) not null', 'display_name varchar(255)', 'status varchar(50)',
    'created_by uuid', TS('created_at'), TS('updated_at'), 'last_login timestamp', "supporter_status varchar(50) default 'offline'::character varying", 'max_concurrent_sessions int4 default 5', 'current_sessions_count int4 default 0',
  ],
};

const INDEXES: Record<string, string> = {
  agent_configs_name_key: 'unique agent_configs(name) btree',
  agent_configs_pkey: 'unique agent_configs(agent_id) btree',
  agent_tools_pkey: 'unique agent_tools(agent_id, tool_id) btree',
  alembic_version_pkc: 'unique alembic_version(version_num) btree',
  base_tools_pkey: 'unique base_tools(base_tool_id) btree',
  base_tools_type_key: 'unique base_tools(type) btree',
  ix_agent_configs_is_active: 'agent_configs(is_active) btree',
  ix_agent_tools_agent_priority: 'agent_tools(agent_id, priority) btree',
  ix_chat_users_tenant_email: 'chat_users(tenant_id, email) btree',
  ix_chat_users_tenant_id: 'chat_users(tenant_id) btree',
  ix_llm_models_is_active: 'llm_models(is_active) btree',
  ix_llm_models_provider_model: 'llm_models(provider, model_name) btree',
  ix_messages_session_timestamp: 'messages(session_id, timestamp) btree',
  ix_sessions_assigned_user: 'sessions(tenant_id, assigned_user_id) btree',
  ix_sessions_escalation: 'sessions(tenant_id, escalation_status) btree',
  ix_sessions_last_message_at: 'sessions(last_message_at) btree',
  ix_sessions_tenant_user: 'sessions(tenant_id, user_id, created_at) btree',
  ix_tenant_agent_permissions_enabled: 'tenant_agent_permissions(enabled) btree',
  ix_tenant_llm_configs_llm_model_id: 'tenant_llm_configs(llm_model_id) btree',
  ix_tenant_tool_permissions_enabled: 'tenant_tool_permissions(enabled) btree',
  ix_tenant_widget_configs_widget_key: 'unique tenant_widget_configs(widget_key) btree',
  ix_tenants_status: 'tenants(status) btree',
  ix_tool_configs_base_tool_id: 'tool_configs(base_tool_id) btree',
  ix_tool_configs_is_active: 'tool_configs(is_active) btree',
  ix_users_role: 'users(role) btree',
  ix_users_tenant_email: 'users(tenant_id, email) btree',
  llm_models_pkey: 'unique llm_models(llm_model_id) btree',
  messages_pkey: 'unique messages(message_id) btree',
  output_formats_name_key: 'unique output_formats(name) btree',
  output_formats_pkey: 'unique output_formats(format_id) btree',
  pk_chat_users: 'unique chat_users(user_id) btree',
  sessions_pkey: 'unique sessions(session_id) btree',
  tenant_agent_permissions_pkey: 'unique tenant_agent_permissions(tenant_id, agent_id) btree',
  tenant_llm_configs_pkey: 'unique tenant_llm_configs(config_id) btree',
  tenant_llm_configs_tenant_id_key: 'unique tenant_llm_configs(tenant_id) btree',
  tenant_tool_permissions_pkey: 'unique tenant_tool_permissions(tenant_id, tool_id) btree',
  tenant_widget_configs_pkey: 'unique tenant_widget_configs(config_id) btree',
  tenant_widget_configs_tenant_id_key: 'unique tenant_widget_configs(tenant_id) btree',
  tenants_domain_key: 'unique tenants(domain) btree',
  tenants_pkey: 'unique tenants(tenant_id) btree',
  tool_configs_pkey: 'unique tool_configs(tool_id) btree',
  uq_chat_users_tenant_email: 'unique chat_users(tenant_id, email) btree',
  uq_tenant_email: 'unique users(tenant_id, email) btree',
  users_pkey: 'unique users(user_id) btree',
};

// No foreign key of ITL's has ON DELETE ('a').
const FOREIGN_KEYS = [
  'agent_configs(default_output_format_id) → output_formats(format_id) a',
  'agent_configs(llm_model_id) → llm_models(llm_model_id) a',
  'agent_tools(agent_id) → agent_configs(agent_id) a',
  'agent_tools(tool_id) → tool_configs(tool_id) a',
  'chat_users(tenant_id) → tenants(tenant_id) a',
  'messages(sender_user_id) → users(user_id) a',
  'messages(session_id) → sessions(session_id) a',
  'sessions(agent_id) → agent_configs(agent_id) a',
  'sessions(assigned_user_id) → users(user_id) a',
  'sessions(tenant_id) → tenants(tenant_id) a',
  'sessions(user_id) → chat_users(user_id) a',
  'tenant_agent_permissions(agent_id) → agent_configs(agent_id) a',
  'tenant_agent_permissions(output_override_id) → output_formats(format_id) a',
  'tenant_agent_permissions(tenant_id) → tenants(tenant_id) a',
  'tenant_llm_configs(llm_model_id) → llm_models(llm_model_id) a',
  'tenant_llm_configs(tenant_id) → tenants(tenant_id) a',
  'tenant_tool_permissions(tenant_id) → tenants(tenant_id) a',
  'tenant_tool_permissions(tool_id) → tool_configs(tool_id) a',
  'tenant_widget_configs(tenant_id) → tenants(tenant_id) a',
  'tool_configs(base_tool_id) → base_tools(base_tool_id) a',
  'tool_configs(output_format_id) → output_formats(format_id) a',
  'users(created_by) → users(user_id) a',
  'users(tenant_id) → tenants(tenant_id) a',
];

const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJ8GNeRNeA4ZUVY=';
const VERSIONS = path.resolve(__dirname, '../../fixtures/seed-versions');

describe('etl migrate --target itl', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test("creates exactly the schema of ITL's Alembic head, with its alembic_version row", async () => {
    const r = await runEtl(['migrate', '--target', 'itl'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^applied: ITL schema \(Alembic revision 8a1c0e5f9d2b\)/);
    const c = await publicCatalog(db.knex);
    expect(c.columns).toEqual(COLUMNS);
    expect(c.indexes).toEqual(INDEXES);
    expect(c.fks).toEqual(FOREIGN_KEYS);
    expect((await db.knex.raw('select version_num from public.alembic_version')).rows).toEqual([{ version_num: '8a1c0e5f9d2b' }]);
  });
});

describe('--target itl refuses, with exit 2 and nothing written', () => {
  let db: FreshDatabase;
  let folder: string;
  beforeAll(() => (folder = seedFolder(VERSIONS, 'v1')));
  afterAll(() => fs.rmSync(folder, { recursive: true, force: true }));
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  const tables = () => tableCount(db.knex);
  const refused = (args: string[], env: Record<string, string>, message: RegExp) => expectRefused(db.url, args, env, message);

  test('a passphrase as FERNET_KEY, a seed folder with documents ITL has no table for', async () => {
    await refused(['run', 'json-seeds', folder, '--target', 'itl'], { FERNET_KEY: 'a passphrase is not a key' }, /FERNET_KEY must be ITL's FERNET_KEY, 44 characters/);
    await refused(['run', 'json-seeds', 'fixtures/seeds', '--target', 'itl'], { FERNET_KEY }, /--target itl has no table for documents/);
    expect(await tables()).toBe(0);
  });

  test("a schema that differs from ITL's as etl knows it; rows ITL's own seed scripts wrote", async () => {
    await runEtl(['migrate', '--target', 'itl'], { env: { DATABASE_URL: db.url } });
    await db.knex.raw('alter table public.agent_configs alter column name type varchar(50)');
    await refused(['run', 'json-seeds', folder, '--target', 'itl'], { FERNET_KEY }, /public\.agent_configs\.name holds 50 characters, etl writes up to 100/);
    await db.knex.raw('alter table public.agent_configs alter column name type varchar(100)');
    await db.knex.raw("insert into public.base_tools values (gen_random_uuid(), 'rag', 'tools.rag.RAGTool', null, null, '2025-11-05')");
    await refused(['run', 'json-seeds', folder, '--target', 'itl'], { FERNET_KEY }, /ITL's tables hold rows etl did not write \(1 in base_tools\)/);
    expect((await db.knex.raw('select count(*)::int as n from public.tenants')).rows[0].n).toBe(0);
  });

  test('--dry-run writes nothing and says what a run would do', async () => {
    const r = await runEtl(['run', 'json-seeds', folder, '--target', 'itl', '--dry-run'], { env: { DATABASE_URL: db.url, FERNET_KEY } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/agent_configs/);
    expect(await tables()).toBe(0);
  });
});
