import { pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { parsePbkdf2Sha256 } from '../../src/normalize/password';

/** Checks a password against a `pbkdf2_sha256$…` hash in either form decidePassword keeps. */
export function verifyPbkdf2Sha256(password: string, stored: string): boolean {
  const parsed = parsePbkdf2Sha256(stored);
  if (!parsed) return false;
  const actual = pbkdf2Sync(password, parsed.salt, parsed.iterations, parsed.digest.length, 'sha256');
  return timingSafeEqual(actual, parsed.digest);
}
