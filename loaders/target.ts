/**
 * A target is the schema a run loads into. Every target has the same few files in its folder
 * (as kysely gives every dialect the same four):
 *   schema.ts   create the schema on an empty database, or check the one that is there
 *   rows.ts     which canonical rows the target can hold (reject / repair), and how passwords are hashed
 *   project.ts  how canonical rows map onto the target's own tables and ids
 *   verify.ts   the target's own checks for `etl verify`
 *   index.ts    the Target itself
 * Extractors and normalization never change per target: they produce canonical rows (loaders/rows.ts),
 * which the writer loads into etl's canonical tables; a target with a schema of its own then
 * projects them into the application's tables.
 */
import type { Knex } from 'knex';
import type { EntityKind } from '../extractors/types';
import type { Check } from '../src/verify/checks';
import type { Logger } from '../src/log';
import type { Fernet } from '../src/secrets/fernet';
import type { AnyRow } from './rows';

export const TARGET_NAMES = ['etl', 'chatcore', 'mul-in-one', 'itl'] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

/** What a target says of a canonical row before it is written: keep it, keep it repaired, or reject it. */
export type Admission = { ok: true; repairs: { code: string; message: string }[] } | { ok: false; code: string; message: string };

export const ADMIT: Admission = { ok: true, repairs: [] };

export interface TargetSchema {
  /**
   * Makes the target ready for a run: creates what is missing on an empty database, checks what is
   * there (exit 2 naming the difference, nothing written). `record` false: inside a dry run's
   * transaction, applied without recording knex migrations.
   */
  prepare(knex: Knex, record: boolean, log?: Logger): Promise<string[]>;
}

/** Rows a projection wrote into the application's tables. */
export interface ProjectionCounts {
  table: string;
  inserted: number;
  updated: number;
  deleted: number;
}

/** What `etl verify` learnt from the sources, for a target's own checks. */
export interface VerifyContext {
  /** Plaintext secrets of the sources, none of which may be stored. */
  secrets: ReadonlySet<string>;
  /** Runs whose sources could not be re-read (their secrets are not in `secrets`). */
  unread: number;
}

/** How API keys must be encrypted so that the application decrypts them. */
export interface ApiKeyRule {
  /** Environment variables that may hold the key or passphrase, the first one set wins. */
  variables: readonly string[];
  /** The Fernet key from the variable's value (EtlError USAGE for a value the app cannot use), and a sentence saying how it was read. */
  fernet(value: string, variable: string): { fernet: Fernet; how: string };
}

/** The application user a run's rows belong to (`--owner`), for targets whose rows have an owner. */
export interface Owner {
  username: string;
  /** What the app needs to list a user etl creates; an existing user is left as it is. */
  email?: string;
  bcryptCost: number;
}

export interface Target {
  name: TargetName;
  summary: string;
  /**
   * Can `etl rollback` undo a run in the application's tables? Only where etl knows which app rows
   * it wrote (the id map); elsewhere a rollback is refused rather than left half done.
   */
  undoable: boolean;
  /** The entity kinds this target holds; a pipeline yielding another kind is refused before anything is written. */
  kinds: ReadonlySet<EntityKind> | 'all';
  /** False where the application has no tenants: `--tenant` is refused. */
  tenants: boolean;
  schema: TargetSchema;
  admit(kind: EntityKind, row: AnyRow): Admission;
  /** How a plaintext-only legacy password is hashed so that the application's login verifies it. */
  hashPlaintext(plaintext: string, bcryptCost: number): Promise<string>;
  /** Maps the canonical rows onto the application's tables (idempotent; a rerun changes no row). */
  project(knex: Knex, log: Logger): Promise<ProjectionCounts[]>;
  /** The target's own checks, run by `etl verify` inside its read-only transaction. */
  verify(knex: Knex, ctx: VerifyContext): Promise<Check[]>;
  /** The application's key rule; absent: ETL_ENCRYPTION_KEY, a Fernet key or a passphrase. */
  apiKeys?: ApiKeyRule;
  /** Present where every row belongs to one app user: the target bound to `--owner` (required then, refused elsewhere). */
  forOwner?(owner: Owner): Target;
}
