/**
 * `etl verify`: every run recorded in the target (the latest per pipeline, tenant and source files)
 * against its sources, in one READ ONLY transaction.
 */
import type { Knex } from 'knex';
import { INFERRED_TABLE, TABLES } from '../../loaders/tables';
import { targetFor } from '../../loaders/targets';
import { pendingMigrations } from '../db/migrate';
import { EtlError } from '../errors';
import { tenantId as tenantIdOf } from '../normalize/ids';
import { ActualSpool } from './actual-spool';
import { compareTable } from './compare';
import { assertExpanded, evolveChecks } from './evolve';
import { type Check, checkApiKeysEncrypted, checkForeignKeys, checkMeaningfulNulls, checkMessageCounts, checkNoPlaintextSecrets, checkUsernameFold } from './checks';
import { ROLLBACK_PIPELINE } from '../pipeline/runs';
import { emptyExpectation, type Expectation, expectRun, type Figures, type RecordedRun, type SourceCheck, type StreamFigures } from './expected';
import { checksumColumns } from './rowhash';

export type { Check };

export interface RunEntry {
  id: string;
  pipeline: string;
  tenant: string;
  state: string;
  fingerprint: string;
  started_at: string;
  finished_at: string | null;
  sources: SourceCheck[];
  from: 'source' | 'recorded counts';
  note?: string;
}

export interface StreamEntry extends Figures, Pick<StreamFigures, 'stream' | 'table'> {
  run: string;
  /** The figures the run recorded (its checkpoint), when they exist. */
  recorded: Figures | null;
  from: 'source' | 'recorded counts';
}

export interface TableEntry {
  table: string;
  source: number;
  loaded: number;
  merged: number;
  repaired: number;
  rejected: number;
  expected: number;
  actual: number;
  missing: string[];
  extra: string[];
  /** Rows whose checksum columns differ from what the source gives. */
  changed: string[];
  missingCount: number;
  extraCount: number;
  changedCount: number;
  /** Rows written from sources that could not be re-read: compared by count only. */
  countsOnly: number;
  checksum: { columns: string[]; expected: string; actual: string };
  ok: boolean;
}

export interface VerifyReport {
  ok: boolean;
  runs: RunEntry[];
  streams: StreamEntry[];
  tables: TableEntry[];
  checks: Check[];
}

/** verify reads only: a target without etl's schema (or with an older one) is refused, never migrated. */
export async function assertSchema(knex: Knex): Promise<void> {
  const exists = (await knex.raw("select to_regclass('etl_runs') as t")).rows[0].t !== null;
  if (!exists) throw new EtlError('NO_SCHEMA', 'The target database has no etl schema (no etl_runs table): nothing was loaded into it yet; load it with `etl run` first (this command never creates tables).');
  const pending = await pendingMigrations(knex);
  if (pending.length) throw new EtlError('NO_SCHEMA', `The target's etl schema is older than this etl (missing ${pending.join(', ')}); run \`etl migrate\` first (this command never changes the schema).`);
  await assertExpanded(knex);
}

/** Runs a function in a READ ONLY, REPEATABLE READ transaction: one snapshot, and any write fails. */
export async function readOnly<T>(knex: Knex, fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(fn, { isolationLevel: 'repeatable read', readOnly: true });
}

/** The latest run per pipeline, tenant and set of source paths; `runs` and the result are oldest first (the order they were loaded in). */
function latestRuns(runs: readonly RecordedRun[]): RecordedRun[] {
  const latest = new Map<string, number>();
  runs.forEach((r, i) => latest.set(JSON.stringify([r.pipeline, r.tenant, r.sources.map((s) => s.path).sort()]), i));
  return [...latest.values()].sort((a, b) => a - b).map((i) => runs[i]);
}

function figuresOf(c: Record<string, unknown>): Figures & Record<string, number> {
  const n = (k: string) => Number(c[k] ?? 0);
  return {
    source: n('read'),
    loaded: n('loaded'),
    merged: n('merged'),
    rejected: n('rejected'),
    repaired: n('repaired'),
    inferredUsers: n('inferredUsers'),
    inferredConversations: n('inferredConversations'),
    inferredPersonas: n('inferredPersonas'),
    importedHistory: n('importedHistory'),
  };
}

export async function verifyTarget(knex: Knex): Promise<VerifyReport> {
  await assertSchema(knex);
  return readOnly(knex, (trx) => verifyIn(trx));
}

/** A stream's figures as far as known: recomputed ones (`from: 'source'`) are final once its table is compared. */
interface StreamSource {
  run: RecordedRun;
  figures: Figures & { stream: string; table: string };
  recorded: Figures | null;
  from: 'source' | 'recorded counts';
  note?: string;
}

async function verifyIn(knex: Knex): Promise<VerifyReport> {
  // Rolled-back runs left nothing behind, and a rollback loads nothing: neither is expected to hold rows.
  const all: RecordedRun[] = (await knex.raw("select * from etl_runs where state <> 'rolled_back' and pipeline <> ? order by started_at, id", [ROLLBACK_PIPELINE])).rows;
  const runs = latestRuns(all);
  const existing = new Map<string, string[]>();
  for (const spec of uniqueSpecs()) {
    if ((await knex.raw('select to_regclass(?) as t', [spec.table])).rows[0].t !== null) existing.set(spec.table, checksumColumns(spec));
  }
  const expectation = emptyExpectation();
  const spool = new ActualSpool();
  // The server hashes the tables while the sources are re-read here; awaited before the comparison.
  const reading = spool.read(knex, existing);
  reading.catch(() => undefined);
  try {
    return await verifyRuns(knex, all, runs, expectation, { spool, reading });
  } finally {
    expectation.store.close();
    spool.close();
  }
}

async function verifyRuns(knex: Knex, all: RecordedRun[], runs: RecordedRun[], expectation: Expectation, actual: { spool: ActualSpool; reading: Promise<void> }): Promise<VerifyReport> {
  const runEntries: RunEntry[] = [];
  const sources: StreamSource[] = [];
  const checks: Check[] = [];
  /** Per table, rows the runs whose sources could not be re-read recorded (loaded + inferred). */
  const recordedRows = new Map<string, number>();
  const fallbackPaths: string[] = [];
  let unread = 0;

  for (const run of runs) {
    const e = await expectRun(run, expectation);
    runEntries.push({ id: run.id, pipeline: run.pipeline, tenant: run.tenant, state: run.state, fingerprint: run.fingerprint, started_at: run.started_at, finished_at: run.finished_at, sources: e.sources, from: e.from, note: e.note });
    const checkpoints: { stream: string; counts: Record<string, unknown> }[] = await knex('etl_checkpoints').where({ pipeline: run.pipeline, tenant: run.tenant, fingerprint: run.fingerprint }).select('stream', 'counts');
    const recorded = new Map(checkpoints.map((c) => [c.stream, figuresOf(c.counts)]));
    if (e.from === 'source') {
      for (const f of e.streams) sources.push({ run, figures: f, recorded: recorded.get(f.stream) ?? null, from: 'source' });
    } else {
      unread++;
      fallbackPaths.push(...run.sources.map((x) => x.path));
      // Per table from the run's summary (finished or failed runs), else per stream from its checkpoints.
      const perTable = run.summary?.tables;
      const entries: [string, string, Figures & Record<string, number>][] = perTable
        ? perTable.map((t) => [String(t.table), String(t.table), figuresOf(t)])
        : [...recorded].map(([stream, f]) => [stream, '?', f]);
      for (const [stream, table, f] of entries) sources.push({ run, figures: { ...pick(f), stream, table }, recorded: pick(f), from: 'recorded counts', note: e.note });
    }
  }

  // The parent ids served the parent rules while the sources were re-read (250,000 conversation ids
  // at 5,000,000 messages): let go of them before the comparison, the longest phase.
  for (const ids of expectation.parentIds.values()) ids.clear();

  // Runs whose sources could not be re-read, and the earlier runs of the same files: the rows they
  // first wrote (etl_run_id) are compared by count with what they recorded (new rows + inferred rows).
  const countedRuns = new Set(all.filter((r) => r.sources.some((x) => fallbackPaths.includes(x.path))).map((r) => r.id));
  for (const run of all.filter((r) => countedRuns.has(r.id))) {
    for (const t of run.summary?.tables ?? []) {
      const f = figuresOf(t);
      const table = String(t.table);
      recordedRows.set(table, (recordedRows.get(table) ?? 0) + (t.inserted === undefined ? f.loaded : Number(t.inserted)));
      for (const [count, into] of Object.entries(INFERRED_TABLE) as [keyof typeof INFERRED_TABLE, string][]) {
        if (f[count] > 0) recordedRows.set(into, (recordedRows.get(into) ?? 0) + f[count]);
      }
    }
  }

  const tables: TableEntry[] = [];
  const tableChecks: Check[] = [];
  await actual.reading;
  const { spool } = actual;
  for (const spec of uniqueSpecs()) {
    const rows = spool.has(spec.table) ? spool.table(spec.table) : null;
    const c = compareTable(spec, rows, expectation, countedRuns);
    if (!rows) continue;
    const figures = sources.filter((s) => s.figures.table === spec.table).map((s) => s.figures);
    const sum = (k: keyof Figures) => figures.reduce((n, s) => n + s[k], 0);
    const expectedRows = c.expected - c.countedExpected + (recordedRows.get(spec.table) ?? 0);
    // A table no run loads and that holds nothing is not part of the cutover: not listed.
    if (expectedRows === 0 && c.sumActual.count === 0 && figures.length === 0) continue;
    const entry: TableEntry = {
      table: spec.table,
      source: sum('source'),
      loaded: sum('loaded'),
      merged: sum('merged'),
      repaired: sum('repaired'),
      rejected: sum('rejected'),
      expected: expectedRows,
      actual: c.sumActual.count,
      missing: c.missing.ids,
      extra: c.extra.ids,
      changed: c.changed.ids,
      missingCount: c.missing.count,
      extraCount: c.extra.count,
      changedCount: c.changed.count,
      countsOnly: c.countsOnly,
      checksum: { columns: checksumColumns(spec), expected: c.sumExpected.toString(), actual: c.sumActual.toString() },
      ok: c.missing.count === 0 && c.extra.count === 0 && c.changed.count === 0 && expectedRows === c.sumActual.count,
    };
    tables.push(entry);
    tableChecks.push({ name: `rows of ${spec.table} match the sources`, ok: entry.ok, detail: tableDetail(entry) });
  }

  // Every table is compared: the recomputed figures are final.
  const streams: StreamEntry[] = [];
  for (const run of runs) {
    checks.push({ name: `run ${run.id} finished`, ok: run.state === 'done', detail: run.state === 'done' ? `${run.pipeline}, tenant ${run.tenant}, finished ${run.finished_at}` : `state ${run.state}: run the same \`etl run\` command again to finish it` });
    for (const s of runEntries.find((r) => r.id === run.id)!.sources) {
      if (s.status === 'changed') checks.push({ name: `source unchanged: ${s.path}`, ok: false, detail: `sha256 was ${s.sha256} when run ${run.id} loaded it${s.sha256Now ? `, is ${s.sha256Now} now` : ''}: the target reflects the old file; run \`etl run\` on it again` });
      if (s.status === 'missing') checks.push({ name: `source present: ${s.path}`, ok: true, detail: `the file is gone: run ${run.id} is compared with the counts it recorded, not with its source` });
    }
    for (const { figures: f, recorded: rec, from, note } of sources.filter((s) => s.run === run)) {
      streams.push({ run: run.id, stream: f.stream, table: f.table, ...pick(f), recorded: rec && pick(rec), from });
      if (from === 'recorded counts') {
        checks.push({
          name: `records accounted for: ${f.stream} (run ${run.id})`,
          ok: f.source === f.loaded + f.merged + f.rejected,
          detail: `source ${f.source} = loaded ${f.loaded} + merged ${f.merged} + rejected ${f.rejected} (recorded counts: ${note})`,
        });
        continue;
      }
      const same = rec !== null && (['source', 'loaded', 'merged', 'rejected', 'repaired'] as const).every((k) => rec[k] === f[k]);
      checks.push({
        name: `records accounted for: ${f.stream} (run ${run.id})`,
        ok: same && f.source === f.loaded + f.merged + f.rejected,
        detail:
          `source ${f.source} = loaded ${f.loaded} + merged ${f.merged} + rejected ${f.rejected}` +
          (rec === null ? '; the run recorded no figures for this stream' : same ? ', as the run recorded' : `; the run recorded source ${rec.source}, loaded ${rec.loaded}, merged ${rec.merged}, rejected ${rec.rejected}, repaired ${rec.repaired}`),
      });
    }
  }
  checks.push(...tableChecks);

  const tenantIds = [...new Set(runs.map((r) => tenantIdOf(r.tenant)))];
  const tenants: string[] = (await knex.raw('select id::text as id from tenants')).rows.map((r: { id: string }) => r.id);
  const missingTenants = tenantIds.filter((t) => !tenants.includes(t));
  // Tenants come from --tenant; a pipeline that loads tenant records has them compared as a table instead.
  const tenantsLoadedAsTable = uniqueSpecs().some((s) => s.table === 'tenants');
  const extraTenants = tenantsLoadedAsTable ? [] : tenants.filter((t) => !tenantIds.includes(t));
  checks.push({
    name: 'a tenant row for every tenant loaded, and no other',
    ok: missingTenants.length === 0 && extraTenants.length === 0,
    detail: missingTenants.length || extraTenants.length ? `missing ${missingTenants.join(', ') || 'none'}; extra ${extraTenants.join(', ') || 'none'}` : `${tenants.length} tenant(s)`,
  });
  checks.push(await checkForeignKeys(knex));
  checks.push(await checkMeaningfulNulls(knex));
  checks.push(await checkUsernameFold(knex));
  checks.push(...(await evolveChecks(knex)));
  checks.push(await checkNoPlaintextSecrets(knex, expectation.secrets, unread));
  const counts = await checkMessageCounts(knex);
  if (counts) checks.push(counts);
  const apiKeys = await checkApiKeysEncrypted(knex);
  if (apiKeys) checks.push(apiKeys);
  // An application target: its tables against etl's canonical rows, and what the application needs.
  for (const name of new Set(runs.map((r) => r.options?.target ?? 'etl'))) {
    checks.push(...(await targetFor(name).verify(knex, { secrets: expectation.secrets, unread })));
  }
  if (runs.length === 0) checks.push({ name: 'runs recorded', ok: true, detail: 'no etl run is recorded in this target' });

  return { ok: checks.every((c) => c.ok), runs: runEntries, streams, tables, checks };
}

function pick(f: Figures): Figures {
  return { source: f.source, loaded: f.loaded, merged: f.merged, rejected: f.rejected, repaired: f.repaired };
}

function uniqueSpecs() {
  const seen = new Set<string>();
  return Object.values(TABLES).filter((s) => !seen.has(s.table) && seen.add(s.table));
}

function tableDetail(t: TableEntry): string {
  const ids = (label: string, list: string[], n: number) => (n ? [`${label} ${n}: ${list.slice(0, 5).join(', ')}${n > 5 ? ', …' : ''}`] : []);
  const parts = [
    `expected ${t.expected}, actual ${t.actual}`,
    ...ids('missing', t.missing, t.missingCount),
    ...ids('extra', t.extra, t.extraCount),
    ...ids('changed', t.changed, t.changedCount),
  ];
  if (t.countsOnly) parts.push(`${t.countsOnly} rows first written by runs whose sources could not be re-read (or by earlier runs of the same files), compared by count with what those runs recorded`);
  parts.push(`checksum over ${t.checksum.columns.join(', ')}: ${t.checksum.expected === t.checksum.actual ? 'equal' : `expected ${t.checksum.expected}, actual ${t.checksum.actual}`}`);
  return parts.join('; ');
}
