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
  }[r.mode];
  out.push('', `run ${r.runId} (${r.pipeline}, tenant ${r.tenant}): ${mode} in ${r.seconds.toFixed(2)} s`);
  for (const f of [...facts, ...r.notes]) out.push(`  - ${f}`);
  if (total('rejected') + total('merged') > 0) out.push(`  - details of rejected and merged records: etl rejects --run ${r.runId}`);
  return out.join('\n');
}
