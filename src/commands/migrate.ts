import { targetFor } from '../../loaders/targets';
import { openTarget } from '../db/connect';
import { type EvolveReport, evolveAll, evolveStatus, rollbackLast } from '../db/evolve/apply';
import { recordSearchConfig } from '../db/evolve/search-config';
import { migrateRollback } from '../db/migrate';
import { EtlError } from '../errors';
import type { Logger } from '../log';

export interface MigrateOptions {
  database?: string;
  target: string;
  rollback: boolean;
  status: boolean;
  ftsConfig?: string;
  tenant?: string;
  batchRows?: number;
  json: boolean;
}

function formatEvolve(r: EvolveReport): string {
  const lines = [`${r.change}: ${r.contracted ? 'contracted' : r.expanded ? 'expanded, not contracted' : 'pending'}`];
  for (const b of r.backfilled) lines.push(`  backfill ${b.step}: ${b.rows} rows${b.inferred ? `, ${b.inferred} default personas created (inferred, named after their user)` : ''}${b.seconds ? ` in ${b.seconds.toFixed(1)} s` : ''}`);
  for (const c of r.checks.filter((x) => !x.ok)) lines.push(`  check failed: ${c.name}: ${c.detail}`);
  return lines.join('\n');
}

export async function migrateCommand(o: MigrateOptions, log: Logger): Promise<number> {
  const target = targetFor(o.target);
  if ([o.rollback, o.status].filter(Boolean).length > 1) throw new EtlError('USAGE', 'Give one of --rollback and --status.');
  if ((o.ftsConfig === undefined) !== (o.tenant === undefined)) throw new EtlError('USAGE', '--fts-config and --tenant go together: the tenant whose messages get that text search configuration.');
  const db = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log });
  const out = (doc: unknown, text: string) => process.stdout.write(o.json ? JSON.stringify(doc, null, 2) + '\n' : text + '\n');
  try {
    if (o.status) {
      const status = await evolveStatus(db.knex);
      out(
        { changes: status },
        status.map((c) => [`${c.change}: ${c.summary}`, ...c.steps.map((s) => `  ${s.step.padEnd(24)} ${s.state}${s.rows !== undefined ? `, ${s.rows} rows` : ''}${s.inferred ? `, ${s.inferred} inferred` : ''}${s.progress ? ` (${s.progress})` : ''}${s.detail ? `: ${s.detail}` : ''}`)].join('\n')).join('\n'),
      );
      return 0;
    }
    if (o.rollback) {
      const change = await rollbackLast(db.knex, log);
      if (change) {
        out({ 'rolled back': [change] }, `rolled back: ${change}`);
        return 0;
      }
      if (target.name !== 'etl') {
        throw new EtlError('USAGE', `etl migrate --rollback undoes etl's own schema only; it never drops the tables of --target ${target.name}, which belong to the application.`);
      }
      const names = await migrateRollback(db.knex, log);
      out({ 'rolled back': names }, names.length ? `rolled back: ${names.join(', ')}` : 'nothing to do: the schema is not installed');
      return 0;
    }
    const applied = await target.schema.prepare(db.knex, true, log);
    if (o.ftsConfig !== undefined && o.tenant !== undefined) await recordSearchConfig(db.knex, o.tenant, o.ftsConfig);
    const changes = await evolveAll(db.knex, { batchRows: o.batchRows }, log);
    const failed = changes.some((c) => c.checks.some((x) => !x.ok));
    const done = changes.filter((c) => !c.alreadyDone);
    out(
      { applied, changes },
      applied.length || done.length ? [...(applied.length ? [`applied: ${applied.join(', ')}`] : []), ...done.map(formatEvolve)].join('\n') : 'nothing to do: the schema is up to date',
    );
    return failed ? 1 : 0;
  } finally {
    await db.close();
  }
}
