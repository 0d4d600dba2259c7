/**
 * The plaintext-secret check of `etl verify`: one COPY per table of its text and jsonb columns, each
 * value matched against every secret at once (src/verify/secret-matcher.ts), in bounded memory.
 */
import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { isSecretLikeKey } from '../secrets/secret-fields';
import type { Check } from './checks';
import { copyOutBlocks, fieldText, isNull, NEWLINE, TAB } from '../db/copy-out';
import { SecretMatcher, WINDOW } from './secret-matcher';
import { escapeIdentifier as q } from 'pg';

/** Shorter plaintexts (like "1234") are only looked for as whole values, never inside other text. */
const MIN_SUBSTRING = WINDOW;

/** Column names whose whole text value may be a (short) secret. */
const SECRET_COLUMN = /pass|pwd|token|secret|key|jti/i;

interface Column {
  table: string;
  column: string;
  type: string;
}

/** How one column is looked at. */
interface Look {
  column: Column;
  /** Inside the text: the long secrets. */
  inside: boolean;
  /** The whole value: a short secret. */
  whole: boolean;
  /** A secret-like JSON field at any depth whose text is a short secret. */
  json: boolean;
  rows: number;
}

/** Whether a JSON value holds a short secret as the text of a secret-like field (or of an array there), at any depth. */
function jsonHolds(value: unknown, short: ReadonlySet<string>): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (Array.isArray(value)) return value.some((v) => jsonHolds(v, short));
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (isSecretLikeKey(k) && (typeof v === 'string' ? short.has(v) : Array.isArray(v) && v.some((x) => typeof x === 'string' && short.has(x)))) return true;
    if (jsonHolds(v, short)) return true;
  }
  return false;
}

function isJson(c: Column): boolean {
  return c.type === 'jsonb' || c.type === 'json';
}

/** Reads the looked-at columns of one table in one pass and counts the rows with a secret, per column. */
async function scanTable(conn: PoolClient, schema: string, looks: Look[], matcher: SecretMatcher, short: ReadonlySet<string>): Promise<void> {
  const sql = `COPY (select ${looks.map((l) => q(l.column.column)).join(', ')} from ${q(schema)}.${q(looks[0].column.table)}) TO STDOUT`;
  for await (const buf of copyOutBlocks(conn, sql)) {
    let pos = 0;
    while (pos < buf.length) {
      const rowEnd = buf.indexOf(NEWLINE, pos);
      let start = pos;
      for (const look of looks) {
        let end = buf.indexOf(TAB, start);
        if (end === -1 || end > rowEnd) end = rowEnd;
        if (!isNull(buf, start, end) && holds(look, buf, start, end, matcher, short)) look.rows++;
        start = end + 1;
      }
      pos = rowEnd + 1;
    }
  }
}

function holds(look: Look, buf: Buffer, start: number, end: number, matcher: SecretMatcher, short: ReadonlySet<string>): boolean {
  if (look.inside && matcher.inField(buf, start, end)) return true;
  if (look.whole && short.has(fieldText(buf, start, end))) return true;
  return look.json && jsonHolds(JSON.parse(fieldText(buf, start, end)), short);
}

/**
 * No plaintext secret of the sources in any text or jsonb column of any table (etl_* included):
 * secrets of 8+ characters anywhere inside a value; shorter ones as the whole value of a
 * secret-named column or of a secret-like JSON field at any depth (`pw`, `openai_key`, …).
 */
export async function checkNoPlaintextSecrets(knex: Knex, secrets: ReadonlySet<string>, unread: number, schema?: string): Promise<Check> {
  const name = `no plaintext secret from the sources${schema ? ` in ${schema}` : ''}`;
  const inSchema: string = schema ?? (await knex.raw('select current_schema() as s')).rows[0].s;
  const long = [...secrets].filter((s) => s.length >= MIN_SUBSTRING);
  const short = new Set([...secrets].filter((s) => s.length < MIN_SUBSTRING));
  const matcher = new SecretMatcher(long);
  const cols: Column[] = (
    await knex.raw(
      `select c.table_name as table, c.column_name as column, c.data_type as type from information_schema.columns c
       join information_schema.tables t on t.table_schema = c.table_schema and t.table_name = c.table_name and t.table_type = 'BASE TABLE'
       where c.table_schema = ? and c.data_type in ('text', 'character varying', 'jsonb', 'json') and c.table_name not like 'etl\\_migrations%'
       order by 1, 2`,
      [inSchema],
    )
  ).rows;
  const looks: Look[] = cols
    .map((column) => ({
      column,
      inside: long.length > 0,
      whole: short.size > 0 && !isJson(column) && SECRET_COLUMN.test(column.column),
      json: short.size > 0 && isJson(column),
      rows: 0,
    }))
    .filter((l) => l.inside || l.whole || l.json);
  const conn = (await knex.client.acquireConnection()) as PoolClient;
  try {
    for (const table of new Set(looks.map((l) => l.column.table))) {
      await scanTable(conn, inSchema, looks.filter((l) => l.column.table === table), matcher, short);
    }
  } finally {
    await knex.client.releaseConnection(conn);
  }
  const problems = looks.filter((l) => l.rows > 0).map((l) => `${l.column.table}.${l.column.column}: ${l.rows} row(s)`);
  const scope = `${secrets.size} plaintext value(s) from the sources, ${cols.length} text/jsonb columns` + (unread ? `; ${unread} run(s) whose sources could not be re-read were not covered` : '');
  return { name, ok: problems.length === 0, detail: problems.length ? `a source's plaintext secret is stored in ${problems.join('; ')} (${scope})` : scope };
}
