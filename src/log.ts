import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactRecord, redactUrlCredentials } from './secrets/redact';

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
    serializers: {
      err: (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        return { type: err.name, code: (err as { code?: string }).code, message: redactUrlCredentials(err.message) };
      },
    },
    formatters: { log: (obj) => redactRecord(obj) as Record<string, unknown> },
  };
  const usePretty = opts.pretty ?? Boolean(process.stderr.isTTY);
  const dest = usePretty
    ? pretty({ destination: 2, sync: true, colorize: true, ignore: 'pid,hostname', translateTime: 'HH:MM:ss' })
    : pino.destination({ dest: 2, sync: true });
  return pino(options, dest);
}

/** A logger that writes nothing, for library calls from tests. */
export const silentLogger: Logger = pino({ level: 'silent' });
