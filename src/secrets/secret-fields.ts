/**
 * Which field names hold secrets. Legacy apps name their secrets freely (`jwt`, `openai_key`, `pw`,
 * `refresh`, `privateKey`…), so no fixed list can be complete. Two tiers:
 * - a *secret name* (`password`, `token`, `api_key`, `jwt`, …, as a whole word of the key): its
 *   value is redacted whatever it is (a number, a mapping);
 * - a *secret-like name* (the key merely contains pass/pw/secret/token/key/auth/jwt/cookie/
 *   credential/session/refresh, in any case): its text values are redacted, numbers and booleans
 *   are kept (`max_tokens: 1000`, `apiKeys: 3` in a log line), containers are walked.
 * Redaction errs on the side of hiding; a few everyday words that merely contain those letters
 * (`author`, `keyboard`, `passport`…) are not secret-like, so company documents keep their authors.
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

const SECRET_NAME =
  /(^|_)(password|passwd|pwd|pw|pass|passphrase|secret|token|salt|jti|authorization|auth|cookie|api_?key|apikey|key|jwt|credentials?|refresh|private_?key)(_|$)/;

const SECRET_LIKE = /pass|pw|secret|token|key|auth|jwt|cookie|credential|session|refresh/;

/** Everyday words that contain a secret-like fragment but name no secret. */
const BENIGN = /author|keyboard|keyword|keynote|monkey|donkey|turkey|hockey|passport|compass|passenger/g;

/** Redact this field's value whatever it is (`max_tokens`, `passport` are not secret names). */
export function isSecretKey(key: string): boolean {
  return SECRET_NAME.test(words(key));
}

/** Redact this field's text values (substring match, case-insensitive, everyday words excepted). */
export function isSecretLikeKey(key: string): boolean {
  return SECRET_LIKE.test(key.toLowerCase().replace(BENIGN, ''));
}

/** Secret-like names whose values are derived from a secret (stored legitimately), not the secret itself. */
const DERIVED = /(^|_)(hash|hashed|cipher|digest|fingerprint|encrypted|salt|at|expires|expiry|count|reset|required|length|type)(_|$)/;

/**
 * Whether a text value under `key` is a plaintext secret that must never be stored as it is (the
 * verify check): a secret-like name that does not name a hash, a cipher or a date of the secret.
 */
export function holdsPlaintextSecret(key: string): boolean {
  return isSecretLikeKey(key) && !DERIVED.test(words(key));
}
