/**
 * `etl run json-seeds … --target itl`: each fixture version of ITL's seed folder lands in ITL's
 * own tables as its code reads them (agents, their tools by priority, tool types, per-1K costs,
 * users as written), every migrated user's login is refused without an error, verify proves it
 * and a rerun changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { appItl, expectedItl, itlLogins } from '../support/itl';
import { seedFolder } from '../support/seed-folder';

const DIR = path.resolve(__dirname, '../../fixtures/seed-versions');
// A Fernet key (Fernet.generate_key()), ITL's FERNET_KEY.
const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJ8GNeRNeA4ZUVY=';
const TABLES = ['tenants', 'llm_models', 'base_tools', 'agent_configs', 'tool_configs', 'agent_tools', 'tenant_agent_permissions', 'tenant_tool_permissions', 'users'];

async function versions(db: FreshDatabase): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of TABLES) out[t] = (await db.knex.raw(`select coalesce(string_agg(xmin::text, ',' order by xmin::text), '') as v from public."${t}"`)).rows[0].v;
  return out;
}

describe.each([
  ['v1', 6],
  ['v2', 0], // both users name Test_eShop, which tenants.json lacks: rejected
])('--target itl on fixture version %s', (version, users) => {
  let db: FreshDatabase;
  let folder: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await freshDatabase();
    folder = seedFolder(DIR, version as string);
    env = { DATABASE_URL: db.url, FERNET_KEY };
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  test("ITL's tables hold the agents, tools, links, models and users of the seed files", async () => {
    const r = await runEtl(['run', 'json-seeds', folder, '--target', 'itl', '--json'], { env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.projected.map((p: { table: string; inserted: number }) => [p.table, p.inserted])).toEqual([
      ['tenants', 3],
      ['llm_models', 2],
      ['base_tools', 3], // one per tool type: rag, http_get, http_post
      ['agent_configs', 4],
      ['tool_configs', 5],
      ['agent_tools', 6],
      ['tenant_agent_permissions', version === 'v1' ? 12 : 0],
      ['tenant_tool_permissions', 15],
      ['users', users],
    ]);
    const app = await appItl(db.knex);
    expect(app).toEqual(expectedItl(folder));
    expect(Object.keys(app.users)).toHaveLength(users as number);
    const handlers = (await db.knex.raw('select type, handler_class from public.base_tools order by type')).rows;
    expect(handlers).toEqual([
      { type: 'http_get', handler_class: 'tools.http.HTTPGetTool' },
      { type: 'http_post', handler_class: 'tools.http.HTTPPostTool' },
      { type: 'rag', handler_class: 'tools.rag.RAGTool' },
    ]);
    // every agent runs on the first active model of llm_models.json
    expect((await db.knex.raw('select distinct m.model_name from public.agent_configs a join public.llm_models m on m.llm_model_id = a.llm_model_id')).rows).toEqual([{ model_name: 'fixture/large-2' }]);
    // no date is missing, and none is the clock at projection: the run's start
    const { rows } = await db.knex.raw("select distinct created_at = (select started_at at time zone 'UTC' from etl.etl_runs order by started_at limit 1) as same from public.agent_configs");
    expect(rows).toEqual([{ same: true }]);
  });

  test('no migrated user can log in, and none makes the login raise', async () => {
    const logins = await itlLogins(db.knex, ['', '123456']);
    expect(logins).toEqual({ succeeded: [], errors: [], statuses: users ? ['password_not_set'] : [] });
  });

  test('rejects say why; verify holds; a rerun changes no row', async () => {
    const rejects = (await runEtl(['rejects', '--outcome', 'rejected'], { env })).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rejects.map((x: { reason_code: string }) => x.reason_code)).toEqual(version === 'v1' ? [] : ['missing_tenant', 'missing_tenant', 'missing_tenant', 'missing_tenant']);
    const v = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(v.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(v.code).toBe(0);
    const before = await versions(db);
    const again = await runEtl(['run', 'json-seeds', folder, '--target', 'itl', '--restart'], { env });
    expect(again.code).toBe(0);
    expect(await versions(db)).toEqual(before);
  });
});
