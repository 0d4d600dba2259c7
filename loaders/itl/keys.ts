/**
 * ITL's key rule (src/utils/encryption.py): `Fernet(settings.FERNET_KEY)`, the raw 44-character
 * key, no derivation. A passphrase would give tokens ITL cannot decrypt, so it is refused.
 */
import { EtlError } from '../../src/errors';
import { Fernet } from '../../src/secrets/fernet';
import type { ApiKeyRule } from '../target';

export const KEY_VARIABLES = ['FERNET_KEY', 'ETL_ENCRYPTION_KEY'] as const;

function rawKey(value: string, variable: string): Fernet {
  const raw = /^[A-Za-z0-9_-]{43}=$/.test(value) ? Buffer.from(value, 'base64url') : null;
  if (raw?.length !== 32) throw new EtlError('USAGE', `${variable} must be ITL's FERNET_KEY, 44 characters of URL-safe base64 (Fernet.generate_key()); ITL uses it as it is, so a passphrase cannot work.`);
  return new Fernet(raw);
}

export const itlKeys: ApiKeyRule = {
  variables: KEY_VARIABLES,
  fernet: (value, variable) => ({ fernet: rawKey(value, variable), how: `${variable} is ITL's Fernet key, used as it is` }),
};
