/**
 * `etl verify`'s part of the schema changes (src/db/evolve/): each change is applied, and its
 * checks hold (no message without a persona or a search vector, …). Reads only.
 */
import type { Knex } from 'knex';
import { runChecks } from '../db/evolve/apply';
import { CHANGES } from '../db/evolve/index';
import { readSteps } from '../db/evolve/state';
import type { Check } from './checks';

export async function evolveChecks(knex: Knex): Promise<Check[]> {
  const steps = await readSteps(knex);
  const out: Check[] = [];
  for (const change of CHANGES) {
    const expanded = steps.some((s) => s.change === change.name && s.step === 'expand' && s.state === 'done');
    if (!expanded) {
      out.push({ name: `schema change ${change.name}`, ok: false, detail: `not applied (${change.summary}): run \`etl migrate\`` });
      continue;
    }
    const contracted = steps.some((s) => s.change === change.name && s.step === 'contract' && s.state === 'done');
    out.push({ name: `schema change ${change.name}`, ok: true, detail: contracted ? 'contracted' : 'expanded; `etl migrate` finishes it (backfill, checks, contract)' });
    for (const c of await runChecks(knex, change)) out.push({ name: c.name, ok: c.ok, detail: c.detail });
  }
  return out;
}
