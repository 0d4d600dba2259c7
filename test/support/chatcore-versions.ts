import fs from 'node:fs';
import type { Knex } from 'knex';
import { checkNoPlaintextSecrets } from '../../src/verify/checks';
import { checksums, rowCounts, runIn, table } from './pipeline';

/** What one version of a ChatCore TinyDB database must load as (figures derived by hand from the file). */
export interface ChatCoreVersion {
  file: string;
  /** records of the `users` table; null when the version has no such table */
  users: number | null;
  messages: number;
  rows: { users: number; conversations: number; messages: number; auth_sessions: number };
  inferredUsers: number;
  inferredConversations: number;
  /** plaintext passwords next to a hash, dropped */
  dropped: number;
}

/**
 * Loads one version into an empty target and checks the counts, the message counts, that no
 * plaintext secret of the file is stored, and that a rerun and a restarted run change nothing.
 * The real versions (test-samples/) and our own (fixtures/chatcore) go through the same checks.
 */
export async function expectVersionLoads(knex: Knex, file: string, v: ChatCoreVersion): Promise<void> {
  const report = await runIn(knex, 'tinydb', [file]);
  expect(report.mode).toBe('fresh');
  expect(await rowCounts(knex)).toEqual({ tenants: 1, documents: 0, ...v.rows });

  const msgs = table(report, 'messages');
  expect(msgs).toMatchObject({ read: v.messages, loaded: v.messages, merged: 0, rejected: 0, importedHistory: 1, inferredConversations: v.inferredConversations });
  const inferredUsers = report.tables.reduce((n, t) => n + t.inferredUsers, 0);
  expect(inferredUsers).toBe(v.inferredUsers);
  if (v.users !== null) expect(table(report, 'users')).toMatchObject({ read: v.users, loaded: v.users, merged: 0, rejected: 0, droppedPlaintextPasswords: v.dropped });
  else expect(report.tables.find((t) => t.table === 'users')).toBeUndefined();
  expect(table(report, 'auth_sessions')).toMatchObject({ read: 1, loaded: 1 });
  // source records = loaded + merged + rejected, per table
  for (const t of report.tables) expect(t.loaded + t.merged + t.rejected).toBe(t.read);

  // every conversation's message_count is its real number of messages
  const wrong = await knex.raw(`select c.legacy_id from conversations c where c.message_count <> (select count(*) from messages m where m.conversation_id = c.id)`);
  expect(wrong.rows).toEqual([]);

  // no plaintext password or token of the file in any text or jsonb column of any table
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  const secrets = new Set<string>([...Object.values<{ token: string }>(doc.sessions).map((x) => x.token), ...Object.values<{ password?: string }>(doc.users ?? {}).flatMap((u) => (u.password ? [u.password] : []))]);
  expect(secrets.size).toBe(v.dropped > 0 ? 3 : 1);
  const scan = await checkNoPlaintextSecrets(knex, secrets, 0);
  expect(scan).toMatchObject({ ok: true });

  const before = await checksums(knex);
  const again = await runIn(knex, 'tinydb', [file]);
  expect(again.mode).toBe('already-done');
  expect(again.tables).toEqual(report.tables.map((t) => ({ ...t })));
  expect(await checksums(knex)).toEqual(before);

  const restarted = await runIn(knex, 'tinydb', [file], { restart: true });
  expect(restarted.mode).toBe('restarted');
  expect(table(restarted, 'messages')).toMatchObject({ read: v.messages, loaded: v.messages, merged: 0 });
  expect(await checksums(knex)).toEqual(before);
}

/**
 * Every version loaded in order into one database: the newest version's messages include all
 * earlier ones, the five versions' session tokens all differ, no user stays inferred, five runs.
 */
export async function expectVersionsUnion(knex: Knex, files: readonly string[], messages: number): Promise<void> {
  for (const f of files) await runIn(knex, 'tinydb', [f]);
  const counts = await rowCounts(knex);
  expect(counts.messages).toBe(messages);
  expect(counts.users).toBe(3);
  expect(counts.auth_sessions).toBe(5);
  const inferred = await knex('users').where({ inferred: true }).count<{ count: string }[]>('* as count');
  expect(Number(inferred[0].count)).toBe(0);
  expect(Number((await knex('etl_runs').count<{ count: string }[]>('* as count'))[0].count)).toBe(5);
}
