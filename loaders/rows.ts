/**
 * Normalized rows: what normalization hands to a loader. Timestamps are canonical UTC strings
 * (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, microseconds kept); ids are deterministic UUIDs.
 */
interface EtlColumns {
  etl_run_id: string;
  etl_source: string;
  etl_locator: string;
}

export interface TenantRow extends EtlColumns {
  id: string;
  slug: string;
  name: string;
  domain: string | null;
  status: string | null;
  created_at: string | null;
}

export interface UserRow extends EtlColumns {
  id: string;
  tenant_id: string;
  username: string;
  username_original: string;
  email: string | null;
  role: string | null;
  password_hash: string | null;
  password_reset_required: boolean;
  is_active: boolean;
  inferred: boolean;
  created_at: string | null;
  updated_at: string | null;
  /** The tenant's name as the source gave it, for the reject message when it does not exist. */
  _tenant_name?: string | null;
}

export interface ConversationRow extends EtlColumns {
  id: string;
  tenant_id: string;
  kind: 'legacy' | 'imported_history';
  legacy_id: string;
  user_id: string;
  title: string | null;
  legacy_message_count: number | null;
  inferred: boolean;
  created_at: string | null;
  updated_at: string | null;
  /** The persona the owner speaks as in it (their default persona: no legacy source names one). */
  persona_id: string;
  /** Reference to the owning user, for inferring it when the users table lacks it. */
  _user_name: string;
  _persona_name: string;
  _persona_default: boolean;
}

export interface MessageRow extends EtlColumns {
  id: string;
  tenant_id: string;
  conversation_id: string;
  user_id: string;
  content_key: string;
  legacy_message_id: string | null;
  role: string;
  content: string;
  created_at: string;
  persona_id: string;
  _user_name: string;
  _conv_kind: 'legacy' | 'imported_history';
  _conv_legacy_id: string;
  _persona_name: string;
  _persona_default: boolean;
}

/** A persona a user speaks as; ids are UUIDv5 of (user, folded name). */
export interface UserPersonaRow extends EtlColumns {
  id: string;
  tenant_id: string;
  user_id: string;
  name: string;
  is_default: boolean;
  inferred: boolean;
  _user_name: string;
}

export interface SessionRow extends EtlColumns {
  id: string;
  tenant_id: string;
  user_id: string;
  access_jti: string;
  active_conversation_legacy_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string | null;
  last_activity: string | null;
  _user_name: string;
}

export interface DocumentRow extends EtlColumns {
  id: string;
  tenant_id: string;
  doc_type: string;
  content_hash: string;
  body: unknown;
}

export interface ApiProfileRow extends EtlColumns {
  id: string;
  tenant_id: string;
  name: string;
  base_url: string;
  model: string;
  /** Filled by the pipeline (Fernet needs randomness, normalization has none). */
  api_key_cipher: string | null;
  api_key_encrypted: boolean;
  api_key_fingerprint: string | null;
  temperature: number | null;
  is_default: boolean;
}

export interface PersonaRow extends EtlColumns {
  id: string;
  tenant_id: string;
  name: string;
  handle: string;
  prompt: string;
  tone: string;
  proactivity: number;
  memory_window: number | null;
  max_agents_per_turn: number | null;
  api_profile_id: string | null;
  api_binding: string | null;
  catchphrases: string[];
  background: string | null;
  background_options: Record<string, unknown> | null;
  /** The API profile's name, for the reject message when it does not exist. */
  _api_name: string | null;
}

export interface LlmModelRow extends EtlColumns {
  id: string;
  model_key: string;
  provider: string;
  model_name: string;
  display_name: string | null;
  description: string | null;
  is_active: boolean;
  supports_vision: boolean | null;
  supports_function_calling: boolean | null;
  context_window: number | null;
  input_cost_per_1m_tokens: number | null;
  output_cost_per_1m_tokens: number | null;
}

export interface BaseToolRow extends EtlColumns {
  id: string;
  tool_key: string;
  name: string;
  category: string | null;
  description: string | null;
  tool_type: string;
  is_active: boolean;
}

export interface AgentRow extends EtlColumns {
  id: string;
  agent_key: string;
  name: string;
  description: string | null;
  agent_type: string | null;
  prompt_template: string;
  is_active: boolean;
  is_system: boolean;
}

export interface ToolRow extends EtlColumns {
  id: string;
  tool_key: string;
  base_tool_id: string;
  name: string;
  description: string | null;
  tool_type: string;
  is_active: boolean;
  input_schema: unknown;
  config: unknown;
  _base_tool_key: string;
}

export interface AgentToolRow extends EtlColumns {
  id: string;
  agent_id: string;
  tool_id: string;
  priority: number;
  _agent_key: string;
  _tool_key: string;
}

export interface TenantAgentRow extends EtlColumns {
  id: string;
  tenant_id: string;
  agent_id: string;
  enabled: boolean;
  _tenant_name: string;
  _agent_name: string;
}

export type AnyRow =
  | TenantRow
  | UserRow
  | ConversationRow
  | MessageRow
  | UserPersonaRow
  | SessionRow
  | DocumentRow
  | ApiProfileRow
  | PersonaRow
  | LlmModelRow
  | BaseToolRow
  | AgentRow
  | ToolRow
  | AgentToolRow
  | TenantAgentRow;
