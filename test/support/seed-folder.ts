import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import type { RunReport } from '../../src/pipeline/run';
import { table } from './pipeline';

/** The ITL seed files every version shares; users.json and tenant_agent_mapping.json come per version. */
const COMMON = ['tenants.json', 'llm_models.json', 'base_tools.json', 'agents.json', 'tool_configs.json'];
const PER_VERSION = ['users', 'tenant_agent_mapping'];

/**
 * A temp seed folder (ITL's `backend/migrations/data/`) of one version: the common files of `dir`,
 * `users.<version>.json` and `tenant_agent_mapping.<version>.json` under their seed names, and the
 * `extra` files as they are. The caller removes it.
 */
export function seedFolder(dir: string, version: string, extra: readonly string[] = []): string {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-seeds-'));
  for (const f of COMMON) fs.copyFileSync(path.join(dir, f), path.join(out, f));
  for (const f of PER_VERSION) fs.copyFileSync(path.join(dir, `${f}.${version}.json`), path.join(out, `${f}.json`));
  for (const f of extra) fs.copyFileSync(f, path.join(out, path.basename(f)));
  return out;
}

/** The report figures every version of a seed folder shares: the catalog tables, users and tenant agents as given. */
export function expectSeedReport(report: RunReport, v: { models: number; users: Record<string, number>; mapping: Record<string, number> }): void {
  expect(report.mode).toBe('fresh');
  expect(table(report, 'tenants')).toMatchObject({ read: 3, loaded: 3, merged: 0, rejected: 0 });
  expect(table(report, 'llm_models')).toMatchObject({ read: v.models, loaded: v.models, rejected: 0 });
  expect(table(report, 'base_tools')).toMatchObject({ read: 3, loaded: 3, rejected: 0 });
  expect(table(report, 'agents')).toMatchObject({ read: 4, loaded: 4, rejected: 0 });
  expect(table(report, 'tools')).toMatchObject({ read: 5, loaded: 5, rejected: 0 });
  expect(table(report, 'agent_tools')).toMatchObject({ read: 6, loaded: 6, rejected: 0 });
  expect(table(report, 'users')).toMatchObject({ ...v.users, merged: 0 });
  expect(table(report, 'tenant_agents')).toMatchObject({ ...v.mapping, merged: 0 });
  expect(report.tables.find((t) => t.table === 'documents')).toBeUndefined();
  for (const t of report.tables) expect(t.loaded + t.merged + t.rejected).toBe(t.read);
}

/** The catalog a seed folder loaded, read back in key order, for each version's test to compare with its own figures. */
export async function seedCatalog(knex: Knex) {
  return {
    tenants: await knex('tenants').orderBy('slug').select('id', 'slug', 'name', 'domain', 'status'),
    models: await knex('llm_models').orderBy('model_key').select('id', 'model_key', 'provider', 'model_name', 'context_window', 'input_cost_per_1m_tokens', 'output_cost_per_1m_tokens', 'is_active', 'supports_vision', 'supports_function_calling'),
    baseTools: await knex('base_tools').orderBy('tool_key').select('tool_key', 'name', 'category', 'tool_type'),
    agents: await knex('agents').orderBy('agent_key').select('agent_key', 'name', 'agent_type', 'is_active', 'is_system', 'prompt_template'),
    tools: await knex('tools as t').join('base_tools as b', 'b.id', 't.base_tool_id').orderBy('t.tool_key').select('t.tool_key', 't.name', 't.tool_type', 'b.tool_key as base', 't.config', 't.input_schema'),
    links: await knex('agent_tools as l').join('agents as a', 'a.id', 'l.agent_id').join('tools as t', 't.id', 'l.tool_id').orderBy('l.priority').select('a.name as agent', 't.name as tool', 'l.priority', 'l.etl_source'),
  };
}
