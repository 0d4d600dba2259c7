/**
 * `etl run yaml-personas … --target mul-in-one`: the owner's personas and API profiles land in
 * Mul-in-One's own tables as its code reads them (bindings, prompts, keys its Fernet rule decrypts),
 * the created owner cannot log in, verify proves it, a rerun changes nothing and an edited YAML
 * updates the same rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { appPersonas, appVersions, bcryptOpens, expectedPersonas, REFUSED_PASSWORDS } from '../support/mul-in-one';

const DIR = 'fixtures/personas';
const PASSPHRASE = 'readme example passphrase';
const OWNER = ['--target', 'mul-in-one', '--owner', 'alice', '--owner-email', 'alice@example.com', '--bcrypt-cost', '4'];

describe('--target mul-in-one on fixtures/personas', () => {
  let db: FreshDatabase;
  let env: Record<string, string>;
  let report: { tables: { table: string; read: number; loaded: number; rejected: number; repaired: number }[]; projected: { table: string; inserted: number; updated: number }[] };
  beforeAll(async () => {
    db = await freshDatabase();
    env = { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: PASSPHRASE };
    const r = await runEtl(['run', 'yaml-personas', DIR, ...OWNER, '--json'], { env });
    if (r.code !== 0) throw new Error(`load failed (${r.code}): ${r.stderr}`);
    report = JSON.parse(r.stdout);
  });
  afterAll(async () => db.drop());

  const rows = (sql: string, b: unknown[] = []) => db.knex.raw(sql, b as never).then((r) => r.rows);

  test('every record is loaded or rejected; what Mul-in-One has no column for is reported as repaired', async () => {
    const t = (name: string) => report.tables.find((x) => x.table === name);
    expect(t('api_profiles')).toMatchObject({ read: 4, loaded: 4, rejected: 0 });
    // catchphrases (Helpful Maid) and background options (Strict Mentor) have no column in the app
    expect(t('personas')).toMatchObject({ read: 6, loaded: 4, rejected: 2, repaired: 2 });
    expect(report.projected).toEqual([
      { table: 'users', inserted: 1, updated: 0, deleted: 0 },
      { table: 'api_profiles', inserted: 4, updated: 0, deleted: 0 },
      { table: 'personas', inserted: 4, updated: 0, deleted: 0 },
    ]);
    const rejects = (await runEtl(['rejects'], { env })).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(rejects.map((x: { outcome: string; reason_code: string }) => `${x.outcome}:${x.reason_code}`).sort()).toEqual([
      'rejected:duplicate_handle',
      'rejected:missing_name',
      'repaired:background_options_not_stored',
      'repaired:catchphrases_not_stored',
    ]);
  });

  test('the app lists the owner\'s personas with the API profiles its own binding rules pick, and decrypts every key', async () => {
    const want = expectedPersonas(path.resolve(DIR, 'persona.yaml'), path.resolve(DIR, 'api_configuration.yaml'), PASSPHRASE);
    const got = await appPersonas(db.knex, 'alice', PASSPHRASE);
    // "unlimited" is stored as the app stores it
    expect(got.map((p) => p.max_agents_per_turn)).toEqual([-1, -1, -1, -1]);
    expect(got).toEqual(want);
    expect(got.map((p) => [p.handle, p.api?.model])).toEqual([
      ['buddy', 'local-llama'],
      ['ghost', 'Qwen/Qwen3-32B'],
      ['maid', 'local-llama'],
      ['strict_mentor', 'deepseek-chat'],
    ]);
    // every profile belongs to the owner, the inline `api:` mapping has its own
    expect(await rows('select a.name, u.username, a.created_by = a.user_id as own from public.api_profiles a join public.users u on u.id = a.user_id order by a.name')).toEqual([
      { name: 'Qwen32B', username: 'alice', own: true },
      { name: 'deepseek', username: 'alice', own: true },
      { name: 'local', username: 'alice', own: true },
      { name: 'persona:buddy', username: 'alice', own: true },
    ]);
    expect(await rows('select count(*)::int as n from public.personas where is_default')).toEqual([{ n: 0 }]);
  });

  test('the created owner is listed, and no login succeeds: a bcrypt hash of a random secret', async () => {
    const [owner] = await rows('select username, email, hashed_password, is_active, is_superuser, is_verified, role from public.users');
    expect(owner).toMatchObject({ username: 'alice', email: 'alice@example.com', is_active: true, is_superuser: false, is_verified: false, role: 'member' });
    expect(bcryptOpens(owner.hashed_password, [...REFUSED_PASSWORDS, 'alice', 'alice@example.com'])).toEqual({ bcrypt: true, opens: [] });
  });

  test('verify proves the load; a rerun changes nothing', async () => {
    const v = await runEtl(['verify', '--json'], { env });
    const result = JSON.parse(v.stdout);
    expect(result.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(v.code).toBe(0);
    expect(result.checks.map((c: { name: string }) => c.name)).toEqual(expect.arrayContaining(["Mul-in-One's personas hold exactly etl's rows", 'every API key in Mul-in-One is a Fernet token its MUL_IN_ONE_ENCRYPTION_KEY decrypts']));

    const before = await appVersions(db.knex);
    const again = await runEtl(['run', 'yaml-personas', DIR, ...OWNER, '--restart', '--json'], { env });
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout).projected.every((p: { inserted: number; updated: number }) => p.inserted + p.updated === 0)).toBe(true);
    expect(await appVersions(db.knex)).toEqual(before);
  });

  test('an edited YAML updates the same rows; the owner the app already has is kept as it is', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-mio-'));
    try {
      fs.copyFileSync(path.join(DIR, 'api_configuration.yaml'), path.join(dir, 'api_configuration.yaml'));
      fs.writeFileSync(path.join(dir, 'persona.yaml'), fs.readFileSync(path.join(DIR, 'persona.yaml'), 'utf8').replace('You are a gentle, attentive assistant.', 'You are a gentle assistant.'));
      const ids = await rows('select id, handle from public.personas order by id');
      const owner = await rows('select * from public.users');
      const r = await runEtl(['run', 'yaml-personas', dir, '--target', 'mul-in-one', '--owner', 'alice', '--json'], { env });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).projected).toEqual([
        { table: 'users', inserted: 0, updated: 0, deleted: 0 },
        { table: 'api_profiles', inserted: 0, updated: 0, deleted: 0 },
        { table: 'personas', inserted: 0, updated: 1, deleted: 0 },
      ]);
      expect(await rows('select id, handle from public.personas order by id')).toEqual(ids);
      expect(await rows("select prompt from public.personas where handle = 'maid'")).toEqual([{ prompt: 'You are a gentle assistant.\n' }]);
      expect(await rows('select * from public.users')).toEqual(owner);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('--target mul-in-one for a user the app already has', () => {
  let db: FreshDatabase;
  beforeAll(async () => (db = await freshDatabase()));
  afterAll(async () => db.drop());

  test('the user is taken over as it is (no --owner-email needed), and owns the loaded rows; status lists the run', async () => {
    const env = { DATABASE_URL: db.url, MUL_IN_ONE_ENCRYPTION_KEY: PASSPHRASE };
    expect((await runEtl(['migrate', '--target', 'mul-in-one'], { env })).code).toBe(0);
    // a user who signed up in the app (argon2id, as FastAPI-Users hashes)
    await db.knex.raw("insert into public.users (username, email, hashed_password, is_verified) values ('bob', 'bob@example.com', '$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA', true)");
    const before = (await db.knex.raw('select * from public.users')).rows;
    const r = await runEtl(['run', 'yaml-personas', DIR, '--target', 'mul-in-one', '--owner', 'bob', '--json'], { env });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).projected[0]).toEqual({ table: 'users', inserted: 0, updated: 0, deleted: 0 });
    expect((await db.knex.raw('select * from public.users')).rows).toEqual(before);
    expect((await db.knex.raw('select distinct u.username from public.personas p join public.users u on u.id = p.user_id')).rows).toEqual([{ username: 'bob' }]);
    expect((await runEtl(['verify'], { env })).code).toBe(0);
    const status = await runEtl(['status', '--json'], { env });
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout).runs.map((x: { tenant: string; state: string }) => [x.tenant, x.state])).toEqual([['bob', 'done']]);
  });
});
