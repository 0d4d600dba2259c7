/**
 * Which field names hold secrets. Two questions, two answers:
 * - redaction (logs, reject records) hides anything secret-like, hashes and salts included;
 * - the plaintext check (etl verify) looks for values of fields that hold a secret in clear.
 */

/** A key's words, whatever its case style: `accessToken`, `access-token` → `access_token`. */
function words(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
    .join('_');
}

const SECRET_LIKE = /(^|_)(password|passwd|pwd|passphrase|secret|token|salt|jti|authorization|cookie|api_?key|apikey)(_|$)/;

/** Redact this field's value wherever it appears (`max_tokens`, `passport` are not secrets). */
export function isSecretKey(key: string): boolean {
  return SECRET_LIKE.test(words(key));
}

/** Fields whose string value is a plaintext secret (not a hash of one). */
export const PLAINTEXT_SECRET_FIELDS = ['password', 'passwd', 'pwd', 'plain_password', 'passphrase', 'token', 'access_token', 'refresh_token', 'api_key', 'apikey', 'secret', 'client_secret'] as const;

const PLAINTEXT = new Set<string>(PLAINTEXT_SECRET_FIELDS);

export function holdsPlaintextSecret(key: string): boolean {
  return PLAINTEXT.has(words(key));
}
