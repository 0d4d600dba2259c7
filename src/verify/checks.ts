/** Integrity checks of `etl verify` that read the target only (no source needed). */
import type { Knex } from 'knex';
import { foldUsername } from '../normalize/username';
import { escapeIdentifier as q } from 'pg';

export { checkNoPlaintextSecrets } from './plaintext-secrets';

export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

const SHOW = 5;

function list(values: readonly string[], total = values.length): string {
  return values.slice(0, SHOW).join(', ') + (total > SHOW ? `, … (${total} in all)` : '');
}

interface ForeignKey {
  table: string;
  column: string;
  ftable: string;
  fcolumn: string;
  nullable: boolean;
}

/** The schema a check reads: the one named, else the current one (etl's tables). */
async function schemaOf(knex: Knex, schema?: string): Promise<string> {
  return schema ?? (await knex.raw('select current_schema() as s')).rows[0].s;
}

/** Single-column foreign keys of a schema (the schema's own, so new tables are covered). */
async function foreignKeys(knex: Knex, schema?: string): Promise<ForeignKey[]> {
  const res = await knex.raw(
    `select cl.relname as table, a.attname as column, fcl.relname as ftable, fa.attname as fcolumn, not a.attnotnull as nullable
     from pg_constraint c
     join pg_class cl on cl.oid = c.conrelid
     join pg_class fcl on fcl.oid = c.confrelid
     join pg_attribute a on a.attrelid = c.conrelid and a.attnum = c.conkey[1]
     join pg_attribute fa on fa.attrelid = c.confrelid and fa.attnum = c.confkey[1]
     where c.contype = 'f' and array_length(c.conkey, 1) = 1 and cl.relnamespace = ?::regnamespace
     order by 1, 2`,
    [await schemaOf(knex, schema)],
  );
  return res.rows;
}

async function hasColumns(knex: Knex, table: string, columns: string[]): Promise<boolean> {
  const res = await knex.raw('select count(*)::int as n from information_schema.columns where table_schema = current_schema() and table_name = ? and column_name = any(?)', [table, columns]);
  return res.rows[0].n === columns.length;
}

/** Every foreign key value has its parent row (the schema enforces it unless a constraint was disabled or dropped). */
export async function checkForeignKeys(knex: Knex, schema?: string): Promise<Check> {
  const problems: string[] = [];
  const s = q(await schemaOf(knex, schema));
  const fks = await foreignKeys(knex, schema);
  for (const fk of fks) {
    const res = await knex.raw(
      `select count(*)::int as n, (array_agg(t.${q(fk.column)}::text))[1:${SHOW}] as sample from ${s}.${q(fk.table)} t
       where t.${q(fk.column)} is not null and not exists (select 1 from ${s}.${q(fk.ftable)} p where p.${q(fk.fcolumn)} = t.${q(fk.column)})`,
    );
    const { n, sample } = res.rows[0];
    if (n > 0) problems.push(`${fk.table}.${fk.column} → ${fk.ftable}: ${n} orphan(s) (${list(sample ?? [], n)})`);
  }
  return { name: `foreign keys resolve (no orphans)${schema ? ` in ${schema}` : ''}`, ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${fks.length} foreign keys checked` };
}

/**
 * NULL where the schema's meaning needs a value: an optional reference (e.g. a conversation's
 * persona) left empty while the referenced table has rows of that tenant, and a user without a
 * password hash who is not asked to reset it.
 */
export async function checkMeaningfulNulls(knex: Knex): Promise<Check> {
  const problems: string[] = [];
  let checked = 0;
  for (const fk of (await foreignKeys(knex)).filter((f) => f.nullable && !f.table.startsWith('etl_'))) {
    checked++;
    const tenantScoped = (await hasColumns(knex, fk.table, ['tenant_id'])) && (await hasColumns(knex, fk.ftable, ['tenant_id']));
    const parentHasRows = tenantScoped ? `exists (select 1 from ${q(fk.ftable)} p where p.tenant_id = t.tenant_id)` : `exists (select 1 from ${q(fk.ftable)})`;
    const res = await knex.raw(`select count(*)::int as n, (array_agg(t.id::text))[1:${SHOW}] as sample from ${q(fk.table)} t where t.${q(fk.column)} is null and ${parentHasRows}`);
    const { n, sample } = res.rows[0];
    if (n > 0) problems.push(`${fk.table}.${fk.column} is NULL in ${n} row(s) although ${fk.ftable} has rows (${list(sample ?? [], n)})`);
  }
  if (await hasColumns(knex, 'users', ['password_hash', 'password_reset_required'])) {
    checked++;
    const res = await knex.raw(`select count(*)::int as n, (array_agg(id::text))[1:${SHOW}] as sample from users where password_hash is null and not password_reset_required`);
    const { n, sample } = res.rows[0];
    if (n > 0) problems.push(`users without a password hash and not asked to reset it: ${n} (${list(sample ?? [], n)})`);
  }
  return { name: 'no NULL where a value is needed', ok: problems.length === 0, detail: problems.length ? problems.join('; ') : `${checked} rules checked` };
}

/** The fold is recomputed from `username_original` with the legacy rule: it must be the row's key, and unique per tenant. */
export async function checkUsernameFold(knex: Knex): Promise<Check> {
  const name = 'no two users fold to one key';
  if (!(await hasColumns(knex, 'users', ['id', 'tenant_id', 'username', 'username_original']))) return { name, ok: true, detail: 'no users table' };
  const rows: { id: string; tenant_id: string; username: string; username_original: string }[] = (
    await knex.raw('select id::text as id, tenant_id::text as tenant_id, username, username_original from users')
  ).rows;
  const seen = new Map<string, string>();
  const problems: string[] = [];
  for (const u of rows) {
    const fold = foldUsername(u.username_original);
    if (fold !== u.username) problems.push(`user ${u.id}: "${u.username_original}" folds to "${fold}", not to its key "${u.username}"`);
    const key = `${u.tenant_id}\0${fold}`;
    const other = seen.get(key);
    if (other) problems.push(`users ${other} and ${u.id} both fold to "${fold}"`);
    else seen.set(key, u.id);
  }
  return { name, ok: problems.length === 0, detail: problems.length ? list(problems) : `${rows.length} users, ${seen.size} distinct folded keys` };
}

/**
 * `--allow-plaintext-keys` stays loud after the run: each API profile whose key is stored in
 * plaintext fails verify by name. Omitted while no API profile is loaded (nothing to say).
 */
export async function checkApiKeysEncrypted(knex: Knex): Promise<Check | null> {
  if (!(await hasColumns(knex, 'api_profiles', ['name', 'api_key_encrypted']))) return null;
  const rows: { name: string; encrypted: boolean }[] = (await knex.raw('select name, api_key_encrypted as encrypted from api_profiles order by name')).rows;
  if (!rows.length) return null;
  const plain = rows.filter((r) => !r.encrypted).map((r) => r.name);
  return {
    name: 'API keys stored encrypted',
    ok: plain.length === 0,
    detail: plain.length
      ? `${plain.length} of ${rows.length} API profile(s) store their key in plaintext (--allow-plaintext-keys): ${list(plain)}; set ETL_ENCRYPTION_KEY and run with --restart to encrypt them`
      : `${rows.length} API profile(s)`,
  };
}

/** Every conversation's message_count is its number of messages. */
export async function checkMessageCounts(knex: Knex): Promise<Check | null> {
  if (!(await hasColumns(knex, 'conversations', ['id', 'message_count'])) || !(await hasColumns(knex, 'messages', ['conversation_id']))) return null;
  const res = await knex.raw(
    `select c.id::text as id, c.message_count, count(m.id)::int as n from conversations c left join messages m on m.conversation_id = c.id
     group by c.id having c.message_count <> count(m.id) order by c.id`,
  );
  const rows: { id: string; message_count: number; n: number }[] = res.rows;
  return {
    name: "every conversation's message_count equals its messages",
    ok: rows.length === 0,
    detail: rows.length ? list(rows.map((r) => `conversation ${r.id}: message_count ${r.message_count}, ${r.n} messages`)) : 'all equal',
  };
}
