/**
 * ITL's schema at its Alembic head (8a1c0e5f9d2b), as the reachable chain 9a1ba78ab4db →
 * 78c5373fc278 (inserts an agent only when a model named gpt-4o-mini exists: nothing on a fresh
 * database) → 22922597bb3e → 5f2b2d7b9e3a → 8a1c0e5f9d2b leaves it on PostgreSQL
 * (loaders/app-schema.ts adds the `alembic_version` row). (The sibling 20251113_0000_fix_session_user_id_type names a parent that
 * does not exist; a real deployment never runs it.) Written from the migrations and
 * research/seed-formats.md §2.2. Constraint names are PostgreSQL's defaults where the migrations
 * name none.
 */
import { type AppSchema, col, varchar } from '../app-schema';

export const ITL_REVISION = '8a1c0e5f9d2b';

const DDL = `
CREATE TABLE public.base_tools (
  base_tool_id UUID NOT NULL,
  type VARCHAR(50) NOT NULL,
  handler_class VARCHAR(255) NOT NULL,
  description TEXT,
  default_config_schema JSONB,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (base_tool_id),
  UNIQUE (type)
);
CREATE TABLE public.llm_models (
  llm_model_id UUID NOT NULL,
  provider VARCHAR(50) NOT NULL,
  model_name VARCHAR(100) NOT NULL,
  context_window INTEGER NOT NULL,
  cost_per_1k_input_tokens NUMERIC(10, 6) NOT NULL,
  cost_per_1k_output_tokens NUMERIC(10, 6) NOT NULL,
  is_active BOOLEAN NOT NULL,
  capabilities JSONB,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (llm_model_id)
);
CREATE INDEX ix_llm_models_is_active ON public.llm_models (is_active);
CREATE INDEX ix_llm_models_provider_model ON public.llm_models (provider, model_name);
CREATE TABLE public.output_formats (
  format_id UUID NOT NULL,
  name VARCHAR(100) NOT NULL,
  schema JSONB,
  renderer_hint JSONB,
  description TEXT,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (format_id),
  UNIQUE (name)
);
CREATE TABLE public.tenants (
  tenant_id UUID NOT NULL,
  name VARCHAR(255) NOT NULL,
  domain VARCHAR(255),
  status VARCHAR(50) NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (tenant_id),
  UNIQUE (domain)
);
CREATE INDEX ix_tenants_status ON public.tenants (status);
CREATE TABLE public.agent_configs (
  agent_id UUID NOT NULL,
  name VARCHAR(100) NOT NULL,
  prompt_template TEXT NOT NULL,
  llm_model_id UUID NOT NULL,
  default_output_format_id UUID,
  description TEXT,
  handler_class VARCHAR(255),
  is_active BOOLEAN NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (agent_id),
  FOREIGN KEY (default_output_format_id) REFERENCES public.output_formats (format_id),
  FOREIGN KEY (llm_model_id) REFERENCES public.llm_models (llm_model_id),
  UNIQUE (name)
);
CREATE INDEX ix_agent_configs_is_active ON public.agent_configs (is_active);
CREATE TABLE public.tenant_llm_configs (
  config_id UUID NOT NULL,
  tenant_id UUID NOT NULL,
  llm_model_id UUID NOT NULL,
  encrypted_api_key TEXT NOT NULL,
  rate_limit_rpm INTEGER,
  rate_limit_tpm INTEGER,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (config_id),
  FOREIGN KEY (llm_model_id) REFERENCES public.llm_models (llm_model_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id),
  UNIQUE (tenant_id)
);
CREATE INDEX ix_tenant_llm_configs_llm_model_id ON public.tenant_llm_configs (llm_model_id);
CREATE TABLE public.tenant_widget_configs (
  config_id UUID NOT NULL,
  tenant_id UUID NOT NULL,
  widget_key VARCHAR(64) NOT NULL,
  widget_secret VARCHAR(255) NOT NULL,
  theme VARCHAR(20),
  primary_color VARCHAR(7),
  position VARCHAR(20),
  custom_css TEXT,
  auto_open BOOLEAN,
  welcome_message TEXT,
  placeholder_text VARCHAR(255),
  allowed_domains JSONB,
  max_session_duration INTEGER,
  rate_limit_per_minute INTEGER,
  enable_file_upload BOOLEAN,
  enable_voice_input BOOLEAN,
  enable_conversation_history BOOLEAN,
  embed_script_url VARCHAR(500),
  embed_code_snippet TEXT,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  last_regenerated_at TIMESTAMP WITHOUT TIME ZONE,
  PRIMARY KEY (config_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id),
  UNIQUE (tenant_id)
);
CREATE UNIQUE INDEX ix_tenant_widget_configs_widget_key ON public.tenant_widget_configs (widget_key);
CREATE TABLE public.tool_configs (
  tool_id UUID NOT NULL,
  name VARCHAR(100) NOT NULL,
  base_tool_id UUID NOT NULL,
  config JSONB NOT NULL,
  input_schema JSONB NOT NULL,
  output_format_id UUID,
  description TEXT,
  is_active BOOLEAN NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (tool_id),
  FOREIGN KEY (base_tool_id) REFERENCES public.base_tools (base_tool_id),
  FOREIGN KEY (output_format_id) REFERENCES public.output_formats (format_id)
);
CREATE INDEX ix_tool_configs_base_tool_id ON public.tool_configs (base_tool_id);
CREATE INDEX ix_tool_configs_is_active ON public.tool_configs (is_active);
CREATE TABLE public.agent_tools (
  agent_id UUID NOT NULL,
  tool_id UUID NOT NULL,
  priority INTEGER NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (agent_id, tool_id),
  FOREIGN KEY (agent_id) REFERENCES public.agent_configs (agent_id),
  FOREIGN KEY (tool_id) REFERENCES public.tool_configs (tool_id)
);
CREATE INDEX ix_agent_tools_agent_priority ON public.agent_tools (agent_id, priority);
CREATE TABLE public.sessions (
  session_id UUID NOT NULL,
  tenant_id UUID NOT NULL,
  agent_id UUID,
  thread_id VARCHAR(500),
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  last_message_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  metadata JSONB,
  escalation_status VARCHAR(50),
  escalation_reason VARCHAR(500),
  escalation_requested_at TIMESTAMP WITHOUT TIME ZONE,
  escalation_assigned_at TIMESTAMP WITHOUT TIME ZONE,
  assigned_user_id UUID,
  user_id UUID NOT NULL,
  PRIMARY KEY (session_id),
  FOREIGN KEY (agent_id) REFERENCES public.agent_configs (agent_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id)
);
CREATE INDEX ix_sessions_last_message_at ON public.sessions (last_message_at);
CREATE INDEX ix_sessions_escalation ON public.sessions (tenant_id, escalation_status);
CREATE TABLE public.tenant_agent_permissions (
  tenant_id UUID NOT NULL,
  agent_id UUID NOT NULL,
  enabled BOOLEAN NOT NULL,
  output_override_id UUID,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (tenant_id, agent_id),
  FOREIGN KEY (agent_id) REFERENCES public.agent_configs (agent_id),
  FOREIGN KEY (output_override_id) REFERENCES public.output_formats (format_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id)
);
CREATE INDEX ix_tenant_agent_permissions_enabled ON public.tenant_agent_permissions (enabled);
CREATE TABLE public.tenant_tool_permissions (
  tenant_id UUID NOT NULL,
  tool_id UUID NOT NULL,
  enabled BOOLEAN NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  PRIMARY KEY (tenant_id, tool_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id),
  FOREIGN KEY (tool_id) REFERENCES public.tool_configs (tool_id)
);
CREATE INDEX ix_tenant_tool_permissions_enabled ON public.tenant_tool_permissions (enabled);
CREATE TABLE public.users (
  user_id UUID NOT NULL,
  tenant_id UUID NOT NULL,
  email VARCHAR(255) NOT NULL,
  username VARCHAR(255) NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  role VARCHAR(50) NOT NULL,
  display_name VARCHAR(255),
  status VARCHAR(50),
  created_by UUID,
  created_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  updated_at TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  last_login TIMESTAMP WITHOUT TIME ZONE,
  supporter_status VARCHAR(50) DEFAULT 'offline',
  max_concurrent_sessions INTEGER DEFAULT '5',
  current_sessions_count INTEGER DEFAULT '0',
  PRIMARY KEY (user_id),
  FOREIGN KEY (created_by) REFERENCES public.users (user_id),
  FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id),
  CONSTRAINT uq_tenant_email UNIQUE (tenant_id, email)
);
CREATE INDEX ix_users_role ON public.users (role);
CREATE INDEX ix_users_tenant_email ON public.users (tenant_id, email);
CREATE TABLE public.messages (
  message_id UUID NOT NULL,
  session_id UUID NOT NULL,
  role VARCHAR(50) NOT NULL,
  content TEXT NOT NULL,
  timestamp TIMESTAMP WITHOUT TIME ZONE NOT NULL,
  metadata JSONB,
  sender_user_id UUID,
  PRIMARY KEY (message_id),
  FOREIGN KEY (session_id) REFERENCES public.sessions (session_id),
  FOREIGN KEY (sender_user_id) REFERENCES public.users (user_id)
);
CREATE INDEX ix_messages_session_timestamp ON public.messages (session_id, timestamp);
ALTER TABLE public.sessions ADD CONSTRAINT fk_sessions_assigned_user_users FOREIGN KEY (assigned_user_id) REFERENCES public.users (user_id);
CREATE INDEX ix_sessions_assigned_user ON public.sessions (tenant_id, assigned_user_id);
CREATE TABLE public.chat_users (
  user_id UUID NOT NULL,
  tenant_id UUID NOT NULL,
  email VARCHAR(255) NOT NULL,
  username VARCHAR(255) NOT NULL,
  department VARCHAR(255),
  created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL,
  last_active TIMESTAMP WITHOUT TIME ZONE DEFAULT now() NOT NULL,
  CONSTRAINT pk_chat_users PRIMARY KEY (user_id),
  CONSTRAINT fk_chat_users_tenant_id FOREIGN KEY (tenant_id) REFERENCES public.tenants (tenant_id),
  CONSTRAINT uq_chat_users_tenant_email UNIQUE (tenant_id, email)
);
CREATE INDEX ix_chat_users_tenant_email ON public.chat_users (tenant_id, email);
CREATE INDEX ix_chat_users_tenant_id ON public.chat_users (tenant_id);
ALTER TABLE public.sessions ADD CONSTRAINT fk_sessions_user_id_chat_users FOREIGN KEY (user_id) REFERENCES public.chat_users (user_id);
CREATE INDEX ix_sessions_tenant_user ON public.sessions (tenant_id, user_id, created_at);
`;

const TS = col('timestamp');
const UUID = col('uuid');

export const ITL_SCHEMA: AppSchema = {
  app: 'ITL',
  upgrade: "ITL's `alembic upgrade head` (backend/)",
  revisions: [ITL_REVISION],
  ddl: DDL,
  needed: {
    tenants: { tenant_id: UUID, name: varchar(255), domain: varchar(255, true), status: varchar(50), created_at: TS, updated_at: TS },
    llm_models: { llm_model_id: UUID, provider: varchar(50), model_name: varchar(100), context_window: col('int4'), cost_per_1k_input_tokens: col('numeric'), cost_per_1k_output_tokens: col('numeric'), is_active: col('bool'), created_at: TS },
    base_tools: { base_tool_id: UUID, type: varchar(50), handler_class: varchar(255), description: col('text', true), created_at: TS },
    agent_configs: { agent_id: UUID, name: varchar(100), prompt_template: col('text'), llm_model_id: UUID, description: col('text', true), handler_class: varchar(255, true), is_active: col('bool'), created_at: TS, updated_at: TS },
    tool_configs: { tool_id: UUID, name: varchar(100), base_tool_id: UUID, config: col('jsonb'), input_schema: col('jsonb'), description: col('text', true), is_active: col('bool'), created_at: TS, updated_at: TS },
    agent_tools: { agent_id: UUID, tool_id: UUID, priority: col('int4'), created_at: TS },
    tenant_agent_permissions: { tenant_id: UUID, agent_id: UUID, enabled: col('bool'), created_at: TS, updated_at: TS },
    tenant_tool_permissions: { tenant_id: UUID, tool_id: UUID, enabled: col('bool'), created_at: TS },
    users: { user_id: UUID, tenant_id: UUID, email: varchar(255), username: varchar(255), password_hash: varchar(255), role: varchar(50), status: varchar(50, true), created_at: TS, updated_at: TS },
    tenant_llm_configs: { tenant_id: UUID, encrypted_api_key: col('text') },
  },
};
