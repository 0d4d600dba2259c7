/** What --target chatcore refuses, before anything is written: exit 2 and one sentence. */
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';

const FILE = 'fixtures/tinydb/chatcore-app.json';

async function schemas(db: FreshDatabase): Promise<string[]> {
  return (await db.knex.raw("select nspname from pg_namespace where nspname in ('etl') order by 1")).rows.map((r: { nspname: string }) => r.nspname);
}

async function publicTables(db: FreshDatabase): Promise<string[]> {
  return (await db.knex.raw("select table_name from information_schema.tables where table_schema = 'public' order by 1")).rows.map((r: { table_name: string }) => r.table_name);
}

function oneSentence(stderr: string): void {
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr.trim().split('\n').filter((l) => l.startsWith('etl: '))).toHaveLength(1);
}

describe('--target chatcore refuses what it cannot load, writing nothing', () => {
  let db: FreshDatabase;
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('--tenant: ChatCore has no tenants', async () => {
    const r = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore', '--tenant', 'acme'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--tenant cannot be used with --target chatcore: the application has no tenants/);
    oneSentence(r.stderr);
    expect(await publicTables(db)).toEqual([]);
    expect(await schemas(db)).toEqual([]);
  });

  test('a pipeline whose records ChatCore has no table for', async () => {
    const r = await runEtl(['run', 'yaml-personas', 'fixtures/personas', '--target', 'chatcore', '--allow-plaintext-keys'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--target chatcore has no table for .*personas.*pipeline yaml-personas/);
    oneSentence(r.stderr);
    expect(await schemas(db)).toEqual([]);
  });

  test('an Alembic revision etl does not know', async () => {
    await db.knex.raw("create table public.alembic_version (version_num varchar(32) primary key); insert into public.alembic_version values ('0123abcd4567')");
    const r = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/at Alembic revision 0123abcd4567, which this etl does not know \(it knows 18373129a302\)/);
    oneSentence(r.stderr);
    expect(await publicTables(db)).toEqual(['alembic_version']);
    expect(await schemas(db)).toEqual([]);
  });

  test('a ChatCore schema whose columns differ from what etl writes', async () => {
    expect((await runEtl(['migrate', '--target', 'chatcore'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    await db.knex.raw('alter table public.users drop column salt');
    const r = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not ChatCore's schema as etl knows it: public\.users\.salt is missing/);
    oneSentence(r.stderr);
    await db.knex.raw('alter table public.users add column salt varchar(64) not null');
    await db.knex.raw('alter table public.conversations alter column title type varchar(100)');
    const narrow = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(narrow.code).toBe(2);
    expect(narrow.stderr).toMatch(/public\.conversations\.title holds 100 characters, etl writes up to 200/);
    await db.knex.raw('alter table public.conversations alter column title type varchar(200)');
    await db.knex.raw(`alter type public.message_role_enum rename to old_role; create type public.message_role_enum as enum ('USER');
      alter table public.messages alter column role type public.message_role_enum using role::text::public.message_role_enum`);
    const labels = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(labels.code).toBe(2);
    expect(labels.stderr).toMatch(/the enum public\.message_role_enum lacks ASSISTANT/);
    expect((await db.knex.raw('select count(*)::int as n from etl.etl_runs')).rows[0].n).toBe(0);
  });

  test("a database that holds etl's own target in public", async () => {
    expect((await runEtl(['run', 'tinydb', 'fixtures/tinydb/chatcore.json'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    const r = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/holds etl's own schema \(--target etl\) in public/);
    oneSentence(r.stderr);
    expect(await schemas(db)).toEqual([]);
  });

  test('--dry-run says what the run would write into ChatCore\'s tables, and writes nothing', async () => {
    const r = await runEtl(['run', 'tinydb', FILE, '--target', 'chatcore', '--dry-run'], { env: { DATABASE_URL: db.url } });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^chatcore's own tables \(rows the run would insert and update\):/m);
    expect(r.stdout).toMatch(/^messages\s+6\s+0$/m);
    expect(await publicTables(db)).toEqual([]);
    expect(await schemas(db)).toEqual([]);
  });
});

describe('the etl target refuses a database that holds an application schema', () => {
  test('exit 2, one sentence, nothing written', async () => {
    const db = await freshDatabase();
    try {
      expect((await runEtl(['migrate', '--target', 'chatcore'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
      await db.knex.raw('drop schema etl cascade');
      const r = await runEtl(['run', 'tinydb', 'fixtures/tinydb/chatcore.json'], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/holds an application's own schema \(it has an alembic_version table\); load it with --target chatcore/);
      oneSentence(r.stderr);
      expect(await schemas(db)).toEqual([]);
      expect(await publicTables(db)).not.toContain('etl_runs');
    } finally {
      await db.drop();
    }
  });
});
