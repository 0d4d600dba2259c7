/** Entry point for record → row normalization; the rules live in ./records/, one module per domain. */
import type { Entity } from '../../extractors/types';
import { agent, agentTool, baseTool, llmModel, tenant, tenantAgent, tool } from './records/catalog';
import { conversation, document, message, session, user, userPersona } from './records/chat';
import type { NormalizeContext, Normalized } from './records/common';
import { apiProfile, persona } from './records/config';

export type { NormalizeContext, Normalized, Notes } from './records/common';
export { conversationRowId } from './records/chat';
export { personaHandle } from './records/config';

/** One record to one row, or a reject with a reason. `locator` is the record's `table/id`. */
export function normalizeEntity(e: Entity, ctx: NormalizeContext, locator: string): Normalized {
  switch (e.kind) {
    case 'user':
      return user(e, ctx, locator);
    case 'conversation':
      return conversation(e, ctx, locator);
    case 'message':
      return message(e, ctx, locator);
    case 'user_persona':
      return userPersona(e, ctx, locator);
    case 'session':
      return session(e, ctx, locator);
    case 'document':
      return document(e, ctx, locator);
    case 'tenant':
      return tenant(e, ctx, locator);
    case 'api_profile':
      return apiProfile(e, ctx, locator);
    case 'persona':
      return persona(e, ctx, locator);
    case 'llm_model':
      return llmModel(e, ctx, locator);
    case 'base_tool':
      return baseTool(e, ctx, locator);
    case 'agent':
      return agent(e, ctx, locator);
    case 'tool':
      return tool(e, ctx, locator);
    case 'agent_tool':
      return agentTool(e, ctx, locator);
    case 'tenant_agent':
      return tenantAgent(e, ctx, locator);
  }
}
