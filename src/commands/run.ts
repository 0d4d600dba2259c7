import path from 'node:path';
import { extractorFor } from '../../extractors/registry';
import type { EntityKind, ExtractorOptions } from '../../extractors/types';
import { TABLES } from '../../loaders/tables';
import type { OrphanPolicy } from '../../loaders/writer';
import { openTarget } from '../db/connect';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { assertTimeZone } from '../normalize/timestamp';
import { createProgress } from '../pipeline/progress';
import { formatPlan, formatRunReport } from '../pipeline/report';
import { runPipeline } from '../pipeline/run';

export interface RunCommandOptions {
  database?: string;
  tenant: string;
  batchSize: number;
  concurrency: number;
  sourceTimezone: string;
  bcryptCost: number;
  orphans: OrphanPolicy;
  map: string[];
  documents?: string;
  restart: boolean;
  json: boolean;
  maxRejects?: number;
  dryRun: boolean;
}

const ENTITIES = Object.keys(TABLES) as EntityKind[];

/** `--map a=message,b=ignore` (repeatable) → table map. */
export function parseTableMap(specs: string[]): ExtractorOptions['tableMap'] {
  const map: ExtractorOptions['tableMap'] = {};
  for (const part of specs.flatMap((s) => s.split(','))) {
    const m = /^([^=]+)=([a-z_]+)$/.exec(part.trim());
    const target = m?.[2] as EntityKind | 'ignore' | undefined;
    if (!m || !target || (target !== 'ignore' && !ENTITIES.includes(target))) {
      throw new EtlError('USAGE', `--map expects table=${[...ENTITIES, 'ignore'].join('|')}, got "${part}".`);
    }
    map[m[1]] = target;
  }
  return map;
}

export async function runCommand(pipeline: string, sources: string[], o: RunCommandOptions, log: Logger): Promise<number> {
  const extractor = extractorFor(pipeline);
  assertTimeZone(o.sourceTimezone);
  if (!/^[a-z0-9][a-z0-9_-]*$/i.test(o.tenant)) throw new EtlError('USAGE', `--tenant must be a slug of letters, digits, - and _, got "${o.tenant}".`);
  // Preflight before connecting: a bad source writes nothing, not even the schema.
  const tableMap = parseTableMap(o.map);
  const opened = await extractor.open(sources, { tableMap, documentsDir: o.documents });
  for (const note of opened.notes) log.warn(note);
  const target = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, poolMax: o.concurrency + 3 });
  try {
    const progress = createProgress(log, Boolean(process.stderr.isTTY) && !o.json);
    const report = await runPipeline(
      target.knex,
      extractor,
      opened,
      {
        tenant: o.tenant,
        sourceTimeZone: o.sourceTimezone,
        batchSize: o.batchSize,
        concurrency: o.concurrency,
        bcryptCost: o.bcryptCost,
        orphans: o.orphans,
        restart: o.restart,
        maxRejects: o.maxRejects,
        dryRun: o.dryRun,
        inputs: { paths: sources.map((p) => path.resolve(p)), tableMap, documentsDir: o.documents === undefined ? undefined : path.resolve(o.documents) },
      },
      log,
      progress,
    );
    process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : (report.dryRun ? formatPlan(report) : formatRunReport(report)) + '\n');
    return 0;
  } finally {
    await target.close();
  }
}
