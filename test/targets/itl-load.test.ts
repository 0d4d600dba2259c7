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
import { expectSeedFolderLoads } from '../support/itl';
import { seedFolder } from '../support/seed-folder';

const DIR = path.resolve(__dirname, '../../fixtures/seed-versions');
// A Fernet key (Fernet.generate_key()), ITL's FERNET_KEY.
const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJ8GNeRNeA4ZUVY=';
describe.each([
  ['v1', 6],
  ['v2', 0], // both users name Test_eShop, which tenants.json lacks: rejected
])('--target itl on fixture version %s', (version, users) => {
  let db: FreshDatabase;
  let folder: string;
  beforeAll(async () => {
    db = await freshDatabase();
    folder = seedFolder(DIR, version as string);
  });
  afterAll(async () => {
    await db.drop();
    fs.rmSync(folder, { recursive: true, force: true });
  });

  test("ITL's code reads the seed files' agents, tools, links, models and users; no login succeeds; verify holds; a rerun changes nothing", async () => {
    const app = await expectSeedFolderLoads(db, folder, { FERNET_KEY });
    expect(Object.keys(app.users)).toHaveLength(users as number);
    const rows = async (sql: string) => (await db.knex.raw(sql)).rows;
    // one base tool per tool type, with the handler class ITL runs it with
    expect(await rows('select type, handler_class from public.base_tools order by type')).toEqual([
      { type: 'http_get', handler_class: 'tools.http.HTTPGetTool' },
      { type: 'http_post', handler_class: 'tools.http.HTTPPostTool' },
      { type: 'rag', handler_class: 'tools.rag.RAGTool' },
    ]);
    // every agent runs on the first active model of llm_models.json; every tenant may use every tool
    expect(await rows('select distinct m.model_name from public.agent_configs a join public.llm_models m on m.llm_model_id = a.llm_model_id')).toEqual([{ model_name: 'fixture/large-2' }]);
    expect(await rows('select count(*)::int as n from public.tenant_tool_permissions where enabled')).toEqual([{ n: 15 }]);
    expect(await rows('select count(*)::int as n from public.tenant_agent_permissions')).toEqual([{ n: version === 'v1' ? 12 : 0 }]);
    // no date is missing, and none is the clock at projection: the start of the run that first wrote the row
    expect(await rows("select distinct created_at = (select started_at at time zone 'UTC' from etl.etl_runs order by started_at limit 1) as same from public.agent_configs")).toEqual([{ same: true }]);
    const rejects = (await runEtl(['rejects', '--outcome', 'rejected'], { env: { DATABASE_URL: db.url } })).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(rejects.map((x: { reason_code: string }) => x.reason_code)).toEqual(version === 'v1' ? [] : ['missing_tenant', 'missing_tenant', 'missing_tenant', 'missing_tenant']);
  });
});
