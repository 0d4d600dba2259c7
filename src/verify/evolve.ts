/**
 * `etl verify`'s part of the schema changes (src/db/evolve/): each change is expanded, and its
 * checks hold (no message without a persona or a search vector, …). Reads only.
 */
import type { Knex } from 'knex';
import { runChecks } from '../db/evolve/apply';
import { CHANGES } from '../db/evolve/index';
import { readSteps } from '../db/evolve/state';
import { EtlError } from '../errors';
import type { Check } from './checks';

/** The tables verify reads have the changes' columns: a target no etl has expanded yet is refused, as one with pending migrations. */
export async function assertExpanded(knex: Knex): Promise<void> {
  const steps = await readSteps(knex);
  const missing = CHANGES.filter((c) => !steps.some((s) => s.change === c.name && s.step === 'expand' && s.state === 'done'));
  if (missing.length) throw new EtlError('NO_SCHEMA', `The target's etl schema is older than this etl (the schema changes ${missing.map((c) => c.name).join(', ')} are not applied); run \`etl migrate\` first (this command never changes the schema).`);
}

export async function evolveChecks(knex: Knex): Promise<Check[]> {
  const steps = await readSteps(knex);
  const out: Check[] = [];
  for (const change of CHANGES) {
    const contracted = steps.some((s) => s.change === change.name && s.step === 'contract' && s.state === 'done');
    out.push({ name: `schema change ${change.name}`, ok: true, detail: contracted ? 'contracted' : 'expanded; `etl migrate` finishes it (backfill, checks, contract)' });
    for (const c of await runChecks(knex, change)) out.push({ name: c.name, ok: c.ok, detail: c.detail });
  }
  return out;
}
