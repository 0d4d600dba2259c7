import type { Entity } from '../extractors/types';
import { normalizeEntity, type NormalizeContext, type Normalized } from '../src/normalize/records';
import type { Admission, Target } from './target';

export type Admitted = Extract<Normalized, { ok: false }> | (Extract<Normalized, { ok: true }> & { repairs: { code: string; message: string }[] });

/**
 * A record's canonical row as the target can hold it: normalized as for every target, then
 * admitted, repaired (counted as repaired) or rejected by the target. The writer and verify's
 * source side both go through here, so they agree.
 */
export function normalizeFor(target: Target, entity: Entity, ctx: NormalizeContext, locator: string): Admitted {
  const n = normalizeEntity(entity, ctx, locator);
  if (!n.ok) return n;
  const a = target.admit(entity.kind, n.row);
  if (!a.ok) return a;
  if (a.repairs.length) n.notes.repaired = (n.notes.repaired ?? 0) + a.repairs.length;
  return { ...n, repairs: a.repairs };
}

/** Length as PostgreSQL's varchar counts it: code points, not UTF-16 units. */
export function chars(s: string): number {
  return [...s].length;
}

/**
 * The first of `fields` ([what, value, app column, width]) whose value is wider than the app's
 * column: a reject with a reason, never a value cut silently. Null when all fit.
 */
export function firstTooLong(app: string, fields: readonly [string, string | null, string, number][]): Admission | null {
  for (const [what, value, column, max] of fields) {
    if (value === null || chars(value) <= max) continue;
    const shown = [...value].slice(0, 60).join('') + (chars(value) > 60 ? '…' : '');
    return { ok: false, code: 'value_too_long', message: `${what} "${shown}" has ${chars(value)} characters; ${app}'s ${column} holds at most ${max}` };
  }
  return null;
}
