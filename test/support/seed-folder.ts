import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
