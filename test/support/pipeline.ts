import { etlTarget } from '../../loaders/etl';
import path from 'node:path';
import type { Knex } from 'knex';
import { extractorFor } from '../../extractors/registry';
import type { ExtractorOptions } from '../../extractors/types';
import { silentLogger } from '../../src/log';
import type { Progress } from '../../src/pipeline/progress';
import { type RunOptions, type RunReport, runPipeline } from '../../src/pipeline/run';

export const quietProgress: Progress = { start() {}, update() {}, track: (s) => s, preflight() {}, stop() {} };

export const DATA_TABLES = ['tenants', 'users', 'conversations', 'messages', 'auth_sessions', 'documents'] as const;

/** Runs a pipeline in-process against `knex`, as `etl run` would after preflight. */
export async function runIn(
  knex: Knex,
  pipeline: string,
  sources: string[],
  opts: Partial<RunOptions & ExtractorOptions> = {},
): Promise<RunReport> {
  const extractor = extractorFor(pipeline);
  const opened = await extractor.open(sources, { tableMap: opts.tableMap ?? {}, documentsDir: opts.documentsDir });
  return runPipeline(
    knex,
    {
      extractor,
      opened,
      opts: {
        target: opts.target ?? etlTarget,
        tenant: opts.tenant ?? 'default',
        sourceTimeZone: opts.sourceTimeZone ?? 'UTC',
        tenantMap: opts.tenantMap,
        batchSize: opts.batchSize ?? 5000,
        concurrency: opts.concurrency ?? 2,
        bcryptCost: opts.bcryptCost ?? 4,
        orphans: opts.orphans ?? 'infer',
        restart: opts.restart ?? false,
        fernet: opts.fernet ?? null,
        maxRejects: opts.maxRejects,
        dryRun: opts.dryRun,
        inputs: { paths: sources.map((p) => path.resolve(p)), tableMap: opts.tableMap ?? {}, documentsDir: opts.documentsDir && path.resolve(opts.documentsDir) },
      },
      log: silentLogger,
      progress: quietProgress,
    },
  );
}

/** Row counts of every data table. */
export async function rowCounts(knex: Knex): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of DATA_TABLES) out[t] = Number((await knex(t).count<{ count: string }[]>('* as count'))[0].count);
  return out;
}

/** An order-independent checksum of every data table's full rows (all columns). */
export async function checksums(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of DATA_TABLES) {
    const res = await knex.raw(`select coalesce(md5(string_agg(md5(x::text), '' order by md5(x::text))), 'empty') as sum from ${t} x`);
    out[t] = res.rows[0].sum;
  }
  return out;
}

/** Full-row checksums of every table, etl_* bookkeeping included, plus the list of tables: "byte-identical" for our purposes. */
export async function allChecksums(knex: Knex): Promise<Record<string, string>> {
  const tables: string[] = (await knex.raw("select table_name from information_schema.tables where table_schema = current_schema() order by 1")).rows.map((r: { table_name: string }) => r.table_name);
  const out: Record<string, string> = { '(tables)': tables.join(',') };
  for (const t of tables) {
    const res = await knex.raw(`select count(*)::int as n, coalesce(md5(string_agg(md5(x::text), '' order by md5(x::text))), 'empty') as sum from "${t}" x`);
    out[t] = `${res.rows[0].n}:${res.rows[0].sum}`;
  }
  return out;
}

/**
 * Checksums of the data columns only (without the etl_* bookkeeping and the columns in `except`),
 * to compare two databases.
 */
export async function dataChecksums(knex: Knex, tables: readonly string[] = DATA_TABLES, except: readonly string[] = []): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of tables) {
    const cols = (await knex.raw(`select column_name from information_schema.columns where table_name = ? and column_name not like 'etl\\_%' order by ordinal_position`, [t])).rows
      .map((r: { column_name: string }) => r.column_name)
      .filter((c: string) => !except.includes(c))
      .map((c: string) => `"${c}"`)
      .join(', ');
    const res = await knex.raw(`select count(*)::int as n, coalesce(md5(string_agg(md5(row(${cols})::text), '' order by md5(row(${cols})::text))), 'empty') as sum from ${t}`);
    out[t] = `${res.rows[0].n}:${res.rows[0].sum}`;
  }
  return out;
}

export function table(report: RunReport, name: string) {
  const t = report.tables.find((x) => x.table === name);
  if (!t) throw new Error(`no ${name} in report: ${report.tables.map((x) => x.table).join(', ')}`);
  return t;
}

/** Every table of the target (etl's own included), for scans that must cover everything. */
export async function allTables(knex: Knex): Promise<string[]> {
  const res = await knex.raw("select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE' order by 1");
  return res.rows.map((r: { table_name: string }) => r.table_name);
}

/**
 * The text of every text, varchar, json and jsonb value of every table, one string per table, to
 * assert that a secret appears nowhere.
 */
export async function allStoredText(knex: Knex): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const t of await allTables(knex)) {
    const cols = (
      await knex.raw(
        `select column_name from information_schema.columns where table_schema = 'public' and table_name = ? and data_type in ('text', 'character varying', 'json', 'jsonb')`,
        [t],
      )
    ).rows.map((r: { column_name: string }) => `coalesce("${r.column_name}"::text, '')`);
    if (cols.length === 0) continue;
    const res = await knex.raw(`select coalesce(string_agg(concat_ws(' ', ${cols.join(', ')}), ' '), '') as s from "${t}"`);
    out[t] = res.rows[0].s;
  }
  return out;
}

/**
 * A `--restart` over loaded data accounts for every record as the first run did; what it wrote,
 * and whether a record was new or unchanged since the last pass, differ (it skips unchanged ones).
 */
export function expectRestartAccountedAsFirst(restarted: RunReport, first: RunReport): void {
  const figures = (r: RunReport) => r.tables.map(({ seconds: _s, inserted: _i, updated: _u, deltaNew: _n, deltaUnchanged: _c, ...t }) => t);
  expect(figures(restarted)).toEqual(figures(first));
  expect(restarted.tables.map((t) => t.deltaUnchanged)).toEqual(first.tables.map((t) => t.read));
}
