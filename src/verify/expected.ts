/**
 * The source side of `etl verify`: re-open a run's sources with its extractor, normalize every
 * record as the run did, and derive — without writing anything — the rows each target table must
 * hold, with the same parent inference, orphan and duplicate rules as loaders/writer.ts.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { extractorFor } from '../../extractors/registry';
import type { OpenedSources, SourceFile } from '../../extractors/types';
import type { AnyRow } from '../../loaders/rows';
import { dependencyLevels, type InferRule, kindOfTable, type ParentRef, stageValue, TABLES, type TableSpec } from '../../loaders/tables';
import type { OrphanPolicy } from '../../loaders/writer';
import { tenantId as tenantIdOf } from '../normalize/ids';
import { normalizeFor } from '../../loaders/admit';
import { targetFor } from '../../loaders/targets';
import { looksLikeFernetToken } from '../secrets/fernet';
import { holdsPlaintextSecret } from '../secrets/secret-fields';
import { secretValuesIn } from '../secrets/secret-values';
import { MAX_DEPTH } from '../scan/limits';
import { RUN_TENANT_SOURCE, type RunInputs } from '../pipeline/run';
import { ExpectedStore, type Occurrence } from './expected-store';
import { checksumColumns, rowHash } from './rowhash';

export interface RecordedRun {
  id: string;
  pipeline: string;
  tenant: string;
  fingerprint: string;
  state: string;
  sources: SourceFile[];
  options: { target?: string; sourceTimeZone?: string; orphans?: OrphanPolicy; tenantMap?: Record<string, string>; inputs?: RunInputs };
  summary: { tables?: Record<string, number | string>[] } | null;
  started_at: string;
  finished_at: string | null;
}

/** A row verify expects: its checksum-column hash, and the source of the record that wrote it last. */
export interface ExpectedRow {
  id: string;
  hash: string;
  source: string;
}

/** What verify knows so far, over all runs in load order. */
export interface Expectation {
  /** Every record that makes a row, in load order (on disk past a few MiB). */
  store: ExpectedStore;
  /** The ids of the tables other tables refer to, for the writer's parent rules (parents are the small tables). */
  parentIds: Map<string, Set<string>>;
  /** Every stream's figures, in the order read (the store's occurrences point into it). */
  figures: StreamFigures[];
  /** Plaintext secrets seen in the sources (passwords, tokens, API keys), to look for in the target. */
  secrets: Set<string>;
}

/** How a stream's source records were accounted for (recomputed from the sources, or as a run recorded them). */
export interface Figures {
  source: number;
  loaded: number;
  merged: number;
  rejected: number;
  repaired: number;
}

export interface StreamFigures extends Figures {
  stream: string;
  table: string;
  inferredUsers: number;
  inferredConversations: number;
  inferredPersonas: number;
  importedHistory: number;
}

export type SourceStatus = 'ok' | 'missing' | 'changed';

export interface SourceCheck extends SourceFile {
  status: SourceStatus;
  /** The file's sha256 now, when it changed. */
  sha256Now?: string;
}

export interface RunExpectation {
  /** `source`: recomputed from the re-read sources; `recorded counts`: the sources could not be re-read. */
  from: 'source' | 'recorded counts';
  sources: SourceCheck[];
  note?: string;
  streams: StreamFigures[];
}

/** The tables some table refers to, and the tenants (each run adds its own). */
const PARENT_TABLES = new Set([TABLES.tenant.table, ...Object.values(TABLES).flatMap((s) => s.parents.map((p) => p.table))]);

export function emptyExpectation(): Expectation {
  return { store: new ExpectedStore(), parentIds: new Map([...PARENT_TABLES].map((t) => [t, new Set<string>()])), figures: [], secrets: new Set() };
}

/** Whether a parent table's row is expected already (only asked of PARENT_TABLES). */
function expects(e: Expectation, table: string, id: string): boolean {
  return e.parentIds.get(table)!.has(id);
}

/** Records an occurrence of a row; `stream` -1 for a row no record of a stream counts (inferred, the run's tenant). */
function record(e: Expectation, spec: TableSpec, id: string, row: Record<string, unknown>, stream: number, source: string, locator: string): void {
  e.store.add(spec.table, id, hashOf(spec, row), stream, source, locator);
  e.parentIds.get(spec.table)?.add(id);
}

async function sha256Of(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}


/**
 * Plaintext secrets of a raw record, at any depth: text values under secret-like field names (not
 * hashes or ciphers of them, which are stored on purpose), and secret-shaped values (JWTs, provider
 * API keys, PEM private keys) wherever they are.
 */
function collectSecrets(value: unknown, into: Set<string>, depth = 0): void {
  if (depth > MAX_DEPTH || value === null || typeof value !== 'object') return;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') collectSecrets(v, into, depth + 1);
    else if (v !== '' && holdsPlaintextSecret(k) && !looksLikeFernetToken(v)) into.add(v);
    else for (const s of secretValuesIn(v)) into.add(s);
  }
}

const COLUMNS = new Map<TableSpec, string[]>();
function hashOf(spec: TableSpec, row: Record<string, unknown>): string {
  let cols = COLUMNS.get(spec);
  if (!cols) COLUMNS.set(spec, (cols = checksumColumns(spec)));
  return rowHash(cols.map((c) => row[c]));
}

/** Checks the run's recorded sources against the files as they are now. */
async function checkSources(run: RecordedRun): Promise<SourceCheck[]> {
  const out: SourceCheck[] = [];
  for (const s of run.sources) {
    if (!fs.existsSync(s.path)) out.push({ ...s, status: 'missing' });
    else {
      const now = await sha256Of(s.path);
      out.push(now === s.sha256 ? { ...s, status: 'ok' } : { ...s, status: 'changed', sha256Now: now });
    }
  }
  return out;
}

/**
 * Adds what `run` must have written to `into`. Runs must be given in the order they were loaded:
 * a later run's records that repeat an earlier run's rows update them (no new row), as in the writer.
 */
export async function expectRun(run: RecordedRun, into: Expectation): Promise<RunExpectation> {
  const sources = await checkSources(run);
  // The run's own tenant row, which `etl run` creates from --tenant before anything else.
  const runTenant = tenantIdOf(run.tenant);
  if (!expects(into, TABLES.tenant.table, runTenant)) record(into, TABLES.tenant, runTenant, { id: runTenant, slug: run.tenant, created_at: null }, -1, RUN_TENANT_SOURCE, `--tenant ${run.tenant}`);
  const fallback = (note: string): RunExpectation => ({ from: 'recorded counts', sources, note, streams: [] });
  const inputs = run.options?.inputs;
  if (sources.some((s) => s.status === 'missing')) return fallback('a source file is gone: compared with the counts recorded with the run');
  if (sources.some((s) => s.status === 'changed')) return fallback('a source file changed since the run: compared with the counts recorded with the run');
  if (!inputs) return fallback('the run did not record how its sources were opened (an older etl): compared with the counts recorded with the run');

  let opened: OpenedSources;
  try {
    opened = await extractorFor(run.pipeline).open(inputs.paths, { tableMap: inputs.tableMap ?? {}, documentsDir: inputs.documentsDir });
  } catch (e) {
    return fallback(`the sources could not be opened again (${(e as Error).message}): compared with the counts recorded with the run`);
  }
  const recorded = new Set(run.sources.map((s) => `${s.path}\0${s.sha256}`));
  const added = opened.sources.filter((s) => !recorded.has(`${s.path}\0${s.sha256}`));
  if (added.length) {
    for (const s of added) sources.push({ ...s, status: 'changed' });
    return fallback(`the sources now include ${added.map((s) => s.path).join(', ')}, which the run did not read: compared with the counts recorded with the run`);
  }

  const orphans: OrphanPolicy = run.options?.orphans ?? 'infer';
  const target = targetFor(run.options?.target ?? 'etl');
  const tenantId = runTenant;
  const streams: StreamFigures[] = [];
  for (const level of dependencyLevels(opened.streams.map((s) => s.entity))) {
    for (const stream of opened.streams.filter((s) => level.includes(s.entity))) {
      const spec = TABLES[stream.entity];
      const f: StreamFigures = { stream: stream.name, table: spec.table, source: 0, loaded: 0, merged: 0, rejected: 0, repaired: 0, inferredUsers: 0, inferredConversations: 0, inferredPersonas: 0, importedHistory: 0 };
      const index = into.figures.push(f) - 1;
      const ctx = { tenant: run.tenant, tenantId, runId: run.id, source: stream.source.sha256, sourceTimeZone: run.options?.sourceTimeZone ?? 'UTC', tenantMap: run.options?.tenantMap };
      for await (const records of stream.read(0)) {
        for (const rec of records) {
          f.source++;
          collectSecrets(rec.raw, into.secrets);
          const n = normalizeFor(target, rec.entity, ctx, `${rec.locator.table}/${rec.locator.id}`);
          if (!n.ok) {
            f.rejected++;
            continue;
          }
          f.repaired += n.notes.repaired ?? 0;
          const row = n.row as AnyRow as unknown as Record<string, unknown>;
          if (!settleParents(spec, row, orphans, into, f)) {
            f.rejected++;
            continue;
          }
          // Loaded, merged or rejected as a duplicate: decided by `settle` once the id's records are together.
          record(into, spec, row.id as string, row, index, row.etl_source as string, row.etl_locator as string);
        }
      }
      streams.push(f);
    }
  }
  return { from: 'source', sources, streams };
}

/** The writer's parent rules (loaders/writer.ts over TableSpec.parents): infer a missing parent, or reject the record. */
function settleParents(spec: TableSpec, row: Record<string, unknown>, orphans: OrphanPolicy, into: Expectation, f: StreamFigures): boolean {
  const add = (ref: ParentRef, rule: InferRule): void => {
    const kind = kindOfTable(ref.table);
    if (!kind) throw new Error(`no table spec for ${ref.table}`);
    const parent = Object.fromEntries(Object.entries(rule.values).map(([col, expr]) => [col, stageValue(expr, row)]));
    record(into, TABLES[kind], row[ref.column] as string, parent, -1, row.etl_source as string, row.etl_locator as string);
    f[rule.counter]++;
  };
  for (const ref of spec.parents) {
    const id = row[ref.column];
    if (id === null || id === undefined || expects(into, ref.table, id as string)) continue;
    const rules = (ref.infer ?? []).filter((r) => !r.when || row[r.when.column] === r.when.equals);
    const always = rules.find((r) => r.always);
    if (always) {
      add(ref, always);
      continue;
    }
    const rule = rules.find((r) => !r.always);
    if (ref.missing === 'reject' || orphans === 'reject' || !rule) return false;
    add(ref, rule);
  }
  return true;
}

/**
 * The rows of one id range from its occurrences (sorted by id, then load order), with the writer's
 * duplicate rule: a record of the same source under another locator is merged into the row (or
 * rejected where the table says so); any other is loaded, and a later source takes the row over.
 * Counts each record in its stream's figures.
 */
export function settle(spec: TableSpec, occurrences: readonly Occurrence[], figures: StreamFigures[]): ExpectedRow[] {
  const rows: ExpectedRow[] = [];
  let row: ExpectedRow | null = null;
  let locator = 0;
  for (const o of occurrences) {
    if (row === null || row.id !== o.id) {
      rows.push((row = { id: o.id, hash: o.hash, source: o.source }));
      locator = o.locator;
      if (o.stream >= 0) figures[o.stream].loaded++;
    } else if (row.source === o.source && locator !== o.locator) {
      if (spec.duplicates?.reject) figures[o.stream].rejected++;
      else figures[o.stream].merged++;
    } else {
      figures[o.stream].loaded++;
      if (row.source !== o.source) [row.source, locator] = [o.source, o.locator];
    }
  }
  return rows;
}
