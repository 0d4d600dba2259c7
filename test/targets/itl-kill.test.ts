/**
 * kill -9 at any point of a --target itl run (before the first batch, while loading, while
 * projecting into ITL's tables), then the same command: ITL's tables end as one clean run leaves
 * them (the dates and the locked users' random hashes, made once per database, aside).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tableRows } from '../support/catalog';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { killThenResume } from '../support/kill';

const N = 4000;
const TABLES = ['tenants', 'llm_models', 'base_tools', 'agent_configs', 'tool_configs', 'agent_tools', 'tenant_agent_permissions', 'tenant_tool_permissions', 'users'];

function writeSeeds(dir: string): void {
  const w = (f: string, v: unknown[]) => fs.writeFileSync(path.join(dir, f), JSON.stringify(v, null, 2));
  w('tenants.json', [{ name: 'Acme', domain: 'acme', status: 'active' }]);
  w('llm_models.json', [{ model_id: 'm1', provider: 'p', model_name: 'm/1', is_active: true, context_window: 8000, input_cost_per_1m: 1, output_cost_per_1m: 2 }]);
  w('base_tools.json', [{ tool_id: 'b1', name: 'GET', tool_type: 'http', is_active: true }]);
  w('agents.json', Array.from({ length: N }, (_, i) => ({ agent_id: `a${i}`, name: `Agent ${i}`, agent_type: 'domain', system_prompt: `You are agent ${i}.`, is_active: true })));
  w('tool_configs.json', Array.from({ length: N }, (_, i) => ({ tool_config_id: `t${i}`, base_tool_id: 'b1', name: `tool_${i}`, tool_type: 'http_get', is_active: true, input_schema: { type: 'object' }, config: { method: 'GET', endpoint: `/x/${i}` } })));
  w('agent_tools.json', Array.from({ length: N }, (_, i) => ({ agent_id: `a${i}`, tool_config_id: `t${(i * 7) % N}`, priority: 1 })));
  w('users.json', [{ email: 'admin@acme.example', username: 'Admin', role: 'admin', tenant_name: 'Acme' }]);
  w('tenant_agent_mapping.json', [{ tenant_name: 'Acme', agent_name: 'Agent 1', enabled: true }]);
}

describe('--target itl: kill -9 and rerun ends identical to one clean run', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-kill-itl-'));
  let clean: FreshDatabase;
  let killed: FreshDatabase;
  beforeAll(async () => {
    writeSeeds(dir);
    [clean, killed] = await Promise.all([freshDatabase(), freshDatabase()]);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), killed?.drop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('killed before the first batch, mid-load, and mid-projection', async () => {
    await killThenResume(clean, killed, ['run', 'json-seeds', dir, '--target', 'itl', '--batch-size', '250'], [
      { stream: 'tool_configs', rows: 0 },
      { stream: 'tool_configs', rows: 1500 },
      // ITL's tenants committed; the catalog tables are under way.
      { stream: 'tool_configs', rows: 0, query: 'select count(*)::int as n from public.tenants' },
    ]);
    const omit = ['created_at', 'updated_at', 'password_hash'];
    const b = await tableRows(killed.knex, TABLES, omit);
    expect(b.agent_tools).toHaveLength(N);
    expect(b).toEqual(await tableRows(clean.knex, TABLES, omit));
  });
});
