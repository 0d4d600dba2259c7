import type { Entity } from '../extractors/types';
import { normalizeEntity, type NormalizeContext, type Normalized } from '../src/normalize/records';
import type { Target } from './target';

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
