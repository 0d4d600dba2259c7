import { formatTable } from '../pipeline/report';
import type { VerifyReport } from './verify';

/** pgloader-like: one line per table, then the runs and every check with its verdict. */
export function formatVerifyReport(r: VerifyReport): string {
  const out = formatTable(
    ['table', 'source', 'loaded', 'merged', 'repaired', 'rejected', 'expected', 'actual', 'missing', 'extra', 'changed', 'checksum'],
    r.tables.map((t) => [
      t.table,
      ...[t.source, t.loaded, t.merged, t.repaired, t.rejected, t.expected, t.actual, t.missingCount, t.extraCount, t.changedCount].map(String),
      t.checksum.expected === t.checksum.actual ? 'equal' : 'DIFFERS',
    ]),
  );
  out.push('');
  for (const run of r.runs) {
    out.push(`run ${run.id} (${run.pipeline}, tenant ${run.tenant}, ${run.state}), verified from ${run.from === 'source' ? 'its re-read sources' : 'the counts it recorded'}`);
    for (const s of run.sources) out.push(`  ${s.status === 'ok' ? 'source ' : s.status.padEnd(7)} ${s.path} sha256 ${s.sha256.slice(0, 12)}…`);
    if (run.note) out.push(`  note: ${run.note}`);
  }
  if (r.runs.length) out.push('');
  for (const c of r.checks) out.push(`${c.ok ? 'ok  ' : 'FAIL'}  ${c.name}: ${c.detail}`);
  out.push('', r.ok ? 'verify: every record is accounted for and the target matches its sources.' : `verify: ${r.checks.filter((c) => !c.ok).length} check(s) failed (see FAIL above; \`etl verify --json\` lists the ids).`);
  return out.join('\n');
}
