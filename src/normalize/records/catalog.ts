/** Catalog records (JSON seeds): tenants, LLM models, tools, agents and the links between them. */
import type { AgentEntity, AgentToolEntity, BaseToolEntity, LlmModelEntity, TenantAgentEntity, TenantEntity, ToolEntity } from '../../../extractors/types';
import type { AgentRow, AgentToolRow, BaseToolRow, LlmModelRow, TenantAgentRow, TenantRow, ToolRow } from '../../../loaders/rows';
import { globalRowId, rowId, tenantId as tenantIdOf } from '../ids';
import { etl, finite, type NormalizeContext, type Normalized, reject, required, slugOfTenant, Text } from './common';

function bool(v: unknown, dflt: boolean): boolean {
  return typeof v === 'boolean' ? v : dflt;
}

function optionalBool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function tenant(e: TenantEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', 'tenant has no name');
  const slug = slugOfTenant(name, ctx);
  if (slug === null) return reject('invalid_name', `tenant name "${name}" has no letter or digit to make a slug of`);
  const row: TenantRow = {
    id: tenantIdOf(slug),
    slug,
    name,
    domain: required(e.domain, text),
    status: required(e.status, text),
    created_at: null,
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.notes() };
}

export function llmModel(e: LlmModelEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'LLM model has no model_id');
  const provider = required(e.provider, text);
  const modelName = required(e.modelName, text);
  if (provider === null || modelName === null) return reject('missing_model_name', `LLM model "${key}" has no provider or model_name`);
  const ctxWindow = typeof e.contextWindow === 'number' && Number.isInteger(e.contextWindow) ? e.contextWindow : null;
  const row: LlmModelRow = {
    id: globalRowId('llm_model', key),
    model_key: key,
    provider,
    model_name: modelName,
    display_name: required(e.displayName, text),
    description: text.str(e.description),
    is_active: bool(e.isActive, true),
    supports_vision: optionalBool(e.supportsVision),
    supports_function_calling: optionalBool(e.supportsFunctionCalling),
    context_window: ctxWindow,
    // per 1M tokens, as the file gives them (the legacy seed divided by 1000 into per-1K columns)
    input_cost_per_1m_tokens: finite(e.inputCostPer1m),
    output_cost_per_1m_tokens: finite(e.outputCostPer1m),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.notes() };
}

export function baseTool(e: BaseToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'base tool has no tool_id');
  const name = required(e.name, text);
  const type = required(e.toolType, text);
  if (name === null || type === null) return reject('missing_name', `base tool "${key}" has no name or tool_type`);
  const row: BaseToolRow = {
    id: globalRowId('base_tool', key),
    tool_key: key,
    name,
    category: required(e.category, text),
    description: text.str(e.description),
    tool_type: type,
    is_active: bool(e.isActive, true),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.notes() };
}

export function agent(e: AgentEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'agent has no agent_id');
  const name = required(e.name, text);
  if (name === null) return reject('missing_name', `agent "${key}" has no name`);
  const prompt = text.str(e.prompt);
  if (prompt === null) return reject('missing_prompt', `agent "${key}" has no system_prompt`);
  const row: AgentRow = {
    id: globalRowId('agent', key),
    agent_key: key,
    name,
    description: text.str(e.description),
    agent_type: required(e.agentType, text),
    prompt_template: prompt,
    is_active: bool(e.isActive, true),
    is_system: bool(e.isSystem, false),
    ...etl(ctx, locator),
  };
  return { ok: true, row, notes: text.notes() };
}

export function tool(e: ToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const key = required(e.key, text);
  if (key === null) return reject('missing_key', 'tool config has no tool_config_id');
  const name = required(e.name, text);
  const type = required(e.toolType, text);
  if (name === null || type === null) return reject('missing_name', `tool "${key}" has no name or tool_type`);
  const base = required(e.baseToolKey, text);
  if (base === null) return reject('missing_base_tool', `tool "${key}" names no base_tool_id`);
  if (!isObject(e.inputSchema) || !isObject(e.config)) return reject('invalid_tool', `tool "${key}": input_schema and config must be JSON objects`);
  const row: ToolRow = {
    id: globalRowId('tool', key),
    tool_key: key,
    base_tool_id: globalRowId('base_tool', base),
    name,
    description: text.str(e.description),
    tool_type: type,
    is_active: bool(e.isActive, true),
    input_schema: text.deep(e.inputSchema),
    config: text.deep(e.config),
    ...etl(ctx, locator),
    _base_tool_key: base,
  };
  return { ok: true, row, notes: text.notes() };
}

export function agentTool(e: AgentToolEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const agentKey = required(e.agentKey, text);
  const toolKey = required(e.toolKey, text);
  if (agentKey === null || toolKey === null) return reject('missing_key', 'agent-tool link names no agent or no tool');
  if (typeof e.priority !== 'number' || !Number.isInteger(e.priority)) return reject('invalid_priority', `agent-tool link ${agentKey} → ${toolKey} has no integer priority`);
  const row: AgentToolRow = {
    id: globalRowId('agent_tool', `${agentKey}|${toolKey}`),
    agent_id: globalRowId('agent', agentKey),
    tool_id: globalRowId('tool', toolKey),
    priority: e.priority,
    ...etl(ctx, locator),
    _agent_key: agentKey,
    _tool_key: toolKey,
  };
  return { ok: true, row, notes: text.notes() };
}

export function tenantAgent(e: TenantAgentEntity, ctx: NormalizeContext, locator: string): Normalized {
  const text = new Text();
  const tenantName = required(e.tenant, text);
  const slug = tenantName === null ? null : slugOfTenant(tenantName, ctx);
  if (tenantName === null || slug === null) return reject('missing_tenant', 'tenant-agent mapping names no tenant');
  const agentName = required(e.agentName, text);
  if (agentName === null) return reject('missing_agent', 'tenant-agent mapping names no agent');
  if (typeof e.enabled !== 'boolean') return reject('invalid_enabled', `tenant-agent mapping ${tenantName} → ${agentName}: enabled must be true or false`);
  // An agent name the source's agents lack gets a key no agent has: the writer rejects it, naming it.
  const agentId = globalRowId('agent', e.agentKey ?? `name:${agentName}`);
  const row: TenantAgentRow = {
    id: rowId(slug, 'tenant_agent', agentId),
    tenant_id: tenantIdOf(slug),
    agent_id: agentId,
    enabled: e.enabled,
    ...etl(ctx, locator),
    _tenant_name: tenantName,
    _agent_name: agentName,
  };
  return { ok: true, row, notes: text.notes() };
}
