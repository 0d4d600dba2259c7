import { targetFor } from '../../loaders/targets';
import { openTarget } from '../db/connect';
import { migrateRollback } from '../db/migrate';
import { EtlError } from '../errors';
import type { Logger } from '../log';

export interface MigrateOptions {
  database?: string;
  target: string;
  rollback: boolean;
  json: boolean;
}

export async function migrateCommand(o: MigrateOptions, log: Logger): Promise<number> {
  const target = targetFor(o.target);
  if (o.rollback && target.name !== 'etl') {
    throw new EtlError('USAGE', `etl migrate --rollback undoes etl's own schema only; it never drops the tables of --target ${target.name}, which belong to the application.`);
  }
  const db = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log });
  try {
    const names = o.rollback ? await migrateRollback(db.knex, log) : await target.schema.prepare(db.knex, true, log);
    const verb = o.rollback ? 'rolled back' : 'applied';
    process.stdout.write(o.json ? JSON.stringify({ [verb]: names }) + '\n' : names.length ? `${verb}: ${names.join(', ')}\n` : `nothing to do: the schema is ${o.rollback ? 'not installed' : 'up to date'}\n`);
    return 0;
  } finally {
    await db.close();
  }
}
