import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXTRACTORS } from '../extractors/registry';
import { TARGET_NAMES } from '../loaders/target';
import { TARGETS } from '../loaders/targets';
import { migrateCommand, type MigrateOptions } from './commands/migrate';
import { rollbackCommand, type RollbackOptions } from './commands/rollback';
import { rejectsCommand, type RejectsOptions } from './commands/rejects';
import { statusCommand } from './commands/status';
import { verifyCommand } from './commands/verify';
import { runCommand, type RunCommandOptions } from './commands/run';
import { version } from '../package.json';
import { databaseFault, errorFields } from './db/faults';
import { createLogger, type Logger } from './log';
import { redactText } from './secrets/redact';

function int(min: number, max: number) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected an integer from ${min} to ${max}.`);
    return n;
  };
}

const target = () => new Option('--target <name>', `where the rows land: ${TARGET_NAMES.map((n) => `${n} (${TARGETS[n].summary})`).join('; ')}`).choices([...TARGET_NAMES]).default('etl');
const database = () => new Option('--database <url>', 'PostgreSQL URL of the target (default: an embedded server with data in .etl/)').env('DATABASE_URL');

function program(log: Logger, setCode: (c: number) => void): Command {
  const p = new Command('etl')
    .description("Move a chat platform's legacy data (TinyDB, persona YAML, JSON seeds) into PostgreSQL.\nEvery command can be run again after any failure: reruns resume and never duplicate.")
    .version(version, '-V, --version', 'print the version of etl')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  p.addHelpText(
    'after',
    '\nExit codes: 0 success, 1 a run failed, 2 bad usage or bad input (nothing written).\nWith no --database and no DATABASE_URL, etl starts an embedded PostgreSQL with its data in .etl/.',
  );

  p.command('run')
    .description('load legacy sources into the target database')
    .argument('<pipeline>', `what the sources are: ${EXTRACTORS.map((e) => `${e.name} (${e.summary})`).join('; ')}`)
    .argument('<sources...>', 'source file(s) or folder')
    .addOption(database())
    .addOption(target())
    .option('--tenant <slug>', 'tenant the records belong to (default: default)')
    .option('--fts-config <name>', 'text search configuration of the tenant\'s messages, e.g. turkish (default: simple, or what the tenant has)')
    .option('--tenant-map <file>', 'JSON object mapping tenant names in the sources to target tenant slugs, e.g. {"Test_eTMS": "etms"}')
    .option('--documents <dir>', 'a folder of company JSON arrays (employees.json, …) to load as documents')
    .option('--map <table=entity>', 'map a source table or collection onto users, conversations, messages, sessions, documents (or user, conversation, …), or ignore it; repeatable, comma-separated', (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option('--source-timezone <tz>', 'IANA zone that naive source timestamps are in', 'UTC')
    .addOption(new Option('--orphans <policy>', 'records referring to a user or conversation the source lacks').choices(['infer', 'reject']).default('infer'))
    .option('--batch-size <n>', 'records per transaction', int(1, 1_000_000), 5000)
    .option('--concurrency <n>', 'independent streams loaded at once', int(1, 32), 2)
    .option('--bcrypt-cost <n>', 'bcrypt cost for plaintext-only legacy passwords', int(4, 31), 12)
    .option('--restart', 'forget checkpoints of this source and do a full pass', false)
    .option('--prune', 'delete the rows of records that disappeared from the source since the last pass (default: report them)', false)
    .option('--allow-plaintext-keys', 'with no ETL_ENCRYPTION_KEY (MUL_IN_ONE_ENCRYPTION_KEY for --target mul-in-one, FERNET_KEY for --target itl), store API keys in plaintext (loudly reported)', false)
    .option('--owner <username>', '--target mul-in-one: the Mul-in-One user the personas and API profiles belong to')
    .option('--owner-email <email>', '--target mul-in-one: e-mail of an owner the app does not have yet (etl creates it, and nobody can log in as it)')
    .option('--max-rejects <n>', 'stop the run (exit 1) once more than n records are rejected; a rerun resumes', int(0, Number.MAX_SAFE_INTEGER))
    .option('--dry-run', 'do everything in one transaction that is rolled back, and print what would be inserted, updated, unchanged, merged or rejected', false)
    .option('--json', 'print the run report as one JSON document on stdout', false)
    .action(async (pipeline: string, sources: string[], o: RunCommandOptions) => setCode(await runCommand(pipeline, sources, o, log)));

  p.command('verify')
    .description('prove every run recorded in the target against its sources: counts, missing/extra ids, checksums, integrity (reads only)')
    .addOption(database())
    .option('--json', 'print the result as one JSON document on stdout', false)
    .addHelpText('after', '\nExit codes: 0 everything holds, 1 a difference was found, 2 bad usage or a target without the etl schema.')
    .action(async (o: { database?: string; json: boolean }) => setCode(await verifyCommand(o, log)));

  p.command('status')
    .description('runs, checkpoints and reject counts of the target (reads only)')
    .addOption(database())
    .option('--json', 'print the result as one JSON document on stdout', false)
    .action(async (o: { database?: string; json: boolean }) => setCode(await statusCommand(o, log)));

  p.command('rejects')
    .description('export rejected, merged and inferred records as NDJSON (one JSON document per line), secrets redacted')
    .addOption(database())
    .option('--run <id>', 'only this run (ids: etl status)')
    .option('--stream <name>', 'only this stream (source table), e.g. chat_history')
    .addOption(new Option('--outcome <outcome>', 'only this outcome').choices(['rejected', 'merged', 'inferred', 'repaired', 'disappeared']))
    .action(async (o: RejectsOptions) => setCode(await rejectsCommand(o, log)));

  p.command('rollback')
    .description('undo one run: delete the rows it inserted and give the rows it updated their earlier values (refused while a later run depends on them)')
    .addOption(database())
    .requiredOption('--run <id>', 'the run to undo (ids: etl status)')
    .option('--json', 'print the result as one JSON document on stdout', false)
    .action(async (o: RollbackOptions) => setCode(await rollbackCommand(o, log)));

  p.command('migrate')
    .description('apply the target schema (etl run does this itself); with --target chatcore on an empty database, creates ChatCore\'s schema as its Alembic revision does')
    .addOption(database())
    .addOption(target())
    .option('--status', 'list each schema change\'s steps (expand, backfill, checks, contract) and their state', false)
    .option('--rollback', 'undo the last schema change not yet contracted; with none, the last batch of etl\'s migrations (--target etl only)', false)
    .option('--fts-config <name>', 'text search configuration of --tenant\'s messages (simple, turkish, …); before any is indexed', undefined)
    .option('--tenant <slug>', 'the tenant --fts-config is for')
    .option('--batch-rows <n>', 'rows per backfill transaction', int(100, 10_000_000), 20_000)
    .option('--json', 'print the result as JSON', false)
    .action(async (o: MigrateOptions) => setCode(await migrateCommand(o, log)));
  return p;
}

/**
 * Ctrl-C or a TERM: stop at once. The open batch transaction dies with the connection, so the
 * checkpoints say exactly what was committed and the same command resumes from there.
 */
function exitOnSignals(): void {
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      process.stderr.write(`etl: interrupted (${sig}); committed batches are kept, run the same command again to resume.\n`);
      process.exit(sig === 'SIGINT' ? 130 : 143);
    });
  }
}

/** Parses argv, runs the command, and returns the process exit code (never throws). */
export async function main(argv: string[]): Promise<number> {
  exitOnSignals();
  const log = createLogger();
  let code = 0;
  try {
    await program(log, (c) => (code = c)).parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return 0;
      return 2;
    }
    // Expected failures, database faults included: one sentence, no stack, no SQL.
    const expected = databaseFault(e);
    if (expected) {
      process.stderr.write(`etl: ${redactText(expected.message)}\n`);
      return expected.exitCode;
    }
    log.error(errorFields(e), 'the run failed unexpectedly');
    process.stderr.write(`etl: ${redactText((e as Error)?.stack ?? String(e))}\n`);
    return 1;
  }
}
