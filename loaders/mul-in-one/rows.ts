/**
 * Which canonical rows Mul-in-One's schema can hold (research/app-targets.md §2): column widths
 * (a value that does not fit is rejected with a reason), and what it has no column for
 * (catchphrases, a background's options): the row is kept without them, reported as repaired with
 * the whole record in etl_rejects.
 */
import type { EntityKind } from '../../extractors/types';
import { hashPlaintext as bcrypt } from '../../src/normalize/password';
import { firstTooLong } from '../admit';
import type { ApiProfileRow, AnyRow, PersonaRow } from '../rows';
import { ADMIT, type Admission } from '../target';

const APP = 'Mul-in-One';

function persona(p: PersonaRow): Admission {
  const bad = firstTooLong(APP, [
    ['persona name', p.name, 'personas.name', 128],
    ['handle', p.handle, 'personas.handle', 128],
    ['tone', p.tone, 'personas.tone', 64],
  ]);
  if (bad) return bad;
  const repairs: { code: string; message: string }[] = [];
  if (p.catchphrases.length) repairs.push({ code: 'catchphrases_not_stored', message: `${p.catchphrases.length} catchphrase(s) not stored: Mul-in-One's personas table has no column for them; they stay in this record` });
  if (p.background_options && Object.keys(p.background_options).length) {
    repairs.push({ code: 'background_options_not_stored', message: `background options ${Object.keys(p.background_options).join(', ')} not stored: Mul-in-One keeps only the background text; they stay in this record` });
  }
  return { ok: true, repairs };
}

function apiProfile(a: ApiProfileRow): Admission {
  return (
    firstTooLong(APP, [
      ['API name', a.name, 'api_profiles.name', 64],
      ['base_url', a.base_url, 'api_profiles.base_url', 255],
      ['model', a.model, 'api_profiles.model', 255],
    ]) ?? ADMIT
  );
}

export function admit(kind: EntityKind, row: AnyRow): Admission {
  if (kind === 'persona') return persona(row as PersonaRow);
  if (kind === 'api_profile') return apiProfile(row as ApiProfileRow);
  return ADMIT;
}

/** FastAPI-Users verifies bcrypt (and upgrades it to argon2 on login); the owner's locked hash is bcrypt too. */
export function hashPlaintext(plaintext: string, bcryptCost: number): Promise<string> {
  return bcrypt(plaintext, bcryptCost);
}
