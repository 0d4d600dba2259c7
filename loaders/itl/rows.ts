/**
 * Which canonical rows ITL's schema can hold (research/app-targets.md §3): column widths, the
 * NOT NULL columns the seed files must fill themselves (an LLM model's context window and costs;
 * a user's e-mail), the tool types ITL can run. A value that does not fit is rejected with a
 * reason; a cost that ITL's per-1K DECIMAL(10,6) rounds is kept rounded and reported as repaired.
 */
import type { EntityKind } from '../../extractors/types';
import { hashPlaintext as bcrypt } from '../../src/normalize/password';
import { firstTooLong } from '../admit';
import type { AgentRow, AnyRow, LlmModelRow, TenantRow, ToolRow, UserRow } from '../rows';
import { ADMIT, type Admission } from '../target';

const APP = 'ITL';

/** The tool types ITL's code runs, and the handler class it runs each with (ITL's own seed step 1). */
export const HANDLERS: Readonly<Record<string, string>> = { rag: 'tools.rag.RAGTool', http_get: 'tools.http.HTTPGetTool', http_post: 'tools.http.HTTPPostTool' };

/** ITL's default role for a seed user without one (its seed script's). */
export const DEFAULT_ROLE = 'tenant_user';

/** A per-1M cost as ITL's per-1K DECIMAL(10,6): exact, rounded (reported), or too big. */
function perThousand(perMillion: number): 'exact' | 'rounded' | 'too_big' {
  const v = perMillion / 1000;
  if (Math.abs(v) >= 1e4) return 'too_big';
  return Math.abs(Math.round(v * 1e6) / 1e6 - v) < 1e-12 ? 'exact' : 'rounded';
}

function llmModel(m: LlmModelRow): Admission {
  const bad = firstTooLong(APP, [
    ['provider', m.provider, 'llm_models.provider', 50],
    ['model name', m.model_name, 'llm_models.model_name', 100],
  ]);
  if (bad) return bad;
  if (m.context_window === null) return { ok: false, code: 'missing_context_window', message: `LLM model "${m.model_key}" has no context_window, which ITL's llm_models requires (etl does not guess one)` };
  const costs = [m.input_cost_per_1m_tokens, m.output_cost_per_1m_tokens];
  if (costs.some((c) => c === null)) return { ok: false, code: 'missing_cost', message: `LLM model "${m.model_key}" lacks input_cost_per_1m or output_cost_per_1m, which ITL's llm_models requires (etl does not guess one)` };
  const fit = costs.map((c) => perThousand(Number(c)));
  if (fit.includes('too_big')) return { ok: false, code: 'value_too_large', message: `LLM model "${m.model_key}": a cost per 1K tokens of 10,000 or more does not fit ITL's DECIMAL(10,6)` };
  if (fit.includes('rounded')) return { ok: true, repairs: [{ code: 'cost_rounded', message: `LLM model "${m.model_key}": a cost per 1M tokens divided by 1000 has more than the 6 decimals ITL's DECIMAL(10,6) keeps; stored rounded` }] };
  return ADMIT;
}

function user(u: UserRow): Admission {
  if (u.email === null) return { ok: false, code: 'missing_email', message: `user "${u.username_original}" has no e-mail, which ITL's login needs` };
  return (
    firstTooLong(APP, [
      ['e-mail', u.email, 'users.email', 255],
      ['username', u.username_original, 'users.username', 255],
      ['role', u.role, 'users.role', 50],
    ]) ?? ADMIT
  );
}

export function admit(kind: EntityKind, row: AnyRow): Admission {
  switch (kind) {
    case 'tenant':
      return firstTooLong(APP, [['tenant name', (row as TenantRow).name, 'tenants.name', 255], ['domain', (row as TenantRow).domain, 'tenants.domain', 255]]) ?? ADMIT;
    case 'llm_model':
      return llmModel(row as LlmModelRow);
    case 'agent':
      return firstTooLong(APP, [['agent name', (row as AgentRow).name, 'agent_configs.name', 100]]) ?? ADMIT;
    case 'tool': {
      const t = row as ToolRow;
      if (!(t.tool_type in HANDLERS)) return { ok: false, code: 'unsupported_tool_type', message: `tool "${t.tool_key}" has tool_type "${t.tool_type}"; ITL runs only ${Object.keys(HANDLERS).join(', ')}` };
      return firstTooLong(APP, [['tool name', t.name, 'tool_configs.name', 100]]) ?? ADMIT;
    }
    case 'user':
      return user(row as UserRow);
    default:
      return ADMIT;
  }
}

/** ITL's login: bcrypt.checkpw (its own hashes are bcrypt, 12 rounds). */
export function hashPlaintext(plaintext: string, bcryptCost: number): Promise<string> {
  return bcrypt(plaintext, bcryptCost);
}
