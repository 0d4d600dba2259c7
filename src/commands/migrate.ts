import { openTarget } from '../db/connect';
import { migrateLatest, migrateRollback } from '../db/migrate';
import type { Logger } from '../log';

export async function migrateCommand(o: { database?: string; rollback: boolean; json: boolean }, log: Logger): Promise<number> {
  const target = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log });
  try {
    const names = o.rollback ? await migrateRollback(target.knex, log) : await migrateLatest(target.knex, log);
    const verb = o.rollback ? 'rolled back' : 'applied';
    process.stdout.write(o.json ? JSON.stringify({ [verb]: names }) + '\n' : names.length ? `${verb}: ${names.join(', ')}\n` : `nothing to do: the schema is ${o.rollback ? 'not installed' : 'up to date'}\n`);
    return 0;
  } finally {
    await target.close();
  }
}
