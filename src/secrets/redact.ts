import { isSecretKey, isSecretLikeKey } from './secret-fields';
import { maskSecretValues } from './secret-values';

export const REDACTED = '[REDACTED]';

/** `scheme://user:password@` */
const URL_PASSWORD = /(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s]*)@/gi;

/**
 * libpq's keyword form (`host=db password=s3cret`, `password='a b'`) and URL query parameters
 * (`?password=…`, `&sslpassword=…`): the value, quoted or not, up to a space, `&` or `;`.
 */
const KEYWORD_PASSWORD = /\b(\w*(?:password|passwd|pwd))(\s*=\s*)('(?:\\.|[^'\\])*'?|"(?:\\.|[^"\\])*"?|[^\s&;'"]+)/gi;

/** Masks the password of any connection string inside a text (URL form and keyword form). */
export function redactUrlCredentials(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(KEYWORD_PASSWORD, `$1$2${REDACTED}`);
}

/** Masks everything secret in a free text: connection-string passwords and secret-shaped values (JWTs, API keys, PEM keys). */
export function redactText(text: string): string {
  return maskSecretValues(redactUrlCredentials(text), REDACTED);
}

/** Beyond this depth a value is replaced whole: sources are refused deeper than this, logs never get there. */
const MAX_REDACT_DEPTH = 1000;

/**
 * Deep copy of a record with secrets replaced: any value of a secret-named field, the text values of
 * secret-like fields, and secret-shaped parts of every other text. Built with own properties only,
 * so keys like `__proto__` stay data.
 */
export function redactRecord(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactText(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_REDACT_DEPTH) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redactRecord(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => {
      const hide = v !== null && v !== undefined && v !== '' && (isSecretKey(k) || (typeof v === 'string' && isSecretLikeKey(k)));
      return [k, hide ? REDACTED : redactRecord(v, depth + 1)];
    }),
  );
}
