/**
 * Mul-in-One's own checks for `etl verify`: every app row equals the projection of its canonical
 * row, every stored API key is a Fernet token the app decrypts (its decrypt silently returns
 * anything else as the key itself), at most one default persona per user, owners the app can list,
 * sequences, the Alembic revision, foreign keys and no plaintext secret.
 */
import type { Knex } from 'knex';
import type { Check } from '../../src/verify/checks';
import { checkAppSchema, checkNone } from '../app-schema';
import { checkProjection, checkSequences } from '../projection';
import type { VerifyContext } from '../target';
import { MUL_IN_ONE_SCHEMA } from './ddl';
import { checkStoredKeys } from '../api-keys';
import { mulInOneKeys } from './keys';
import { PROJECTIONS } from './project';

async function keys(knex: Knex): Promise<Check> {
  const rows: { id: number; name: string; api_key_cipher: string }[] = (await knex.raw("select id, name, api_key_cipher from public.api_profiles where api_key_cipher <> '' order by id")).rows;
  return checkStoredKeys(mulInOneKeys, 'every API key in Mul-in-One is a Fernet token its MUL_IN_ONE_ENCRYPTION_KEY decrypts', rows.map((r) => ({ label: `${r.id} "${r.name}"`, value: r.api_key_cipher })));
}

export async function verify(knex: Knex, ctx: VerifyContext): Promise<Check[]> {
  const checks: Check[] = [];
  for (const p of PROJECTIONS) checks.push(await checkProjection(knex, 'Mul-in-One', p));
  checks.push(await keys(knex));
  checks.push(await checkNone(knex, 'at most one default persona per Mul-in-One user', 'select 1 from public.personas where is_default group by user_id having count(*) > 1', 'user(s) with several'));
  checks.push(
    await checkNone(
      knex,
      'every owner etl loaded for can be listed by the app (an e-mail) and has a real password hash (bcrypt or argon2)',
      `select 1 from public.users u join etl.id_map m on m.tbl = 'users' and m.app_id = u.id
       where u.email is null or u.hashed_password is null or u.hashed_password !~ '^\\$(2[aby]\\$[0-9]{2}\\$|argon2)'`,
      'owner(s) without',
    ),
  );
  checks.push(await checkSequences(knex, 'Mul-in-One', PROJECTIONS));
  checks.push(...(await checkAppSchema(knex, MUL_IN_ONE_SCHEMA, ctx)));
  return checks;
}
