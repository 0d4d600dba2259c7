import { openTarget } from '../db/connect';
import type { Logger } from '../log';
import { formatTable } from '../pipeline/report';
import { rollbackRun } from '../pipeline/rollback';
import { assertSchema } from '../verify/verify';

export interface RollbackOptions {
  database?: string;
  run: string;
  json: boolean;
}

export async function rollbackCommand(o: RollbackOptions, log: Logger): Promise<number> {
  const db = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, existingOnly: true });
  try {
    await assertSchema(db.knex);
    const report = await rollbackRun(db.knex, o.run, log);
    if (o.json) {
      process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    } else {
      const rows = report.tables.map((t) => [t.table, String(t.deleted), String(t.restored)]);
      const lines = [...formatTable(['table', 'deleted', 'restored'], rows), '', `run ${report.rolledBack} rolled back (recorded as run ${report.runId}): the rows it inserted are deleted, the rows it updated have their earlier values.`];
      const app = report.projected.filter((p) => p.deleted || p.updated);
      if (app.length) lines.push(...['', "the application's own tables:", ...formatTable(['table', 'deleted', 'updated'], app.map((p) => [p.table, String(p.deleted), String(p.updated)]))]);
      process.stdout.write(lines.join('\n') + '\n');
    }
    return 0;
  } finally {
    await db.close();
  }
}
