import { createCipheriv, createDecipheriv, createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fernet (github.com/fernet/spec), as Python's `cryptography.fernet.Fernet` reads and writes it:
 * token = base64url(0x80 ‖ 64-bit BE seconds ‖ 16-byte IV ‖ AES-128-CBC/PKCS7 ciphertext ‖
 * HMAC-SHA256 of all before), with `=` padding (Python rejects unpadded tokens).
 */
const VERSION = 0x80;

/** Standard base64 → URL-safe alphabet, padding kept. */
function b64url(buf: Buffer): string {
  return buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

const FERNET_KEY = /^[A-Za-z0-9_-]{43}=$/;

/** A token's bytes when `value` has a Fernet token's shape (whatever its key), else null. */
function tokenBytes(value: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]+=*$/.test(value)) return null;
  const raw = Buffer.from(value, 'base64url');
  return raw.length >= 1 + 8 + 16 + 16 + 32 && raw[0] === VERSION && (raw.length - 57) % 16 === 0 ? raw : null;
}

/** Ciphertext, not a plaintext secret: a source may already hold keys as Fernet tokens. */
export function looksLikeFernetToken(value: string): boolean {
  return tokenBytes(value) !== null;
}

export class Fernet {
  private readonly signing: Buffer;
  private readonly encryption: Buffer;

  /** `key`: the 32 raw bytes of a Fernet key (signing half, then encryption half). */
  constructor(key: Buffer) {
    if (key.length !== 32) throw new TypeError('a Fernet key is 32 bytes');
    this.signing = key.subarray(0, 16);
    this.encryption = key.subarray(16);
  }

  /**
   * The key from ETL_ENCRYPTION_KEY: a Fernet key (44 characters of URL-safe base64) is used as it
   * is (ITL's FERNET_KEY); any other text is a passphrase, turned into a key the way Mul-in-One
   * does: urlsafe_b64encode(sha256(passphrase)).
   */
  static fromSetting(setting: string): { fernet: Fernet; derived: boolean } {
    if (FERNET_KEY.test(setting)) {
      const raw = Buffer.from(setting, 'base64url');
      if (raw.length === 32) return { fernet: new Fernet(raw), derived: false };
    }
    return { fernet: new Fernet(createHash('sha256').update(setting, 'utf8').digest()), derived: true };
  }

  encrypt(plaintext: string, at: Date = new Date(), iv: Buffer = randomBytes(16)): string {
    const cipher = createCipheriv('aes-128-cbc', this.encryption, iv);
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const head = Buffer.alloc(9);
    head[0] = VERSION;
    head.writeBigUInt64BE(BigInt(Math.floor(at.getTime() / 1000)), 1);
    const signed = Buffer.concat([head, iv, body]);
    const mac = createHmac('sha256', this.signing).update(signed).digest();
    return b64url(Buffer.concat([signed, mac]));
  }

  /** The plaintext of a token made with this key, or null (not a token, another key, tampered). No TTL. */
  decrypt(token: string): string | null {
    const raw = tokenBytes(token);
    if (!raw) return null;
    const signed = raw.subarray(0, raw.length - 32);
    const mac = createHmac('sha256', this.signing).update(signed).digest();
    if (!timingSafeEqual(mac, raw.subarray(raw.length - 32))) return null;
    try {
      const decipher = createDecipheriv('aes-128-cbc', this.encryption, raw.subarray(9, 25));
      return Buffer.concat([decipher.update(raw.subarray(25, raw.length - 32)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /** A keyed, deterministic fingerprint of a secret: tells a changed value from a rerun without storing it. */
  fingerprint(plaintext: string): string {
    return 'hmac-sha256:' + createHmac('sha256', this.signing).update('etl secret fingerprint\0').update(plaintext, 'utf8').digest('hex');
  }
}

export interface SealedSecret {
  value: string;
  encrypted: boolean;
  fingerprint: string;
  /** The source value already was a token under this key and is stored as it is. */
  kept: boolean;
}

/**
 * What to store for a secret: a Fernet token (a value that already is a token under the key is
 * kept), or, with no key and only when allowed, the plaintext itself.
 */
export function sealSecret(plaintext: string, fernet: Fernet | null): SealedSecret {
  if (fernet === null) return { value: plaintext, encrypted: false, fingerprint: 'sha256:' + createHash('sha256').update(plaintext, 'utf8').digest('hex'), kept: false };
  const inner = fernet.decrypt(plaintext);
  if (inner !== null) return { value: plaintext, encrypted: true, fingerprint: fernet.fingerprint(inner), kept: true };
  return { value: fernet.encrypt(plaintext), encrypted: true, fingerprint: fernet.fingerprint(plaintext), kept: false };
}
