/**
 * ChatCore's own checks for `etl verify`: every app row equals the projection of its canonical row
 * (which verify has already proven against the sources), and the app's tables hold what its code
 * needs: counts that match, folded unique usernames, dates where the app reads them, one active
 * conversation per user, sequences ahead of every id, a known Alembic revision, no orphan and no
 * plaintext secret.
 */
import type { Knex } from 'knex';
import { foldUsername } from '../../src/normalize/username';
import type { Check } from '../../src/verify/checks';
import type { VerifyContext } from '../target';
import { checkAppSchema, checkNone } from '../app-schema';
import { CHATCORE_SCHEMA } from './ddl';
import { checkProjection, checkSequences, count } from '../projection';
import { NO_PASSWORD_HASH, PROJECTIONS } from './project';

async function usernames(knex: Knex): Promise<Check> {
  const rows: { id: number; username: string }[] = (await knex.raw('select id, username from public.users order by id')).rows;
  const seen = new Set<string>();
  const bad = rows.filter((u) => foldUsername(u.username) !== u.username || seen.has(u.username) || !seen.add(u.username));
  return {
    name: 'ChatCore usernames are folded and unique (its login looks them up folded)',
    ok: bad.length === 0,
    detail: bad.length ? `not folded or repeated: ${bad.slice(0, 5).map((u) => `${u.id} "${u.username}"`).join(', ')}` : `${rows.length} users`,
  };
}

export async function verify(knex: Knex, ctx: VerifyContext): Promise<Check[]> {
  const checks: Check[] = [];
  for (const p of PROJECTIONS) checks.push(await checkProjection(knex, 'ChatCore', p));
  checks.push(
    await checkNone(
      knex,
      "every ChatCore conversation's message_count equals its messages",
      'select 1 from public.conversations c where c.message_count <> (select count(*) from public.messages m where m.conversation_id = c.id)',
      'conversation(s) differ',
    ),
  );
  checks.push(await checkNone(knex, 'every message belongs to its conversation\'s owner', 'select 1 from public.messages m join public.conversations c on c.id = m.conversation_id where m.user_id <> c.user_id', 'message(s) of another user'));
  checks.push(await checkNone(knex, 'at most one active conversation per user', 'select 1 from public.conversations where is_active group by user_id having count(*) > 1', 'user(s) with several'));
  checks.push(
    await checkNone(
      knex,
      'dates where ChatCore reads them (users.created_at, conversations.created_at and updated_at)',
      'select id from public.users where created_at is null union all select id from public.conversations where created_at is null or updated_at is null',
      'row(s) without a date: the source has none for them',
    ),
  );
  checks.push(await usernames(knex));
  const locked = await count(knex, `select 1 from public.users where password_hash = '${NO_PASSWORD_HASH}'`);
  checks.push({ name: 'users without a usable password cannot log in', ok: true, detail: `${locked} user(s) stored with a value ChatCore's login never accepts (no password in the source, or a hash ChatCore cannot verify)` });
  checks.push(await checkSequences(knex, 'ChatCore', PROJECTIONS));
  checks.push(...(await checkAppSchema(knex, CHATCORE_SCHEMA, ctx)));
  return checks;
}
