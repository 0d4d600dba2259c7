import { createHash } from 'node:crypto';
import { listDir, statPath } from '../src/scan/fs-checked';
import path from 'node:path';
import { EtlError } from '../src/errors';
import { readJsonFile } from '../src/scan/json-file';
import { addDocumentsDir } from './json-documents';
import type { Entity, EntityKind, Extractor, ExtractorOptions, OpenedSources, SourceFile, SourceRecord, SourceStream } from './types';

/**
 * ITL_PGVector's seed folder (`backend/migrations/data/`, research/seed-formats.md §2): one JSON
 * array per file, read by name. String ids (`agent_supervisor`, `config_track_shipment`, …) are the
 * natural keys. Links the legacy seed scripts hard-coded are data here: agent → tool links come from
 * `agent_tools.json` when the folder has one, else from the table step 6 hard-coded
 * (LEGACY_AGENT_TOOLS below, loaded as a source of its own with its own fingerprint). Any other
 * `*.json` array in the folder loads as documents, doc_type from the file name.
 */
type Doc = Record<string, unknown>;

/** `6_seed_agent_tools.py` (itl_chatbot_works 42bdefca): agent → tools, priority 1..6 in this order. */
const LEGACY_AGENT_TOOLS: ReadonlyArray<{ agent_id: string; tool_config_id: string; priority: number }> = [
  { agent_id: 'agent_supervisor', tool_config_id: 'config_search_knowledge_base', priority: 1 },
  { agent_id: 'agent_guideline', tool_config_id: 'config_search_knowledge_base', priority: 2 },
  { agent_id: 'agent_debt', tool_config_id: 'config_get_customer_debt_by_mst', priority: 3 },
  { agent_id: 'agent_debt', tool_config_id: 'config_get_salesman_debt', priority: 4 },
  { agent_id: 'agent_shipment', tool_config_id: 'config_track_shipment', priority: 5 },
  { agent_id: 'agent_shipment', tool_config_id: 'config_update_shipment_status', priority: 6 },
];
const LEGACY_AGENT_TOOLS_SOURCE = 'builtin:itl-step6-agent-tools';

/** Username default of `8_seed_users.py`: the e-mail's local part. */
function localPart(email: unknown): unknown {
  return typeof email === 'string' && email.includes('@') ? email.slice(0, email.indexOf('@')) : undefined;
}

interface SeedFile {
  file: string;
  kind: EntityKind;
  entity(doc: Doc, agentKeys: ReadonlyMap<string, string>): Entity;
}

const FILES: readonly SeedFile[] = [
  { file: 'tenants.json', kind: 'tenant', entity: (d) => ({ kind: 'tenant', name: d.name, domain: d.domain, status: d.status }) },
  {
    file: 'llm_models.json',
    kind: 'llm_model',
    entity: (d) => ({
      kind: 'llm_model',
      key: d.model_id,
      provider: d.provider,
      modelName: d.model_name,
      displayName: d.display_name,
      description: d.description,
      isActive: d.is_active,
      supportsVision: d.supports_vision,
      supportsFunctionCalling: d.supports_function_calling,
      contextWindow: d.context_window,
      inputCostPer1m: d.input_cost_per_1m,
      outputCostPer1m: d.output_cost_per_1m,
    }),
  },
  {
    file: 'base_tools.json',
    kind: 'base_tool',
    entity: (d) => ({ kind: 'base_tool', key: d.tool_id, name: d.name, category: d.category, description: d.description, toolType: d.tool_type, isActive: d.is_active }),
  },
  {
    file: 'agents.json',
    kind: 'agent',
    entity: (d) => ({
      kind: 'agent',
      key: d.agent_id,
      name: d.name,
      description: d.description,
      agentType: d.agent_type,
      prompt: d.system_prompt,
      isActive: d.is_active,
      isSystem: d.is_system,
    }),
  },
  {
    file: 'tool_configs.json',
    kind: 'tool',
    entity: (d) => ({
      kind: 'tool',
      key: d.tool_config_id,
      baseToolKey: d.base_tool_id,
      name: d.name,
      description: d.description,
      toolType: d.tool_type,
      isActive: d.is_active,
      inputSchema: d.input_schema,
      config: d.config,
    }),
  },
  { file: 'agent_tools.json', kind: 'agent_tool', entity: (d) => ({ kind: 'agent_tool', agentKey: d.agent_id, toolKey: d.tool_config_id ?? d.tool_id, priority: d.priority }) },
  {
    file: 'users.json',
    kind: 'user',
    entity: (d) => ({ kind: 'user', username: d.username ?? localPart(d.email), email: d.email, role: d.role, tenant: d.tenant_name ?? null }),
  },
  {
    file: 'tenant_agent_mapping.json',
    kind: 'tenant_agent',
    entity: (d, agentKeys) => ({
      kind: 'tenant_agent',
      tenant: d.tenant_name,
      agentName: d.agent_name,
      agentKey: typeof d.agent_name === 'string' ? (agentKeys.get(d.agent_name.trim()) ?? null) : null,
      enabled: d.enabled,
    }),
  },
];

async function readArray(file: string): Promise<{ source: SourceFile; docs: Doc[] }> {
  const { value, sha256, size } = await readJsonFile(file, 'seed file');
  if (!Array.isArray(value)) throw new EtlError('SOURCE_CORRUPT', `${file} must be a JSON array of objects, as the seed files are; fix it, nothing was written.`);
  const bad = value.findIndex((d) => d === null || typeof d !== 'object' || Array.isArray(d));
  if (bad >= 0) throw new EtlError('SOURCE_CORRUPT', `${file}: element ${bad} is not a JSON object; fix it, nothing was written.`);
  return { source: { path: path.resolve(file), sha256, size }, docs: value as Doc[] };
}

function arrayStream(name: string, kind: EntityKind, source: SourceFile, docs: Doc[], entity: (d: Doc) => Entity): SourceStream {
  const records: SourceRecord[] = docs.map((d, i) => ({ locator: { file: source.path, table: name, id: String(i) }, ordinal: i, entity: entity(d), raw: d }));
  return {
    name,
    entity: kind,
    source,
    count: records.length,
    async *read(fromOrdinal: number) {
      const rest = records.slice(fromOrdinal);
      if (rest.length) yield rest;
    },
  };
}

async function open(paths: string[], _options: ExtractorOptions): Promise<OpenedSources> {
  if (paths.length !== 1) throw new EtlError('USAGE', `etl run json-seeds takes one folder of seed files (tenants.json, agents.json, …), got ${paths.length}.`);
  const dir = paths[0];
  const stat = await statPath(dir);
  if (!stat.isDirectory()) throw new EtlError('USAGE', `etl run json-seeds expects the folder holding tenants.json, agents.json, … and ${dir} is not a folder.`);
  const present = new Set(await listDir(dir));
  const read = new Map<string, { source: SourceFile; docs: Doc[] }>();
  for (const f of FILES) if (present.has(f.file)) read.set(f.file, await readArray(path.join(dir, f.file)));
  if (read.size === 0) throw new EtlError('SOURCE_NOT_FOUND', `${dir} holds none of ${FILES.map((f) => f.file).join(', ')}; is it the seed folder?`);

  const agentKeys = new Map<string, string>();
  for (const a of read.get('agents.json')?.docs ?? []) {
    if (typeof a.name === 'string' && typeof a.agent_id === 'string' && !agentKeys.has(a.name.trim())) agentKeys.set(a.name.trim(), a.agent_id.trim());
  }
  const notes: string[] = [];
  const sources: SourceFile[] = [];
  const streams: SourceStream[] = [];
  for (const f of FILES) {
    let got = read.get(f.file);
    if (!got && f.kind === 'agent_tool' && read.has('agents.json') && read.has('tool_configs.json')) {
      // The legacy seed hard-coded these links in code; here they are a source like any other.
      const text = JSON.stringify(LEGACY_AGENT_TOOLS);
      got = { source: { path: LEGACY_AGENT_TOOLS_SOURCE, sha256: createHash('sha256').update(text).digest('hex'), size: Buffer.byteLength(text) }, docs: LEGACY_AGENT_TOOLS.map((l) => ({ ...l })) };
      notes.push(`no agent_tools.json in ${dir}: the agent → tool links the legacy seed step 6 hard-coded were used (${LEGACY_AGENT_TOOLS.length} links)`);
    }
    if (!got) continue;
    sources.push(got.source);
    streams.push(arrayStream(f.file.replace(/\.json$/, ''), f.kind, got.source, got.docs, (d) => f.entity(d, agentKeys)));
  }
  const opened: OpenedSources = { sources, streams, notes };
  await addDocumentsDir(opened, dir, new Set(FILES.map((f) => f.file)));
  return opened;
}

export const jsonSeedsExtractor: Extractor = {
  name: 'json-seeds',
  summary: "ITL's seed folder (tenants, llm_models, base_tools, agents, tool_configs, users, tenant_agent_mapping; other JSON arrays as documents)",
  open,
};
