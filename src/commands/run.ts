import path from 'node:path';
import { extractorFor } from '../../extractors/registry';
import { CHAT_KINDS, type ChatKind, type ExtractorOptions, type OpenedSources } from '../../extractors/types';
import { TABLES } from '../../loaders/tables';
import type { ApiKeyRule, Target } from '../../loaders/target';
import { targetFor } from '../../loaders/targets';
import { withSearchConfig } from '../db/evolve/search-config';
import type { OrphanPolicy } from '../../loaders/writer';
import { openTarget } from '../db/connect';
import { readJsonFile } from '../scan/json-file';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { assertTimeZone } from '../normalize/timestamp';
import { createProgress } from '../pipeline/progress';
import { formatPlan, formatRunReport } from '../pipeline/report';
import { runPipeline } from '../pipeline/run';
import type { Fernet } from '../secrets/fernet';
import { ETL_KEYS, keyFromEnv } from '../../loaders/api-keys';
import { assertEmail } from '../normalize/email';

export interface RunCommandOptions {
  database?: string;
  target: string;
  /** Absent: `default` (a target without tenants refuses one given). */
  tenant?: string;
  /** Text search configuration of the tenant's messages (`--fts-config`). */
  ftsConfig?: string;
  batchSize: number;
  concurrency: number;
  sourceTimezone: string;
  bcryptCost: number;
  orphans: OrphanPolicy;
  map: string[];
  documents?: string;
  tenantMap?: string;
  restart: boolean;
  prune: boolean;
  allowPlaintextKeys: boolean;
  owner?: string;
  ownerEmail?: string;
  json: boolean;
  maxRejects?: number;
  dryRun: boolean;
}

/** What `--map source=target` may name: a kind (`message`) or its table (`messages`), or `ignore`. */
function mapTarget(name: string): ChatKind | 'ignore' | undefined {
  if (name === 'ignore') return 'ignore';
  return CHAT_KINDS.find((k) => k === name || TABLES[k].table === name);
}

/** `--map a=message,b=ignore` or `--map users=users,chats=messages` (repeatable) → table map. */
function parseTableMap(specs: string[]): ExtractorOptions['tableMap'] {
  // Own properties only (fromEntries): `--map __proto__=ignore` must name a table like any other.
  const entries: [string, ChatKind | 'ignore'][] = [];
  for (const part of specs.flatMap((s) => s.split(','))) {
    const m = /^([^=]+)=([a-z_]+)$/.exec(part.trim());
    const target = m ? mapTarget(m[2]) : undefined;
    if (!m || !target) {
      const choices = [...CHAT_KINDS.flatMap((k) => [k, TABLES[k].table]), 'ignore'];
      throw new EtlError('USAGE', `--map expects source=${[...new Set(choices)].join('|')}, got "${part}".`);
    }
    entries.push([m[1].trim(), target]);
  }
  return Object.fromEntries(entries);
}

/**
 * The key API keys are encrypted with, by the target's rule (the first of its variables set).
 * Sources holding keys and no key set: exit 2 before anything is written, unless plaintext keys
 * were explicitly allowed.
 */
function encryptionKey(rule: ApiKeyRule, secrets: number, allowPlaintext: boolean, log: Logger): Fernet | null {
  const key = keyFromEnv(rule);
  if (key) {
    if (secrets > 0) log.info(key.how);
    return key.fernet;
  }
  const names = rule.variables.join(' or ');
  if (secrets === 0) return null;
  if (!allowPlaintext) {
    throw new EtlError(
      'USAGE',
      `The sources hold ${secrets} API keys and ${names} is not set; set it (keys are stored only encrypted), or pass --allow-plaintext-keys to store them in plaintext.`,
    );
  }
  log.warn({ apiKeys: secrets }, `${names} is not set and --allow-plaintext-keys was given: API KEYS WILL BE STORED IN PLAINTEXT (api_profiles.api_key_encrypted = false)`);
  return null;
}

const SLUG = /^[a-z0-9][a-z0-9_-]*$/i;

/** `--tenant-map FILE`: a JSON object from tenant names the sources use to target tenant slugs. */
async function readTenantMap(file: string | undefined): Promise<Record<string, string> | undefined> {
  if (file === undefined) return undefined;
  const { value } = await readJsonFile(file, 'tenant map');
  const entries = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.entries(value) : null;
  const bad = entries?.find(([, slug]) => typeof slug !== 'string' || !SLUG.test(slug));
  if (!entries || bad) {
    const what = bad ? `"${bad[0]}" maps to ${JSON.stringify(bad[1])}, not a slug` : 'it is not a JSON object';
    throw new EtlError('USAGE', `--tenant-map ${file} must be a JSON object like {"Legacy name": "tenant-slug"}; ${what}.`);
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/** The target must hold every kind of record the sources have, and tenants only where it has them. */
function checkTarget(target: Target, pipeline: string, opened: OpenedSources, tenantGiven: boolean): void {
  if (tenantGiven && !target.tenants) {
    throw new EtlError('USAGE', `--tenant cannot be used with --target ${target.name}: the application has no tenants, so one ${target.name} database holds one tenant's data; load each tenant into its own database.`);
  }
  if (target.kinds === 'all') return;
  const kinds = target.kinds;
  const foreign = [...new Set(opened.streams.filter((s) => !kinds.has(s.entity)).map((s) => TABLES[s.entity].table))];
  if (foreign.length) {
    throw new EtlError('USAGE', `--target ${target.name} has no table for ${foreign.join(', ')} (pipeline ${pipeline}); load these sources with --target etl, or map the source tables elsewhere with --map.`);
  }
}

/**
 * A target whose rows belong to one app user is bound to `--owner`, which is then the run's
 * tenant (its rows are the owner's); `--owner` anywhere else is refused.
 */
function bindOwner(target: Target, o: RunCommandOptions): Target {
  if (!target.forOwner) {
    if (o.owner !== undefined || o.ownerEmail !== undefined) throw new EtlError('USAGE', `--owner and --owner-email are for --target mul-in-one; --target ${target.name} has no owner.`);
    return target;
  }
  if (o.owner === undefined) throw new EtlError('USAGE', `--target ${target.name} needs --owner, the application user the records belong to (with --owner-email if the app does not have that user yet).`);
  if (!SLUG.test(o.owner)) throw new EtlError('USAGE', `--owner must be a username of letters, digits, - and _, got "${o.owner}".`);
  if (o.ownerEmail !== undefined) assertEmail(o.ownerEmail);
  return target.forOwner({ username: o.owner, email: o.ownerEmail, bcryptCost: o.bcryptCost });
}

export async function runCommand(pipeline: string, sources: string[], o: RunCommandOptions, log: Logger): Promise<number> {
  const extractor = extractorFor(pipeline);
  const tenant = o.owner ?? o.tenant ?? 'default';
  const target = withSearchConfig(bindOwner(targetFor(o.target), o), tenant, o.ftsConfig);
  assertTimeZone(o.sourceTimezone);
  if (!SLUG.test(tenant)) throw new EtlError('USAGE', `--tenant must be a slug of letters, digits, - and _, got "${tenant}".`);
  // Preflight before connecting: a bad source writes nothing, not even the schema.
  const tableMap = parseTableMap(o.map);
  const tenantMap = await readTenantMap(o.tenantMap);
  const progress = createProgress(log, Boolean(process.stderr.isTTY) && !o.json);
  // The preflight's progress line stays on the screen, complete or where a bad source stopped it.
  const opened = await extractor.open(sources, { tableMap, documentsDir: o.documents, onPreflight: (file, read, size) => progress.preflight(file, read, size) }).finally(() => progress.stop());
  checkTarget(target, pipeline, opened, o.tenant !== undefined);
  // The key first: a run refused for want of one says one sentence, without the sources' notes.
  const fernet = encryptionKey(target.apiKeys ?? ETL_KEYS, opened.secrets ?? 0, o.allowPlaintextKeys, log);
  for (const note of opened.notes) log.warn(note);
  const db = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, poolMax: o.concurrency + 3 });
  try {
    const report = await runPipeline(
      db.knex,
      {
        extractor,
        opened,
        opts: {
          target,
          tenant,
          sourceTimeZone: o.sourceTimezone,
          tenantMap,
          batchSize: o.batchSize,
          concurrency: o.concurrency,
          bcryptCost: o.bcryptCost,
          orphans: o.orphans,
          restart: o.restart,
          prune: o.prune,
          fernet,
          maxRejects: o.maxRejects,
          dryRun: o.dryRun,
          inputs: { paths: sources.map((p) => path.resolve(p)), tableMap, documentsDir: o.documents === undefined ? undefined : path.resolve(o.documents) },
        },
        log,
        progress,
      },
    );
    process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : (report.dryRun ? formatPlan(report) : formatRunReport(report)) + '\n');
    return 0;
  } finally {
    await db.close();
  }
}
