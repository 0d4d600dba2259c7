import { openTarget } from '../db/connect';
import type { Logger } from '../log';
import { formatVerifyReport } from '../verify/report';
import { verifyTarget } from '../verify/verify';

/** Exit 0 when everything holds, 1 when verify found a difference (2 for bad usage, via EtlError). */
export async function verifyCommand(o: { database?: string; json: boolean }, log: Logger): Promise<number> {
  const target = await openTarget({ databaseUrl: o.database, cwd: process.cwd(), log, existingOnly: true });
  try {
    const report = await verifyTarget(target.knex);
    process.stdout.write(o.json ? JSON.stringify(report, null, 2) + '\n' : formatVerifyReport(report) + '\n');
    return report.ok ? 0 : 1;
  } finally {
    await target.close();
  }
}
