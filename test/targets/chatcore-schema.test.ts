/**
 * `etl migrate --target chatcore` on an empty database creates ChatCore's schema exactly as its Alembic
 * revision 18373129a302 does (shared/research/seed-formats.md §3, app-targets.md §1): the catalog is
 * compared with that list, written out here independently of loaders/chatcore/ddl.ts.
 */
import type { Knex } from 'knex';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';

const COLUMNS: Record<string, string[]> = {
  users: [
    'username varchar(50) not null',
    'email varchar(255)',
    'is_active bool not null',
    'is_admin bool not null',
    "id int4 not null default nextval('users_id_seq'::regclass)",
    'password_hash varchar(255) not null',
    'salt varchar(64) not null',
    'mfa_secret varchar(32)',
    'mfa_enabled bool not null',
    'theme varchar(20)',
    'persona varchar(50)',
    'language varchar(10)',
    'created_at timestamptz default now()',
    'updated_at timestamptz',
  ],
  conversations: [
    'title varchar(200) not null',
    'user_id int4 not null',
    "id int4 not null default nextval('conversations_id_seq'::regclass)",
    'conversation_id varchar(50) not null',
    'is_active bool not null',
    'message_count int4 not null',
    'created_at timestamptz default now()',
    'updated_at timestamptz',
  ],
  documents: [
    "id int4 not null default nextval('documents_id_seq'::regclass)",
    'doc_type doc_type_enum',
    'body jsonb',
    'file_name varchar(255)',
    'file_path varchar(500)',
    'file_size int4',
    'file_type varchar(50)',
    'mime_type varchar(100)',
    'uploaded_by int4',
    'department varchar(100)',
    'title varchar(500)',
    'summary varchar',
    'chunk_count int4',
    'created_at timestamptz default now()',
    'updated_at timestamptz',
  ],
  refresh_tokens: [
    "id int4 not null default nextval('refresh_tokens_id_seq'::regclass)",
    'token_hash varchar(255) not null',
    'user_id int4 not null',
    'issued_at timestamptz default now()',
    'expires_at timestamptz',
    'revoked bool not null',
    'parent_id int4',
  ],
  sessions: [
    "id int4 not null default nextval('sessions_id_seq'::regclass)",
    'user_id int4 not null',
    'access_jti varchar(255) not null',
    'user_agent varchar(500)',
    'ip_address varchar(50)',
    'created_at timestamptz default now()',
    'last_activity timestamptz default now()',
    'revoked bool not null',
  ],
  messages: [
    'role message_role_enum',
    'content text',
    'conversation_id int4 not null',
    'user_id int4 not null',
    "id int4 not null default nextval('messages_id_seq'::regclass)",
    'message_id varchar(50) not null',
    'created_at timestamptz default now()',
    'used_documents json',
    'token_count int4',
  ],
  alembic_version: ['version_num varchar(32) not null'],
};

/** index name → [unique, column, method] */
const INDEXES: Record<string, string> = {
  alembic_version_pkc: 'unique alembic_version(version_num) btree',
  users_pkey: 'unique users(id) btree',
  idx_users_username: 'unique users(username) btree',
  ix_users_username: 'unique users(username) btree',
  conversations_pkey: 'unique conversations(id) btree',
  idx_conversations_conversation_id: 'unique conversations(conversation_id) btree',
  ix_conversations_conversation_id: 'unique conversations(conversation_id) btree',
  idx_conversations_updated_at: 'conversations(updated_at) btree',
  idx_conversations_user_id: 'conversations(user_id) btree',
  ix_conversations_user_id: 'conversations(user_id) btree',
  documents_pkey: 'unique documents(id) btree',
  idx_documents_body_gin: 'documents(body) gin',
  idx_documents_created_at: 'documents(created_at) btree',
  idx_documents_department: 'documents(department) btree',
  idx_documents_doc_type: 'documents(doc_type) btree',
  idx_documents_uploaded_by: 'documents(uploaded_by) btree',
  ix_documents_department: 'documents(department) btree',
  ix_documents_uploaded_by: 'documents(uploaded_by) btree',
  refresh_tokens_pkey: 'unique refresh_tokens(id) btree',
  idx_refresh_tokens_expires_at: 'refresh_tokens(expires_at) btree',
  idx_refresh_tokens_revoked: 'refresh_tokens(revoked) btree',
  idx_refresh_tokens_token_hash: 'unique refresh_tokens(token_hash) btree',
  idx_refresh_tokens_user_id: 'refresh_tokens(user_id) btree',
  ix_refresh_tokens_token_hash: 'unique refresh_tokens(token_hash) btree',
  ix_refresh_tokens_user_id: 'refresh_tokens(user_id) btree',
  sessions_pkey: 'unique sessions(id) btree',
  idx_sessions_access_jti: 'unique sessions(access_jti) btree',
  idx_sessions_last_activity: 'sessions(last_activity) btree',
  idx_sessions_revoked: 'sessions(revoked) btree',
  idx_sessions_user_id: 'sessions(user_id) btree',
  ix_sessions_access_jti: 'unique sessions(access_jti) btree',
  ix_sessions_user_id: 'sessions(user_id) btree',
  messages_pkey: 'unique messages(id) btree',
  idx_messages_conversation_id: 'messages(conversation_id) btree',
  idx_messages_created_at: 'messages(created_at) btree',
  idx_messages_message_id: 'unique messages(message_id) btree',
  idx_messages_user_id: 'messages(user_id) btree',
  ix_messages_conversation_id: 'messages(conversation_id) btree',
  ix_messages_message_id: 'unique messages(message_id) btree',
  ix_messages_user_id: 'messages(user_id) btree',
};

const FOREIGN_KEYS = [
  'conversations(user_id) → users(id)',
  'documents(uploaded_by) → users(id)',
  'messages(conversation_id) → conversations(id)',
  'messages(user_id) → users(id)',
  'refresh_tokens(parent_id) → refresh_tokens(id)',
  'refresh_tokens(user_id) → users(id)',
  'sessions(user_id) → users(id)',
];

async function catalog(knex: Knex) {
  const cols = (
    await knex.raw(
      `select table_name as t, column_name || ' ' || udt_name || coalesce('(' || character_maximum_length || ')', '') ||
              case when is_nullable = 'NO' then ' not null' else '' end || coalesce(' default ' || column_default, '') as c
       from information_schema.columns where table_schema = 'public' order by table_name, ordinal_position`,
    )
  ).rows as { t: string; c: string }[];
  const columns: Record<string, string[]> = {};
  for (const r of cols) (columns[r.t] ??= []).push(r.c);
  const idx = (
    await knex.raw(
      `select i.relname as name, case when x.indisunique then 'unique ' else '' end || t.relname || '(' ||
              string_agg(a.attname, ', ' order by a.attnum) || ') ' || am.amname as def
       from pg_index x join pg_class i on i.oid = x.indexrelid join pg_class t on t.oid = x.indrelid join pg_am am on am.oid = i.relam
       join pg_attribute a on a.attrelid = t.oid and a.attnum = any(x.indkey)
       where t.relnamespace = 'public'::regnamespace group by i.relname, x.indisunique, t.relname, am.amname`,
    )
  ).rows as { name: string; def: string }[];
  const fks = (
    await knex.raw(
      `select t.relname || '(' || a.attname || ') → ' || f.relname || '(' || fa.attname || ')' as fk, c.confdeltype as del
       from pg_constraint c join pg_class t on t.oid = c.conrelid join pg_class f on f.oid = c.confrelid
       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
       join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
       where c.contype = 'f' and t.relnamespace = 'public'::regnamespace order by 1`,
    )
  ).rows as { fk: string; del: string }[];
  const enums = (
    await knex.raw(
      `select t.typname as name, array_agg(e.enumlabel::text order by e.enumsortorder) as labels from pg_type t join pg_enum e on e.enumtypid = t.oid
       where t.typnamespace = 'public'::regnamespace group by t.typname order by 1`,
    )
  ).rows;
  return { columns, indexes: Object.fromEntries(idx.map((r) => [r.name, r.def])), fks, enums };
}

describe('etl migrate --target chatcore', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test('creates exactly the schema of ChatCore\'s Alembic revision, with its alembic_version row, and keeps etl\'s own tables out of public', async () => {
    const r = await runEtl(['migrate', '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(r.stderr).not.toMatch(/ at /);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^applied: ChatCore schema \(Alembic revision 18373129a302\)/);

    const c = await catalog(db.knex);
    expect(c.columns).toEqual(COLUMNS);
    expect(c.indexes).toEqual(INDEXES);
    expect(c.fks).toEqual(FOREIGN_KEYS.map((fk) => ({ fk, del: 'a' }))); // no ON DELETE
    expect(c.enums).toEqual([
      { name: 'doc_type_enum', labels: ['employee', 'department', 'project', 'procedure', 'file'] },
      { name: 'message_role_enum', labels: ['USER', 'ASSISTANT'] },
    ]);
    expect((await db.knex.raw('select version_num from public.alembic_version')).rows).toEqual([{ version_num: '18373129a302' }]);
    // Alembic's autogenerate sees public only: nothing of etl's is there.
    const etlTables = (await db.knex.raw("select table_name from information_schema.tables where table_schema = 'etl' order by 1")).rows.map((x: { table_name: string }) => x.table_name);
    expect(etlTables).toEqual(expect.arrayContaining(['id_map', 'etl_checkpoints', 'etl_migrations', 'etl_rejects', 'etl_runs']));

    const again = await runEtl(['migrate', '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/nothing to do/);
    expect(await catalog(db.knex)).toEqual(c);
  });

  test('refuses --rollback for an application target and the etl target on this database (exit 2, one sentence)', async () => {
    // The schema changes of etl's canonical tables (still empty) go one per --rollback; ChatCore's tables never.
    for (const change of ['20261201_102_message_search', '20261201_101_persona_segmentation']) {
      expect((await runEtl(['migrate', '--target', 'chatcore', '--rollback'], { env: { DATABASE_URL: db.url } })).stdout).toBe(`rolled back: ${change}\n`);
    }
    const rollback = await runEtl(['migrate', '--target', 'chatcore', '--rollback'], { env: { DATABASE_URL: db.url } });
    expect(rollback.code).toBe(2);
    expect(rollback.stderr).toMatch(/never drops the tables of --target chatcore/);
    const etl = await runEtl(['migrate'], { env: { DATABASE_URL: db.url } });
    expect(etl.code).toBe(2);
    expect(etl.stderr).toMatch(/holds an application target loaded by etl/);
    expect(await db.knex.raw("select to_regclass('public.etl_runs') as t").then((x) => x.rows[0].t)).toBeNull();
  });
});
