/**
 * ITL's own checks for `etl verify`: every app row equals the projection of its canonical row,
 * every agent's tools resolve for every tenant that may use the agent, every stored LLM key is a
 * Fernet token under FERNET_KEY, every user's hash is bcrypt (ITL's checkpw raises on anything
 * else) and a user without a password cannot log in, the Alembic revision, foreign keys and no
 * plaintext secret.
 */
import type { Knex } from 'knex';
import type { Check } from '../../src/verify/checks';
import { checkStoredKeys } from '../api-keys';
import { checkAppSchema, checkNone } from '../app-schema';
import { count } from '../projection';
import type { VerifyContext } from '../target';
import { checkUuidProjection } from '../uuid-projection';
import { ITL_SCHEMA } from './ddl';
import { itlKeys } from './keys';
import { NO_PASSWORD_STATUS, PROJECTIONS } from './project';

async function keys(knex: Knex): Promise<Check> {
  const rows: { tenant_id: string; encrypted_api_key: string }[] = (await knex.raw('select tenant_id, encrypted_api_key from public.tenant_llm_configs order by tenant_id')).rows;
  return checkStoredKeys(itlKeys, 'every LLM key in ITL is a Fernet token its FERNET_KEY decrypts', rows.map((r) => ({ label: `tenant ${r.tenant_id}`, value: r.encrypted_api_key })));
}

export async function verify(knex: Knex, ctx: VerifyContext): Promise<Check[]> {
  const checks: Check[] = [];
  for (const p of PROJECTIONS) checks.push(await checkUuidProjection(knex, 'ITL', p));
  checks.push(
    await checkNone(
      knex,
      "every agent's tools resolve for every tenant allowed the agent (tool and tenant permission present)",
      `select 1 from public.tenant_agent_permissions p join public.agent_tools l on l.agent_id = p.agent_id
       where p.enabled and not exists (select 1 from public.tenant_tool_permissions tp join public.tool_configs t on t.tool_id = tp.tool_id where tp.tenant_id = p.tenant_id and tp.tool_id = l.tool_id and tp.enabled)`,
      'agent tool(s) a tenant cannot use',
    ),
  );
  checks.push(await keys(knex));
  checks.push(await checkNone(knex, "every ITL user's password_hash is bcrypt (ITL's checkpw raises on anything else)", "select 1 from public.users where password_hash !~ '^\\$2[aby]\\$[0-9]{2}\\$[./A-Za-z0-9]{53}$'", 'user(s) with another value'));
  checks.push(
    await checkNone(
      knex,
      'every ITL user etl gave no password cannot log in (status is not active)',
      `select 1 from public.users u join etl.locked_passwords p on p.user_id = u.user_id and p.password_hash = u.password_hash where u.status = 'active'`,
      'active user(s) with a locked password',
    ),
  );
  const locked = await count(knex, `select 1 from public.users where status = '${NO_PASSWORD_STATUS}'`);
  checks.push({ name: 'users without a password in the source', ok: true, detail: `${locked} user(s) with status ${NO_PASSWORD_STATUS}: ITL refuses their login until a password is set` });
  checks.push(...(await checkAppSchema(knex, ITL_SCHEMA, ctx)));
  return checks;
}
