/**
 * Mul-in-One's API key rule (service/repositories.py): Fernet key =
 * urlsafe_b64encode(sha256(MUL_IN_ONE_ENCRYPTION_KEY)), always, even when the passphrase looks
 * like a Fernet key itself: a token under the raw key is one the app cannot decrypt.
 */
import { createHash } from 'node:crypto';
import { Fernet } from '../../src/secrets/fernet';
import type { ApiKeyRule } from '../target';

export const KEY_VARIABLES = ['MUL_IN_ONE_ENCRYPTION_KEY', 'ETL_ENCRYPTION_KEY'] as const;

export const mulInOneKeys: ApiKeyRule = {
  variables: KEY_VARIABLES,
  fernet: (passphrase, variable) => ({
    fernet: new Fernet(createHash('sha256').update(passphrase, 'utf8').digest()),
    how: `${variable} is Mul-in-One's passphrase: Fernet key = urlsafe_b64encode(sha256(passphrase)), as the app derives it`,
  }),
};
