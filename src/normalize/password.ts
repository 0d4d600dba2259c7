import { EtlError } from '../errors';
import { bcryptPool } from '../secrets/bcrypt-pool';

/** Raw values from a legacy user record. */
export type PasswordInput = { passwordHash?: unknown; salt?: unknown; password?: unknown };

export type PasswordDecision =
  | { kind: 'hash'; hash: string; droppedPlaintext: boolean }
  | { kind: 'plaintext'; plaintext: string }
  | { kind: 'none' }
  | { kind: 'unrecognized'; reason: string; droppedPlaintext: boolean };

// Self-describing formats, kept byte for byte: the target app verifies them as they are.
const BCRYPT = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;
const ARGON2 = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+(?:,[a-z]+=[A-Za-z0-9+/]*)*\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$/;
const PBKDF2_SHA256 = /^pbkdf2_sha256\$([1-9]\d*)\$([^$]+)\$(?:([0-9a-f]{64})|([A-Za-z0-9+/]{43}=))$/; // see parsePbkdf2Sha256
// ChatCore: pbkdf2_hmac('sha256', password.encode(), bytes.fromhex(salt), 100000).hex(), the salt
// (16 random bytes) stored apart as hex. Its real sample verifies only with the hex-decoded salt.
const CHATCORE_DIGEST = /^[0-9a-f]{64}$/;
const HEX_BYTES = /^(?:[0-9a-fA-F]{2})+$/;
const CHATCORE_ITERATIONS = 100_000;

/**
 * What to store for a legacy user's password. An existing hash is kept (never hashed twice) and a
 * plaintext next to it is dropped; a plaintext alone is for the caller to hash; an unrecognized hash
 * is reported, and its plaintext neighbour is still dropped, never stored or used.
 */
export function decidePassword(input: PasswordInput): PasswordDecision {
  const hash = input.passwordHash;
  const droppedPlaintext = isPresent(input.password);
  if (isPresent(hash)) {
    if (typeof hash !== 'string') {
      return { kind: 'unrecognized', reason: `the password hash is ${typeName(hash)}, not a string`, droppedPlaintext };
    }
    if (BCRYPT.test(hash) || ARGON2.test(hash) || parsePbkdf2Sha256(hash)) return { kind: 'hash', hash, droppedPlaintext };
    if (CHATCORE_DIGEST.test(hash)) return chatCore(hash, input.salt, droppedPlaintext);
    return {
      kind: 'unrecognized',
      reason: 'the password hash is not bcrypt, argon2, pbkdf2_sha256 or a ChatCore hex digest with a salt',
      droppedPlaintext,
    };
  }
  const plaintext = input.password;
  if (!isPresent(plaintext)) return { kind: 'none' };
  if (typeof plaintext !== 'string') {
    return {
      kind: 'unrecognized',
      reason: `the plaintext password is ${typeName(plaintext)}, not a string`,
      droppedPlaintext: true,
    };
  }
  return { kind: 'plaintext', plaintext };
}

function chatCore(digest: string, salt: unknown, droppedPlaintext: boolean): PasswordDecision {
  if (typeof salt !== 'string' || !HEX_BYTES.test(salt)) {
    return {
      kind: 'unrecognized',
      reason: 'the password hash is a 64-digit hex digest but the record has no hex salt',
      droppedPlaintext,
    };
  }
  return { kind: 'hash', hash: `pbkdf2_sha256$${CHATCORE_ITERATIONS}$${salt}$${digest}`, droppedPlaintext };
}

/** Missing, null and '' all mean "no value". */
function isPresent(v: unknown): boolean {
  return v !== undefined && v !== null && v !== '';
}

function typeName(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** bcrypt (`$2b$`) for a plaintext-only legacy password, on the worker threads of `bcryptPool`. */
export async function hashPlaintext(plaintext: string, cost: number): Promise<string> {
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) {
    throw new EtlError('USAGE', `Invalid bcrypt cost ${cost}; use a whole number from 4 to 31.`);
  }
  return bcryptPool.hash(plaintext, cost);
}

/**
 * `pbkdf2_sha256$<iterations>$<salt>$<digest>`: a hex digest is ChatCore's scheme (the salt is
 * hex-encoded bytes), a base64 one Django's (the salt is text, used as UTF-8).
 */
export function parsePbkdf2Sha256(stored: string): { iterations: number; salt: Buffer; digest: Buffer } | undefined {
  const m = PBKDF2_SHA256.exec(stored);
  if (!m) return undefined;
  const [, count, salt, hexDigest, base64Digest] = m;
  const iterations = Number(count);
  if (iterations > 0x7fffffff) return undefined; // node:crypto takes an int32 count
  if (!hexDigest) return { iterations, salt: Buffer.from(salt, 'utf8'), digest: Buffer.from(base64Digest, 'base64') };
  if (!HEX_BYTES.test(salt)) return undefined;
  return { iterations, salt: Buffer.from(salt, 'hex'), digest: Buffer.from(hexDigest, 'hex') };
}
