import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { Knex } from 'knex';
import { chatcoreTarget } from '../../loaders/chatcore';
import { foldUsername } from '../../src/normalize/username';
import { verifyTarget } from '../../src/verify/verify';
import { freshDatabase, type FreshDatabase } from './db';
import { runIn } from './pipeline';

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

/** What one ChatCore TinyDB version must land as in ChatCore's own tables. */
export interface ChatCoreTargetVersion {
  file: string;
  rows: { users: number; conversations: number; messages: number; sessions: number };
}

/**
 * Loads one version with --target chatcore into an empty database and checks ChatCore's tables:
 * counts, message counts, every legacy plaintext (where the file has one next to the hash) logs in
 * with ChatCore's check and inferred users do not, verify holds, and a rerun changes no row.
 */
export async function expectChatcoreTargetLoads(knex: Knex, file: string, v: ChatCoreTargetVersion): Promise<void> {
  const report = await runIn(knex, 'tinydb', [file], { target: chatcoreTarget });
  for (const t of report.tables) expect(t.loaded + t.merged + t.rejected).toBe(t.read);
  const counts: Record<string, number> = {};
  for (const t of ['users', 'conversations', 'messages', 'sessions']) counts[t] = (await knex.raw(`select count(*)::int as n from public."${t}"`)).rows[0].n;
  expect(counts).toEqual(v.rows);
  expect((await knex.raw('select count(*)::int as n from public.conversations c where c.message_count <> (select count(*) from public.messages m where m.conversation_id = c.id)')).rows[0].n).toBe(0);

  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as { users?: Record<string, { username: string; password?: string }> };
  for (const u of Object.values(doc.users ?? {})) if (u.password) expect(await chatcoreLogin(knex, u.username, u.password)).toBe(true);
  const inferred: string[] = (await knex.raw('select username from etl.users where inferred')).rows.map((r: { username: string }) => r.username);
  for (const name of inferred) expect(await chatcoreLogin(knex, name, '')).toBe(false);

  const verified = await verifyTarget(knex);
  expect(verified.checks.filter((c) => !c.ok)).toEqual([]);
  const versions = await chatcoreVersions(knex);
  const again = await runIn(knex, 'tinydb', [file], { target: chatcoreTarget, restart: true });
  expect(again.projected.every((p) => p.inserted + p.updated === 0)).toBe(true);
  expect(await chatcoreVersions(knex)).toEqual(versions);
}

/** One test per version, each on a fresh database: the fixture versions and the real ones share it. */
export function describeChatcoreTargetVersions(title: string, versions: readonly ChatCoreTargetVersion[], pathOf: (file: string) => string): void {
  describe(title, () => {
    let db: FreshDatabase;
    beforeEach(async () => (db = await freshDatabase()));
    afterEach(async () => db.drop());
    test.each(versions)("$file lands in ChatCore's tables; its users log in; verify holds; a rerun changes nothing", (v) => expectChatcoreTargetLoads(db.knex, pathOf(v.file), v));
  });
}
