/** What every kind's record → row rule shares: its context, its result, and the field readers. */
import type { AnyRow } from '../../../loaders/rows';
import { repairDeep, repairText } from '../text';
import { own } from '../../own';
import { tenantSlug } from '../ids';

/** Everything a record's normalization may depend on; no clock, no I/O. */
export interface NormalizeContext {
  tenant: string;
  tenantId: string;
  runId: string;
  /** sha256 of the source file the record came from. */
  source: string;
  sourceTimeZone: string;
  /** `--tenant-map`: tenant names the sources use → slugs of the target's tenants. */
  tenantMap?: Readonly<Record<string, string>>;
}

/** The slug of the tenant a source names: as mapped by --tenant-map, else derived from the name. */
export function slugOfTenant(name: string, ctx: NormalizeContext): string | null {
  return own(ctx.tenantMap, name) ?? tenantSlug(name);
}

/** Counted facts about a record that loaded but was changed or completed on the way. */
export interface Notes {
  repaired?: number;
  droppedPlaintextPasswords?: number;
  unrecognizedPasswordHashes?: number;
  invalidOptionalTimestamps?: number;
  encryptedSecrets?: number;
  keptSecretTokens?: number;
  plaintextSecrets?: number;
}

export type Normalized =
  | {
      ok: true;
      row: AnyRow;
      notes: Notes;
      /** a plaintext-only password the caller must hash */
      plaintext?: string;
      /** an API key the caller must encrypt (Fernet needs randomness, normalization has none) */
      secret?: string;
    }
  | { ok: false; code: string; message: string };

export function reject(code: string, message: string): Normalized {
  return { ok: false, code, message };
}

/** Carries the repair count of every text field into the record's notes. */
export class Text {
  repaired = 0;
  str(v: unknown): string | null {
    if (typeof v !== 'string') return null;
    const r = repairText(v);
    this.repaired += r.repaired;
    return r.value;
  }
  deep<T>(v: T): T {
    const r = repairDeep(v);
    this.repaired += r.repaired;
    return r.value;
  }
  /** `notes` with the repairs counted so far; none counted adds no key. */
  notes(notes: Notes = {}): Notes {
    if (this.repaired) notes.repaired = this.repaired;
    return notes;
  }
}

/** A required text field: trimmed, non-empty, or null. */
export function required(v: unknown, text: Text): string | null {
  const s = text.str(v)?.trim();
  return s ? s : null;
}

export function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function etl(ctx: NormalizeContext, locator: string) {
  return { etl_run_id: ctx.runId, etl_source: ctx.source, etl_locator: locator };
}
