/**
 * Mul-in-One's own checks for `etl verify`: every app row equals the projection of its canonical
 * row, every stored API key is a Fernet token the app decrypts (its decrypt silently returns
 * anything else as the key itself), at most one default persona per user, owners the app can list,
 * sequences, the Alembic revision, foreign keys and no plaintext secret.
 */
import type { Knex } from 'knex';
import { looksLikeFernetToken } from '../../src/secrets/fernet';
import { type Check, checkForeignKeys, checkNoPlaintextSecrets } from '../../src/verify/checks';
import { checkRevision } from '../app-schema';
import { checkProjection, checkSequences, count } from '../projection';
import type { VerifyContext } from '../target';
import { MUL_IN_ONE_SCHEMA } from './ddl';
import { keyFromEnv } from '../api-keys';
import { mulInOneKeys } from './keys';
import { PROJECTIONS } from './project';

async function keys(knex: Knex): Promise<Check> {
  const name = "every API key in Mul-in-One is a Fernet token its MUL_IN_ONE_ENCRYPTION_KEY decrypts";
  const rows: { id: number; name: string; api_key_cipher: string }[] = (await knex.raw("select id, name, api_key_cipher from public.api_profiles where api_key_cipher <> '' order by id")).rows;
  const key = keyFromEnv(mulInOneKeys);
  // Without the key only a token's shape can be checked; a plaintext key fails either way.
  const bad = rows.filter((r) => (key ? key.fernet.decrypt(r.api_key_cipher) === null : !looksLikeFernetToken(r.api_key_cipher)));
  const how = key ? `decrypted under ${key.variable}` : 'checked by shape only (set MUL_IN_ONE_ENCRYPTION_KEY to decrypt them)';
  return {
    name,
    ok: bad.length === 0,
    detail: bad.length ? `${bad.length} of ${rows.length} are not tokens the app decrypts (it would use the stored text as the key): ${bad.slice(0, 5).map((r) => `${r.id} "${r.name}"`).join(', ')}` : `${rows.length} key(s) ${how}`,
  };
}

async function rule(knex: Knex, name: string, sql: string, what: string): Promise<Check> {
  const n = await count(knex, sql);
  return { name, ok: n === 0, detail: n ? `${n} ${what}` : 'holds' };
}

export async function verify(knex: Knex, ctx: VerifyContext): Promise<Check[]> {
  const checks: Check[] = [];
  for (const p of PROJECTIONS) checks.push(await checkProjection(knex, 'Mul-in-One', p));
  checks.push(await keys(knex));
  checks.push(await rule(knex, 'at most one default persona per Mul-in-One user', 'select 1 from public.personas where is_default group by user_id having count(*) > 1', 'user(s) with several'));
  checks.push(
    await rule(
      knex,
      'every owner etl loaded for can be listed by the app (an e-mail) and has a real password hash (bcrypt or argon2)',
      `select 1 from public.users u join etl.id_map m on m.tbl = 'users' and m.app_id = u.id
       where u.email is null or u.hashed_password is null or u.hashed_password !~ '^\\$(2[aby]\\$[0-9]{2}\\$|argon2)'`,
      'owner(s) without',
    ),
  );
  checks.push(await checkSequences(knex, 'Mul-in-One', PROJECTIONS));
  checks.push(await checkRevision(knex, MUL_IN_ONE_SCHEMA));
  checks.push(await checkForeignKeys(knex, 'public'));
  checks.push(await checkNoPlaintextSecrets(knex, ctx.secrets, ctx.unread, 'public'));
  return checks;
}
