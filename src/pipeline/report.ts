import type { RunReport } from './run';

const COLUMNS = [
  ['table', 'table'],
  ['read', 'read'],
  ['loaded', 'loaded'],
  ['merged', 'merged'],
  ['rejected', 'rejected'],
  ['repaired', 'repaired'],
  ['seconds', 'seconds'],
] as const;

/** Columns padded like pgloader's summary: the first left-aligned, the others right-aligned. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

/** What `etl run --dry-run` found: per table, what the run would do; nothing was written. */
export function formatPlan(r: RunReport): string {
  const plan = r.plan ?? [];
  const out = formatTable(
    ['table', 'read', 'insert', 'update', 'unchanged', 'merged', 'rejected'],
    plan.map((p) => [p.table, ...[p.read, p.inserted, p.updated, p.unchanged, p.merged, p.rejected].map(String)]),
  );
  const what =
    r.mode === 'already-done'
      ? 'this source is already loaded; a run would change nothing (add --restart for a full pass)'
      : r.mode === 'resumed'
        ? 'a run would resume the interrupted run from its checkpoints (figures: the rest of the work only)'
        : r.mode === 'restarted'
          ? 'a run would do a full pass over the sources (--restart)'
          : r.mode === 'delta'
            ? 'a run would be a delta pass: write only the records new or changed since the last pass'
            : 'a run would load the sources';
  out.push('', `dry run (${r.pipeline}, tenant ${r.tenant}): ${what}. Nothing was written: everything ran in one transaction that was rolled back.`);
  for (const n of r.notes) out.push(`  - ${n}`);
  out.push(...projectedLines(r, true));
  return out.join('\n');
}

/** An application target's tables: what the run wrote into them (after etl's own tables). */
function projectedLines(r: RunReport, dryRun: boolean): string[] {
  if (!r.projected.length) return [];
  const rows = r.projected.map((p) => [p.table, String(p.inserted), String(p.updated)]);
  const what = dryRun ? 'rows the run would insert and update' : 'rows this run inserted and updated';
  return ['', `${r.target}'s own tables (${what}):`, ...formatTable([`${r.target} table`, 'inserted', 'updated'], rows)];
}

/** A pass over sources loaded before: what changed since, and what became of the records that disappeared. */
function deltaLines(r: RunReport): string[] {
  const d = r.delta;
  if (!d) return [];
  const out = [`  - records since the last pass: ${d.deltaNew} new, ${d.deltaChanged} changed, ${d.deltaUnchanged} unchanged (skipped), ${d.disappeared} disappeared`];
  if (d.replaced) out.push(`  - ${d.replaced} rows of edited records replaced by the rows they produce now`);
  if (d.pruned) out.push(`  - ${d.pruned} rows of disappeared records deleted (--prune)`);
  if (d.disappeared > d.pruned) out.push(`  - disappeared records (their rows stay; --prune deletes them): etl rejects --run ${r.runId} --outcome disappeared`);
  return out;
}

/** The end-of-run summary, like pgloader's: one line per table, then what etl had to decide. */
export function formatRunReport(r: RunReport): string {
  const rows = r.tables.map((t) => COLUMNS.map(([, k]) => (k === 'seconds' ? t.seconds.toFixed(2) : String(t[k]))));
  const header = COLUMNS.map(([h]) => h);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
  const total = (k: keyof RunReport['tables'][number]) => r.tables.reduce((n, t) => n + (t[k] as number), 0);
  const facts: string[] = [];
  const say = (n: number, what: string) => n > 0 && facts.push(`${n} ${what}`);
  say(total('inferredUsers'), 'users created from references (no password, reset required)');
  say(total('inferredConversations'), 'conversations created from their messages');
  say(total('inferredPersonas'), "default personas created for users (named after the user; the sources name none)");
  say(total('importedHistory'), 'imported-history conversations for messages without a conversation id');
  say(total('droppedPlaintextPasswords'), 'plaintext passwords dropped (a hash was kept)');
  say(total('unrecognizedPasswordHashes'), 'unrecognized password hashes (user loaded without a password, reset required)');
  say(total('invalidOptionalTimestamps'), 'unparseable optional dates left empty');
  say(total('encryptedSecrets'), 'API keys stored encrypted (Fernet)');
  say(total('keptSecretTokens'), 'API keys kept as given (already Fernet tokens under ETL_ENCRYPTION_KEY)');
  say(total('plaintextSecrets'), 'API keys stored IN PLAINTEXT (--allow-plaintext-keys): set ETL_ENCRYPTION_KEY and run with --restart to encrypt them');
  const mode = {
    fresh: 'loaded',
    restarted: 'reloaded from the start (--restart)',
    resumed: 'resumed from checkpoints and finished',
    'already-done': 'already loaded by this run earlier; nothing changed (use --restart for a full pass)',
    delta: 'delta pass over a new version of sources loaded before',
  }[r.mode];
  out.push('', `run ${r.runId} (${r.pipeline}, tenant ${r.tenant}): ${mode} in ${r.seconds.toFixed(2)} s`);
  out.push(...deltaLines(r));
  for (const f of [...facts, ...r.notes]) out.push(`  - ${f}`);
  if (total('rejected') + total('merged') > 0) out.push(`  - details of rejected and merged records: etl rejects --run ${r.runId}`);
  out.push(...projectedLines(r, false));
  return out.join('\n');
}
