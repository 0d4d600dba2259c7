/**
 * ITL as its own code reads the target, against the seed folder as Python reads it (research/
 * seed-formats.md §2, app-targets.md §3): each agent's tools by priority (the links of
 * agent_tools.json, else the ones ITL's seed step 6 hard-codes), each tool's type, config and
 * input schema, each model's per-1K costs, each user's e-mail and username as written; and ITL's
 * login (bcrypt.checkpw, then status 'active') run by Python's bcrypt. The TypeScript under test is
 * not used.
 */
import type { Knex } from 'knex';
import { runPython } from '../normalize/python';
import { runEtl } from './cli';

export interface ItlView {
  /** agent name → its tool names in priority order */
  agents: Record<string, string[]>;
  /** tool name → [base tool type, config, input schema] */
  tools: Record<string, [string, unknown, unknown]>;
  /** "provider model_name" → [context window, input cost per 1K, output cost per 1K] as text */
  models: Record<string, [number, string, string]>;
  /** "tenant name/e-mail" → username */
  users: Record<string, string>;
}

// ITL's seed step 6 (6_seed_agent_tools.py), as research/seed-formats.md §2.1 lists it.
const STEP6 = [
  ['agent_supervisor', 'config_search_knowledge_base'],
  ['agent_guideline', 'config_search_knowledge_base'],
  ['agent_debt', 'config_get_customer_debt_by_mst'],
  ['agent_debt', 'config_get_salesman_debt'],
  ['agent_shipment', 'config_track_shipment'],
  ['agent_shipment', 'config_update_shipment_status'],
];

/**
 * What the seed folder says ITL must hold: users of tenants that tenants.json lacks are left out
 * (rejected), unless `tenantMap` (tenant name in users.json → tenant name in tenants.json) moves them.
 */
export function expectedItl(dir: string, tenantMap: Record<string, string> = {}): ItlView {
  return runPython<ItlView>(
    `import json, os
from decimal import Decimal
d = data['dir']
load = lambda f: json.load(open(os.path.join(d, f), encoding='utf-8'))
agents = {a['agent_id']: a['name'] for a in load('agents.json')}
tools = {t['tool_config_id']: t for t in load('tool_configs.json')}
links = [(l['agent_id'], l['tool_config_id'], l['priority']) for l in load('agent_tools.json')] if os.path.exists(os.path.join(d, 'agent_tools.json')) else [(a, t, i + 1) for i, (a, t) in enumerate(data['step6'])]
by_agent = {name: [] for name in agents.values()}
for a, t, p in sorted(links, key=lambda x: x[2]):
    by_agent[agents[a]].append(tools[t]['name'])
per_1k = lambda v: str((Decimal(str(v)) / 1000).quantize(Decimal('0.000001')))
tenants = {t['name'] for t in load('tenants.json')}
out(dict(
    agents=by_agent,
    tools={t['name']: [t['tool_type'], t['config'], t['input_schema']] for t in tools.values()},
    models={m['provider'] + ' ' + m['model_name']: [m['context_window'], per_1k(m['input_cost_per_1m']), per_1k(m['output_cost_per_1m'])] for m in load('llm_models.json')},
    users={tenant + '/' + u['email']: u.get('username') or u['email'].split('@')[0] for u in load('users.json') for tenant in [data['map'].get(u['tenant_name'], u['tenant_name'])] if tenant in tenants},
))`,
    { dir, step6: STEP6, map: tenantMap },
  );
}

/** The same, read from ITL's tables as its code joins them. */
export async function appItl(knex: Knex): Promise<ItlView> {
  const q = async (sql: string) => (await knex.raw(sql)).rows;
  const agents: ItlView['agents'] = {};
  for (const r of await q(`select a.name, coalesce(json_agg(t.name order by l.priority) filter (where t.name is not null), '[]') as tools
      from public.agent_configs a left join public.agent_tools l on l.agent_id = a.agent_id left join public.tool_configs t on t.tool_id = l.tool_id group by a.name`)) agents[r.name] = r.tools;
  const tools: ItlView['tools'] = {};
  for (const r of await q('select t.name, b.type, t.config, t.input_schema from public.tool_configs t join public.base_tools b on b.base_tool_id = t.base_tool_id')) tools[r.name] = [r.type, r.config, r.input_schema];
  const models: ItlView['models'] = {};
  for (const r of await q('select provider, model_name, context_window, cost_per_1k_input_tokens::text as i, cost_per_1k_output_tokens::text as o from public.llm_models')) models[`${r.provider} ${r.model_name}`] = [r.context_window, r.i, r.o];
  const users: ItlView['users'] = {};
  for (const r of await q('select t.name, u.email, u.username from public.users u join public.tenants t on t.tenant_id = u.tenant_id')) users[`${r.name}/${r.email}`] = r.username;
  return { agents, tools, models, users };
}

/**
 * ITL's login for every user with each of `passwords` (its username and e-mail added), by Python:
 * bcrypt.checkpw (an error is reported, not thrown), then status 'active'. Returns the logins that
 * succeeded and the errors raised; both must be empty for users without a password.
 */
export async function itlLogins(knex: Knex, passwords: readonly string[]): Promise<{ succeeded: string[]; errors: string[]; statuses: string[] }> {
  const users = (await knex.raw('select email, username, password_hash, status from public.users order by email')).rows;
  return runPython(
    `import bcrypt
ok, errors = [], []
for u in data['users']:
    for p in data['passwords'] + [u['username'], u['email']]:
        try:
            if bcrypt.checkpw(p.encode(), u['password_hash'].encode()) and u['status'] == 'active': ok.append(u['email'])
        except Exception as e: errors.append(u['email'] + ': ' + str(e))
out(dict(succeeded=ok, errors=errors, statuses=sorted({u['status'] for u in data['users']})))`,
    { users, passwords },
  );
}

const APP_TABLES = ['tenants', 'llm_models', 'base_tools', 'agent_configs', 'tool_configs', 'agent_tools', 'tenant_agent_permissions', 'tenant_tool_permissions', 'users'];

/** Each row's xmin per ITL table: unchanged exactly when no row was rewritten. */
async function appVersions(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of APP_TABLES) out[t] = (await knex.raw(`select coalesce(string_agg(xmin::text, ',' order by xmin::text), '') as v from public."${t}"`)).rows[0].v;
  return out;
}

/**
 * Loads a seed folder into an ITL database as a user would (`args` adds options), then checks what
 * ITL would read against the Python reading of the folder, that no migrated user logs in and none
 * makes the login raise, that verify holds and that a rerun rewrites no row. Returns ITL's view.
 */
export async function expectSeedFolderLoads(db: { url: string; knex: Knex }, folder: string, env: Record<string, string>, opts: { args?: string[]; tenantMap?: Record<string, string> } = {}): Promise<ItlView> {
  const args = ['run', 'json-seeds', folder, '--target', 'itl', ...(opts.args ?? [])];
  const r = await runEtl(args, { env: { DATABASE_URL: db.url, ...env } });
  expect(r.code).toBe(0);
  const app = await appItl(db.knex);
  expect(app).toEqual(expectedItl(folder, opts.tenantMap));
  const users = Object.keys(app.users).length;
  expect(await itlLogins(db.knex, ['', '123456'])).toEqual({ succeeded: [], errors: [], statuses: users ? ['password_not_set'] : [] });
  const v = await runEtl(['verify', '--json'], { env: { DATABASE_URL: db.url, ...env } });
  expect(JSON.parse(v.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
  expect(v.code).toBe(0);
  const before = await appVersions(db.knex);
  expect((await runEtl([...args, '--restart'], { env: { DATABASE_URL: db.url, ...env } })).code).toBe(0);
  expect(await appVersions(db.knex)).toEqual(before);
  return app;
}
