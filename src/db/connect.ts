/**
 * The target database: `--database` / `DATABASE_URL`, or an embedded PostgreSQL under `.etl/pg`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import { knex as createKnex, type Knex } from 'knex';
import pg from 'pg';
import { EtlError } from '../errors';
import type { Logger } from '../log';
import { redactUrlCredentials } from '../secrets/redact';
import { startEmbedded } from './embedded';
import { withRetry } from './retry';

export interface Target {
  knex: Knex;
  /** The connection URL with its password redacted, for messages. */
  url: string;
  embedded: boolean;
  /** Destroys the pool and stops the embedded server if this process owns it. Idempotent. */
  close(): Promise<void>;
}

export interface OpenTargetOptions {
  /** `--database` or `DATABASE_URL`; without it an embedded PostgreSQL is used. */
  databaseUrl?: string;
  cwd: string;
  log: Logger;
  poolMax?: number;
  /** For commands that only read: without a URL, use the embedded database only if it exists. */
  existingOnly?: boolean;
}

const CONNECT_TIMEOUT_MS = 10_000;

export async function openTarget(opts: OpenTargetOptions): Promise<Target> {
  if (opts.databaseUrl !== undefined) {
    const parsed = parseDatabaseUrl(opts.databaseUrl);
    const knex = createPool(opts.databaseUrl, opts.log, opts.poolMax);
    try {
      await connectWithRetry(knex, opts.log);
    } catch (e) {
      await knex.destroy().catch(() => undefined);
      throw new EtlError(
        'DATABASE_UNREACHABLE',
        `Could not connect to PostgreSQL at ${describe(parsed)} (${reasonOf(e, parsed)}); check --database / DATABASE_URL and that the server is running.`,
      );
    }
    return makeTarget(knex, redactedUrl(parsed), false, async () => undefined);
  }

  const dataDir = path.join(opts.cwd, '.etl', 'pg');
  if (opts.existingOnly && !fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    throw new EtlError(
      'NO_SCHEMA',
      `There is no etl database here: ${path.relative(opts.cwd, dataDir)} does not exist in ${opts.cwd}; run etl in the folder where \`etl run\` ran, or set --database / DATABASE_URL to the target.`,
    );
  }
  opts.log.info(
    `No --database or DATABASE_URL given: using an embedded PostgreSQL with its data in ${path.relative(opts.cwd, dataDir) || dataDir}.`,
  );
  const server = await startEmbedded({ dataDir, log: opts.log });
  const knex = createPool(server.url, opts.log, opts.poolMax);
  try {
    await connectWithRetry(knex, opts.log);
  } catch (e) {
    await knex.destroy().catch(() => undefined);
    await server.stop().catch(() => undefined);
    throw new EtlError(
      'EMBEDDED_START_FAILED',
      `The embedded PostgreSQL started but etl could not connect to it (${redactUrlCredentials(messageOf(e))}); set DATABASE_URL to use an existing PostgreSQL server.`,
    );
  }
  return makeTarget(knex, redactUrlCredentials(server.url), true, () => server.stop());
}

/** A server that is restarting refuses connections (or answers 57P03) for a few seconds: wait for it, boundedly. */
function connectWithRetry(knex: Knex, log: Logger): Promise<unknown> {
  return withRetry(() => knex.raw('select 1'), {
    what: 'connecting',
    onRetry: (attempt, delayMs, reason) => log.warn({ attempt, delayMs, reason }, 'could not connect to the database; retrying'),
  });
}

/**
 * ETL_NETWORK_TIMEOUT (seconds, default 60): how long the server may stay silent before etl
 * treats the connection as cut. TCP keepalives do not see a partition behind a proxy or NAT that
 * still acknowledges packets, so the run lock's watchdog (src/pipeline/lock.ts) pings with this bound.
 */
export function networkTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.ETL_NETWORK_TIMEOUT;
  if (raw === undefined || raw === '') return 60_000;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new EtlError('USAGE', `ETL_NETWORK_TIMEOUT must be a number of seconds above 0, got "${raw}".`);
  return Math.round(s * 1000);
}

/** Every pg client a pool has opened, so that a lost run can cut them all at once (severConnections). */
const poolClients = new WeakMap<Knex, Set<pg.Client>>();

/**
 * Destroys the sockets of every connection of `knex`'s pool: queries waiting on a silent server
 * fail at once (as after a cut cable) instead of hanging, and the server ends their sessions.
 */
export function severConnections(knex: Knex): void {
  for (const client of poolClients.get(knex) ?? []) {
    (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  }
}

/** Makes knex close `conn` when it is released instead of pooling it (knex's own mark for a connection that saw an error). */
export function discardOnRelease(conn: pg.Client, why: string): void {
  const marked = conn as unknown as { __knex__disposed?: unknown };
  marked.__knex__disposed ??= why;
}

function makeTarget(knex: Knex, url: string, embedded: boolean, stopServer: () => Promise<void>): Target {
  let closing: Promise<void> | undefined;
  return {
    knex,
    url,
    embedded,
    close() {
      closing ??= (async () => {
        try {
          await knex.destroy();
        } finally {
          await stopServer();
        }
      })();
      return closing;
    },
  };
}

/**
 * Type parsing for this pool only (pg's global parsers are left alone): timestamps and dates as
 * the server's text (no JS Date, no local-timezone shifts), int8 as a number (a string beyond
 * 2^53, never a rounded number), numeric as a string; everything else as pg does (json parsed).
 */
const TEXT = 'text';
const defaultParser = (oid: number, format?: string) => pg.types.getTypeParser(oid, (format ?? TEXT) as 'text');
const asText = (v: string) => v;
const textArray = (v: string) => (defaultParser(1009) as (s: string) => (string | null)[])(v);
const int8 = (v: string): number | string => {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
};
const TEXT_PARSERS: Record<number, (v: string) => unknown> = {
  20: int8,
  1016: (v) => textArray(v).map((x) => (x === null ? null : int8(x))), // int8[]
  1700: asText, // numeric
  1231: textArray, // numeric[]
  1082: asText, // date
  1182: textArray, // date[]
  1114: asText, // timestamp
  1115: textArray, // timestamp[]
  1184: asText, // timestamptz
  1185: textArray, // timestamptz[]
};

const pgTypes: Knex.PgCustomTypesConfig = {
  getTypeParser(oid: number, format?: string): (value: string) => unknown {
    if ((format ?? TEXT) === TEXT && TEXT_PARSERS[oid]) return TEXT_PARSERS[oid];
    return defaultParser(oid, format) as (value: string) => unknown;
  },
};

function createPool(url: string, log: Logger, poolMax = 6): Knex {
  const clients = new Set<pg.Client>();
  const knex = createKnex({
    client: 'pg',
    connection: {
      connectionString: url,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      types: pgTypes,
      // A peer that vanished (no FIN, no RST) is noticed by the kernel instead of never.
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      // Timestamps come back as text: render them in UTC whatever the server's default zone
      // (an `options` parameter in the URL takes precedence). The keepalives let the server end
      // the session of an etl that vanished, freeing its run lock in about a minute, not hours.
      options: '-c TimeZone=UTC -c tcp_keepalives_idle=30 -c tcp_keepalives_interval=10 -c tcp_keepalives_count=3',
    },
    pool: {
      min: 0,
      max: poolMax,
      afterCreate(conn: pg.Client, done: (err: Error | null, conn: pg.Client) => void) {
        clients.add(conn);
        conn.once('end', () => clients.delete(conn));
        done(null, conn);
      },
    },
    // An application target keeps etl's own tables in the schema "etl" (out of the app's public
    // schema); where there is none, unqualified names resolve to public as before.
    searchPath: ['etl', 'public'],
    log: knexLog(log),
  });
  poolClients.set(knex, clients);
  return knex;
}

/** knex logs with console.log (stdout is for --json documents): route it to the logger, on stderr. */
function knexLog(log: Logger): Knex.Config['log'] {
  const text = (m: unknown) => redactUrlCredentials(typeof m === 'string' ? m : inspect(m, { depth: 5 })).split('\n')[0]!;
  return {
    // Connection failures surface as errors of the failing query (and DATABASE_UNREACHABLE here).
    warn: (m: unknown) => (String(m).startsWith('Acquire connection error') ? log.debug(text(m)) : log.warn(text(m))),
    error: (m: unknown) => log.error(text(m)),
    deprecate: (m: unknown) => log.debug(text(m)),
    debug: (m: unknown) => log.debug(text(m)),
  };
}

interface ParsedUrl {
  url: URL;
  /** Passwords in the URL (user info, or a `password` query parameter), to keep out of messages. */
  secrets: string[];
}

function parseDatabaseUrl(raw: string): ParsedUrl {
  let url: URL | undefined;
  try {
    url = new URL(raw.trim());
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.hostname) {
    throw new EtlError(
      'BAD_DATABASE_URL',
      `DATABASE_URL is not a PostgreSQL URL ("${redactGarbage(raw)}"); expected postgres://user:password@host:5432/dbname.`,
    );
  }
  const secrets = [safeDecode(url.password), ...[...url.searchParams].filter(([k]) => /pass/i.test(k)).map(([, v]) => v)];
  return { url, secrets: secrets.filter((s) => s.length > 0) };
}

/** Best effort for strings that are not URLs: mask anything that looks like `user:secret@`. */
function redactGarbage(raw: string): string {
  const s = redactUrlCredentials(raw).replace(/(:)(?!\[REDACTED\]@)[^:@\s/]*@/g, '$1[REDACTED]@');
  return s.length > 200 ? `${s.slice(0, 200)}…` : s;
}

function redactedUrl({ url }: ParsedUrl): string {
  const copy = new URL(url.href);
  if (copy.password) copy.password = 'REDACTED';
  for (const key of [...copy.searchParams.keys()]) if (/pass/i.test(key)) copy.searchParams.set(key, 'REDACTED');
  return copy.href.replace(/REDACTED/g, '[REDACTED]');
}

/** `host:port/db` as pg will use it. */
function describe({ url }: ParsedUrl): string {
  const db = safeDecode(url.pathname.replace(/^\//, '')) || safeDecode(url.username) || 'postgres';
  return `${safeDecode(url.hostname)}:${url.port || '5432'}/${db}`;
}

function reasonOf(e: unknown, { secrets }: ParsedUrl): string {
  let text = redactUrlCredentials(messageOf(e));
  for (const secret of secrets) text = text.split(secret).join('[REDACTED]');
  return text;
}

function messageOf(e: unknown): string {
  if (e instanceof AggregateError && !e.message) return e.errors.map(messageOf).join('; ');
  if (e instanceof Error) return (e.message || (e as { code?: string }).code || e.name).split('\n')[0]!.trim();
  return String(e);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
