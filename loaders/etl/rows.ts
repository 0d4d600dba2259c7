/** The etl target holds every canonical row as it is; plaintext-only passwords become bcrypt. */
import type { EntityKind } from '../../extractors/types';
import { hashPlaintext as bcrypt } from '../../src/normalize/password';
import { ADMIT, type Admission } from '../target';

export function admit(_kind: EntityKind): Admission {
  return ADMIT;
}

export function hashPlaintext(plaintext: string, bcryptCost: number): Promise<string> {
  return bcrypt(plaintext, bcryptCost);
}
