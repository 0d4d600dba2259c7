/**
 * `etl migrate --target mul-in-one` creates Mul-in-One's schema at its Alembic head (20251202_0006)
 * as the app's migration chain leaves it (research/seed-formats.md §1.4; the lists below are
 * written from the migrations, independently of loaders/mul-in-one/ddl.ts), and a run refuses a
 * schema that differs, bad options and missing keys with exit 2, writing nothing.
 */
import { expectRefused, runEtl } from '../support/cli';
import { publicCatalog, tableCount } from '../support/catalog';
import { freshDatabase, type FreshDatabase } from '../support/db';

const seq = (t: string) => `id int4 not null default nextval('${t}_id_seq'::regclass)`;
const TS = 'timestamp not null default CURRENT_TIMESTAMP';

const COLUMNS: Record<string, string[]> = {
  alembic_version: ['version_num varchar(32) not null'],
  api_profiles: [
    seq('api_profiles'),
    'user_id int4 not null',
    'name varchar(64) not null',
    'base_url varchar(255) not null',
    'model varchar(255) not null',
    'api_key_cipher text not null',
    'temperature float8 not null default 0.4',
    'created_by int4',
    `created_at ${TS}`,
    'is_embedding_model bool not null default false',
    'embedding_dim int4',
  ],
  oauth_accounts: [
    seq('oauth_accounts'),
    'oauth_name varchar(100) not null',
    'access_token varchar(1024) not null',
    'expires_at int4',
    'refresh_token varchar(1024)',
    'account_id varchar(320) not null',
    'account_email varchar(320) not null',
    'user_id int4 not null',
  ],
  personas: [
    seq('personas'),
    'user_id int4 not null',
    'name varchar(128) not null',
    'handle varchar(128) not null',
    'prompt text not null',
    "tone varchar(64) not null default 'neutral'::character varying",
    'proactivity float8 not null default 0.5',
    'memory_window int4 not null default 8',
    'max_agents_per_turn int4 not null default 2',
    'api_profile_id int4',
    'is_default bool not null default false',
    'background text',
    'avatar_path varchar(512)',
  ],
  session_messages: ['id varchar(64) not null', 'session_id varchar(64) not null', 'sender_type varchar(32) not null', 'sender_name varchar(128) not null', 'content text not null', `created_at ${TS}`],
  session_participants: ['session_id varchar not null', 'persona_id int4 not null'],
  sessions: [
    'id varchar(64) not null',
    'user_id int4 not null',
    "status varchar(32) not null default 'active'::character varying",
    `created_at ${TS}`,
    'user_persona text',
    'title varchar(255)',
    'user_display_name varchar(128)',
    'user_handle varchar(128)',
  ],
  users: [
    seq('users'),
    'username varchar(128) not null',
    'email varchar(255)',
    'hashed_password varchar(1024)',
    'display_name varchar(128)',
    "role varchar(32) not null default 'member'::character varying",
    `created_at ${TS}`,
    'embedding_api_profile_id int4',
    'is_active bool not null default true',
    'is_superuser bool not null default false',
    'is_verified bool not null default false',
    'actual_embedding_dim int4',
  ],
};

const INDEXES: Record<string, string> = {
  alembic_version_pkc: 'unique alembic_version(version_num) btree',
  api_profiles_pkey: 'unique api_profiles(id) btree',
  oauth_accounts_pkey: 'unique oauth_accounts(id) btree',
  ix_oauth_accounts_account_id: 'oauth_accounts(account_id) btree',
  ix_oauth_accounts_oauth_name: 'oauth_accounts(oauth_name) btree',
  personas_pkey: 'unique personas(id) btree',
  session_messages_pkey: 'unique session_messages(id) btree',
  session_participants_pkey: 'unique session_participants(session_id, persona_id) btree',
  sessions_pkey: 'unique sessions(id) btree',
  users_pkey: 'unique users(id) btree',
  users_username_key: 'unique users(username) btree',
  ix_users_email: 'unique users(email) btree',
  ix_users_username: 'unique users(username) btree',
};

const FOREIGN_KEYS = [
  'api_profiles(created_by) → users(id) a',
  'api_profiles(user_id) → users(id) c',
  'oauth_accounts(user_id) → users(id) c',
  'personas(api_profile_id) → api_profiles(id) a',
  'personas(user_id) → users(id) c',
  'session_messages(session_id) → sessions(id) c',
  'session_participants(persona_id) → personas(id) c',
  'session_participants(session_id) → sessions(id) c',
  'sessions(user_id) → users(id) c',
  'users(embedding_api_profile_id) → api_profiles(id) a',
];

const KEY = { MUL_IN_ONE_ENCRYPTION_KEY: 'schema test passphrase' };
const RUN = ['run', 'yaml-personas', 'fixtures/personas', '--target', 'mul-in-one', '--owner', 'alice', '--owner-email', 'alice@example.com', '--bcrypt-cost', '4'];

describe('etl migrate --target mul-in-one', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test("creates exactly the schema of Mul-in-One's Alembic head, with its alembic_version row, and keeps etl's own tables out of public", async () => {
    const r = await runEtl(['migrate', '--target', 'mul-in-one'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^applied: Mul-in-One schema \(Alembic revision 20251202_0006\)/);
    const c = await publicCatalog(db.knex);
    expect(c.columns).toEqual(COLUMNS);
    expect(c.indexes).toEqual(INDEXES);
    expect(c.fks).toEqual(FOREIGN_KEYS);
    expect((await db.knex.raw('select version_num from public.alembic_version')).rows).toEqual([{ version_num: '20251202_0006' }]);
    const etl = (await db.knex.raw("select table_name from information_schema.tables where table_schema = 'etl' order by 1")).rows.map((x: { table_name: string }) => x.table_name);
    expect(etl).toEqual(expect.arrayContaining(['id_map', 'owners', 'etl_runs', 'api_profiles', 'personas']));
    // a second migrate finds the schema it knows and changes nothing
    expect((await runEtl(['migrate', '--target', 'mul-in-one'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
  });

  test('--rollback never drops the application\'s tables', async () => {
    // First the schema changes of etl's canonical tables (no messages here: nothing lost), one per call.
    for (const change of ['20261201_102_message_search', '20261201_101_persona_segmentation']) {
      expect((await runEtl(['migrate', '--target', 'mul-in-one', '--rollback'], { env: { DATABASE_URL: db.url } })).stdout).toBe(`rolled back: ${change}\n`);
    }
    const r = await runEtl(['migrate', '--target', 'mul-in-one', '--rollback'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
  });
});

describe('--target mul-in-one refuses, with exit 2 and nothing written', () => {
  let db: FreshDatabase;
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  const tables = () => tableCount(db.knex);

  const refused = (args: string[], env: Record<string, string>, message: RegExp) => expectRefused(db.url, args, env, message);

  test('options: no --owner, --tenant, --owner elsewhere, a bad e-mail, a pipeline it has no table for, keys without a key', async () => {
    await refused(RUN.slice(0, 5), KEY, /--target mul-in-one needs --owner/);
    await refused([...RUN, '--tenant', 'acme'], KEY, /--tenant cannot be used with --target mul-in-one/);
    await refused(['run', 'yaml-personas', 'fixtures/personas', '--owner', 'alice'], KEY, /--owner and --owner-email are for --target mul-in-one/);
    await refused([...RUN.slice(0, 7), '--owner-email', 'alice@intranet.local'], KEY, /special-use domain/);
    await refused([...RUN.slice(0, 7), '--owner-email', 'not-an-address'], KEY, /is not an e-mail address/);
    await refused(['run', 'tinydb', 'fixtures/tinydb/chatcore.json', '--target', 'mul-in-one', '--owner', 'alice', '--owner-email', 'alice@example.com'], KEY, /has no table for users/);
    await refused(RUN, {}, /MUL_IN_ONE_ENCRYPTION_KEY or ETL_ENCRYPTION_KEY is not set/);
    expect(await tables()).toBe(0);
  });

  test('an owner the app lacks without --owner-email, or with an e-mail another user has', async () => {
    await runEtl(['migrate', '--target', 'mul-in-one'], { env: { DATABASE_URL: db.url } });
    const before = await tables();
    await refused(RUN.slice(0, 7), KEY, /Mul-in-One has no user "alice"; give --owner-email/);
    await db.knex.raw("insert into public.users (username, email, hashed_password) values ('bob', 'alice@example.com', 'x')");
    await refused(RUN, KEY, /--owner-email alice@example.com belongs to Mul-in-One's user "bob"/);
    expect(await tables()).toBe(before);
    expect((await db.knex.raw('select count(*)::int as n from etl.etl_runs')).rows[0].n).toBe(0);
  });

  test("a schema that differs from Mul-in-One's as etl knows it, an unknown revision, etl's own schema in public", async () => {
    await runEtl(['migrate', '--target', 'mul-in-one'], { env: { DATABASE_URL: db.url } });
    await db.knex.raw('alter table public.api_profiles alter column name type varchar(32)');
    await refused(RUN, KEY, /public\.api_profiles\.name holds 32 characters, etl writes up to 64/);
    await db.knex.raw("update public.alembic_version set version_num = '20251205_0005'");
    await refused(RUN, KEY, /Alembic revision 20251205_0005, which this etl does not know/);
    expect((await db.knex.raw('select count(*)::int as n from public.api_profiles')).rows[0].n).toBe(0);

    const other = await freshDatabase();
    try {
      expect((await runEtl(['migrate'], { env: { DATABASE_URL: other.url } })).code).toBe(0);
      const r = await runEtl(RUN, { env: { DATABASE_URL: other.url, ...KEY } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds etl's own schema \(--target etl\) in public/);
    } finally {
      await other.drop();
    }
  });

  test('--dry-run writes nothing and says what a run would do', async () => {
    const r = await runEtl([...RUN, '--dry-run'], { env: { DATABASE_URL: db.url, ...KEY } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/personas/);
    expect(await tables()).toBe(0);
  });

  test('--allow-plaintext-keys stores the keys as the app does without a key, and verify fails naming those profiles', async () => {
    const r = await runEtl([...RUN, '--allow-plaintext-keys'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/API KEYS WILL BE STORED IN PLAINTEXT/);
    expect((await db.knex.raw("select api_key_cipher from public.api_profiles where name = 'Qwen32B'")).rows).toEqual([{ api_key_cipher: 'sk-fixture-qwen-0001' }]);
    const v = await runEtl(['verify', '--json'], { env: { DATABASE_URL: db.url } });
    expect(v.code).toBe(1);
    const failed = JSON.parse(v.stdout).checks.filter((c: { ok: boolean }) => !c.ok).map((c: { name: string; detail: string }) => `${c.name}: ${c.detail}`);
    expect(failed).toEqual(expect.arrayContaining([expect.stringMatching(/^every API key in Mul-in-One .*: 2 of 3 are not tokens the app decrypts .*"Qwen32B".*"persona:buddy"/)]));
  });
});
