/**
 * A schema change that needs data, declared once and applied by `etl migrate` in steps:
 * expand (new nullable columns, tables, triggers; indexes CONCURRENTLY), backfill (set-based
 * updates in resumable batches), checks (what must hold before the old shape can go), contract
 * (NOT NULL, constraints validated, what it replaces dropped). Until contract, rollback undoes expand.
 */
import type { Knex } from 'knex';

/** How a step's SQL runs: on its own connection (CONCURRENTLY allowed) or inside a caller's transaction. */
export interface StepContext {
  concurrently: boolean;
}

/** One statement of a DDL step; `concurrent` ones run outside a transaction, after the others. */
export type Ddl = string | { concurrentIndex: string; sql: string };

export interface BackfillStep {
  /** Step name, unique within the change (`conversations`, `messages`). */
  name: string;
  table: string;
  /** SQL predicate over `t` (a row of `table`): the row still needs this step. */
  pending: string;
  /**
   * Fills the pending rows of `table t` that `range` (an SQL predicate over `t`) selects, in the
   * caller's transaction; returns the rows updated and anything created on the way (inferred rows).
   */
  fill(trx: Knex.Transaction, range: string): Promise<{ rows: number; inferred: number }>;
}

export interface Check {
  name: string;
  /** `select count(*) as n, array_agg(<label>) … as sample` of the violations (sample: up to 5 labels). */
  sql: string;
  /** One sentence about `n` violations, naming a few. */
  sentence(n: number, sample: readonly string[]): string;
}

export interface Change {
  /** Sorted with the knex migrations' date prefix; the bookkeeping key. */
  name: string;
  summary: string;
  /** Statements in order; each idempotent (a killed expand is run again from the start). */
  expand(knex: Knex): Promise<Ddl[]>;
  backfill: readonly BackfillStep[];
  checks: readonly Check[];
  /** Runs only when every check passes; idempotent. */
  contract(knex: Knex): Promise<Ddl[]>;
  /** Undoes expand exactly (the schema as before it); allowed until contract has started. */
  rollback: readonly string[];
  /** Why a contracted change cannot be rolled back: what the data it would need was, and that it is gone. */
  irreversible: string;
}
