import type { Target } from '../target';
import { itlKeys } from './keys';
import { project } from './project';
import { admit, hashPlaintext } from './rows';
import { itlSchema } from './schema';
import { verify } from './verify';

/** ITL's own PostgreSQL schema (Alembic 8a1c0e5f9d2b): what its backend reads, from the seed folder. */
export const itlTarget: Target = {
  name: 'itl',
  summary: "ITL's own schema (tenants, LLM models, tools, agents and their links, users), as its Alembic migrations create it",
  undoable: false,
  kinds: new Set(['tenant', 'llm_model', 'base_tool', 'agent', 'tool', 'agent_tool', 'tenant_agent', 'user']),
  tenants: true,
  schema: itlSchema,
  admit,
  hashPlaintext,
  project,
  verify,
  apiKeys: itlKeys,
};
