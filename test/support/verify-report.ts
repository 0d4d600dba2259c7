import type { VerifyReport } from '../../src/verify/verify';

export function tableOf(r: VerifyReport, name: string) {
  const t = r.tables.find((x) => x.table === name);
  if (!t) throw new Error(`no ${name} in verify report`);
  return t;
}

/** The failed checks, as `name: detail` lines (an empty list when verify holds). */
export const failed = (r: VerifyReport) => r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail}`);
