/**
 * Canonical rows (schema "etl") → ITL's tables (schema "public"). ITL keys its rows with UUIDs, so
 * an app row's key is the canonical row's deterministic UUID (loaders/uuid-projection.ts); links
 * (agent tools, tenant permissions) are the pairs of those keys, as the seed files name them.
 * What the seed files do not give and ITL's columns require gets a documented value:
 * - dates: when the run that first wrote the canonical row started (loaders/app-dates.ts);
 * - tenants.status: the file's, else `active` (ITL's own seed always writes `active`);
 * - base tools: one per tool type the tools use, ITL's handler class for it (ITL resolves a tool's
 *   base tool by its type, as its seed does; base_tools.type is unique);
 * - an agent's model: the first active model of llm_models.json, in file order (ITL's seed gives
 *   every agent the first model); handler class `services.domain_agents.DomainAgent` (its seed's);
 * - tenant tool permissions: every tool for every tenant, enabled (ITL's seed step 9; without them
 *   an agent gets no tools);
 * - users: e-mail and username exactly as written (ITL compares them exactly), the role or
 *   `tenant_user`; without a bcrypt hash in the source, a bcrypt hash of a random secret nobody
 *   knows (checkpw refuses every password without raising) and status `password_not_set`, which
 *   ITL's login refuses (anything but `active`).
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { EtlError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { hashPlaintext as bcrypt } from '../../src/normalize/password';
import { RUN_TENANT_SOURCE } from '../../src/pipeline/run';
import { firstWritten } from '../app-dates';
import type { ProjectionCounts } from '../target';
import { projectUuid, type UuidProjection } from '../uuid-projection';
import { DEFAULT_ROLE, HANDLERS } from './rows';

/** A bcrypt hash of a random secret per user without a usable password, made once (a rerun keeps it). */
export const LOCKED_PASSWORDS_DDL = `create table if not exists etl.locked_passwords (
  user_id uuid primary key,
  password_hash text not null
)`;

export const NO_PASSWORD_STATUS = 'password_not_set';
export const AGENT_HANDLER = 'services.domain_agents.DomainAgent';
/** ITL's own bcrypt rounds. */
const BCRYPT_ROUNDS = 12;
const BCRYPT = "'^\\$2[aby]\\$[0-9]{2}\\$'";

const baseToolId = (type: string) => `md5('itl/base_tool:' || ${type})::uuid`;
const handler = `case t.tool_type ${Object.entries(HANDLERS).map(([type, cls]) => `when '${type}' then '${cls}'`).join(' ')} end`;
/** The tenants ITL gets: the seed files' own, and the run's tenant when a record names it. */
const TENANTS = `select t.* from etl.tenants t where t.etl_source <> '${RUN_TENANT_SOURCE}'
  or exists (select 1 from etl.users u where u.tenant_id = t.id) or exists (select 1 from etl.tenant_agents a where a.tenant_id = t.id)`;
const FIRST_MODEL = `(select m.id from etl.llm_models m where m.is_active order by substring(m.etl_locator from '[0-9]+$')::int, m.model_key limit 1)`;
const DATES = { created_at: 's._created', updated_at: 's._created' };

export const PROJECTIONS: readonly UuidProjection[] = [
  {
    table: 'tenants',
    key: ['tenant_id'],
    columns: ['name', 'domain', 'status'],
    source: `select t.id, t.name, t.domain, coalesce(t.status, 'active'), ${firstWritten('t')} from (${TENANTS}) t`,
    helpers: ['_created'],
    insertOnly: DATES,
  },
  {
    table: 'llm_models',
    key: ['llm_model_id'],
    columns: ['provider', 'model_name', 'context_window', 'cost_per_1k_input_tokens', 'cost_per_1k_output_tokens', 'is_active'],
    source: `select m.id, m.provider, m.model_name, m.context_window, round(m.input_cost_per_1m_tokens / 1000, 6), round(m.output_cost_per_1m_tokens / 1000, 6), m.is_active, ${firstWritten('m')} from etl.llm_models m`,
    helpers: ['_created'],
    insertOnly: { created_at: 's._created' },
  },
  {
    table: 'base_tools',
    key: ['base_tool_id'],
    columns: ['type', 'handler_class', 'description'],
    source: `select ${baseToolId('t.tool_type')}, t.tool_type, ${handler}, b.description, ${firstWritten('t')}
      from (select distinct on (tool_type) tool_type, base_tool_id, etl_run_id from etl.tools order by tool_type, tool_key) t join etl.base_tools b on b.id = t.base_tool_id`,
    helpers: ['_created'],
    insertOnly: { created_at: 's._created' },
  },
  {
    table: 'agent_configs',
    key: ['agent_id'],
    columns: ['name', 'prompt_template', 'llm_model_id', 'description', 'handler_class', 'is_active'],
    source: `select a.id, a.name, a.prompt_template, ${FIRST_MODEL}, a.description, '${AGENT_HANDLER}', a.is_active, ${firstWritten('a')} from etl.agents a`,
    helpers: ['_created'],
    insertOnly: DATES,
  },
  {
    table: 'tool_configs',
    key: ['tool_id'],
    columns: ['name', 'base_tool_id', 'config', 'input_schema', 'description', 'is_active'],
    source: `select t.id, t.name, ${baseToolId('t.tool_type')}, t.config, t.input_schema, t.description, t.is_active, ${firstWritten('t')} from etl.tools t`,
    helpers: ['_created'],
    insertOnly: DATES,
  },
  {
    table: 'agent_tools',
    key: ['agent_id', 'tool_id'],
    columns: ['priority'],
    source: `select l.agent_id, l.tool_id, l.priority, ${firstWritten('l')} from etl.agent_tools l`,
    helpers: ['_created'],
    insertOnly: { created_at: 's._created' },
  },
  {
    table: 'tenant_agent_permissions',
    key: ['tenant_id', 'agent_id'],
    columns: ['enabled'],
    source: `select a.tenant_id, a.agent_id, a.enabled, ${firstWritten('a')} from etl.tenant_agents a`,
    helpers: ['_created'],
    insertOnly: DATES,
  },
  {
    table: 'tenant_tool_permissions',
    key: ['tenant_id', 'tool_id'],
    columns: ['enabled'],
    source: `select t.id, tc.id, true, greatest(${firstWritten('t')}, ${firstWritten('tc')}) from (${TENANTS}) t cross join etl.tools tc`,
    helpers: ['_created'],
    insertOnly: { created_at: 's._created' },
  },
  {
    table: 'users',
    key: ['user_id'],
    columns: ['tenant_id', 'email', 'username', 'role', 'status'],
    source: `select u.id, u.tenant_id, u.email, u.username_original, coalesce(u.role, '${DEFAULT_ROLE}'),
        case when not u.is_active then 'inactive' when u.password_hash ~ ${BCRYPT} then 'active' else '${NO_PASSWORD_STATUS}' end,
        case when u.password_hash ~ ${BCRYPT} then u.password_hash else p.password_hash end, ${firstWritten('u')}
      from etl.users u left join etl.locked_passwords p on p.user_id = u.id`,
    helpers: ['_hash', '_created'],
    insertOnly: { password_hash: 's._hash', ...DATES },
  },
];

/** A locked password for every user the source gives no bcrypt hash, once. */
async function lockPasswordless(knex: Knex): Promise<void> {
  const { rows } = await knex.raw(`select u.id from etl.users u where (u.password_hash is null or u.password_hash !~ ${BCRYPT}) and not exists (select 1 from etl.locked_passwords p where p.user_id = u.id)`);
  for (const { id } of rows as { id: string }[]) {
    const hash = await bcrypt(randomBytes(32).toString('base64url'), BCRYPT_ROUNDS);
    await knex.raw('insert into etl.locked_passwords (user_id, password_hash) values (?, ?) on conflict (user_id) do nothing', [id, hash]);
  }
}

export async function project(knex: Knex, log: Logger): Promise<ProjectionCounts[]> {
  const { rows } = await knex.raw(`select (select count(*) from etl.agents)::int as agents, ${FIRST_MODEL} as model`);
  if (rows[0].agents > 0 && rows[0].model === null) {
    throw new EtlError('RUN_FAILED', "ITL's agent_configs need a model (llm_model_id is NOT NULL) and llm_models.json has no active model to give the agents; add one and run again.");
  }
  await lockPasswordless(knex);
  const counts = await projectUuid(knex, PROJECTIONS, log);
  const locked = (await knex.raw(`select count(*)::int as n from public.users where status = '${NO_PASSWORD_STATUS}'`)).rows[0].n;
  if (locked) log.warn({ users: locked }, `ITL users without a password in the source: stored with a bcrypt hash of a random secret and status ${NO_PASSWORD_STATUS}, so that ITL refuses their login; set their passwords in ITL`);
  return counts;
}
