import pino, { type Logger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { redactRecord, redactText } from './secrets/redact';
import { oneLine, stderrArea } from './status-area';

export type { Logger };

export interface LogOptions {
  level?: string;
  /** Readable lines instead of JSON; defaults to whether stderr is a terminal. */
  pretty?: boolean;
}

/** pino on stderr (stdout is reserved for `--json` documents), synchronous so a crash loses no line. */
export function createLogger(opts: LogOptions = {}): Logger {
  const level = opts.level ?? process.env.ETL_LOG_LEVEL ?? 'info';
  const options: pino.LoggerOptions = {
    level,
    base: undefined,
    // Already serialized by the formatter below; kept for an `err` that is not an Error.
    serializers: { err: (e: unknown) => (e instanceof Error ? serializeError(e) : e) },
    // pino calls this formatter before the serializers: an Error would reach redactRecord as an
    // object without own enumerable fields and log as "[object Object]", so errors are serialized first.
    formatters: { log: (obj) => redactRecord(withErrorsSerialized(obj)) as Record<string, unknown> },
    // The message text bypasses the formatter: mask it too (a note may quote a source value).
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<typeof method>);
      },
    },
  };
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  return pino(options, usePretty ? readableLines() : pino.destination({ dest: 2, sync: true }));
}

/**
 * One readable line per record, written above the progress lines (src/status-area.ts): fields
 * and errors as compact JSON on the same line (pino-pretty would print an `err` over several).
 */
function readableLines(): { write(record: string): void } {
  const format = prettyFactory({ colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss', singleLine: true, errorLikeObjectKeys: [] });
  return { write: (record) => stderrArea.print(oneLine(format(record))) };
}

/** What a log line says about an error: its type, code and message (secrets masked), no stack. */
export function serializeError(e: unknown): { type: string; code?: string; message: string } {
  const err = e instanceof Error ? e : new Error(typeof e === 'string' ? e : JSON.stringify(e) ?? String(e));
  const code = (err as { code?: unknown }).code;
  return { type: err.name, code: typeof code === 'string' ? code : undefined, message: redactText(err.message) };
}

function withErrorsSerialized(obj: Record<string, unknown>): Record<string, unknown> {
  let out = obj;
  for (const [k, v] of Object.entries(obj)) if (v instanceof Error) out = { ...out, [k]: serializeError(v) };
  return out;
}

/** A logger that writes nothing, for library calls from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
