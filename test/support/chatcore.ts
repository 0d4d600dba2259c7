import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import { foldUsername } from '../../src/normalize/username';

/**
 * ChatCore's login as its backend does it (app-targets.md §1.3), reimplemented for tests: the
 * folded name is looked up; PBKDF2-HMAC-SHA256 over the UTF-8 password with the hex-decoded salt,
 * 100,000 iterations, the hex digest compared in constant time; a salt that is not hex fails.
 */
export async function chatcoreLogin(knex: Knex, username: string, password: string): Promise<boolean> {
  const user = (await knex.raw('select password_hash, salt from public.users where username = ?', [foldUsername(username)])).rows[0] as { password_hash: string; salt: string } | undefined;
  if (!user) return false;
  if (!/^(?:[0-9a-fA-F]{2})*$/.test(user.salt)) return false;
  const digest = Buffer.from(pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(user.salt, 'hex'), 100_000, 32, 'sha256').toString('hex'));
  const stored = Buffer.from(user.password_hash);
  return digest.length === stored.length && timingSafeEqual(digest, stored);
}

/** The tables ChatCore's migration creates (alembic_version aside). */
export const CHATCORE_TABLES = ['users', 'conversations', 'messages', 'sessions', 'refresh_tokens', 'documents'];

/** Full rows of ChatCore's tables, ids included, in id order: two databases loaded alike compare equal. */
export async function chatcoreRows(knex: Knex): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of CHATCORE_TABLES) out[t] = (await knex.raw(`select to_jsonb(t) as r from public."${t}" t order by id`)).rows.map((r: { r: unknown }) => r.r);
  return out;
}

/** Each row's xmin per ChatCore table: unchanged exactly when no row was rewritten. */
export async function chatcoreVersions(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of CHATCORE_TABLES) out[t] = (await knex.raw(`select coalesce(string_agg(id || ':' || xmin, ',' order by id), '') as v from public."${t}"`)).rows[0].v;
  return out;
}
