import { isSecretKey } from './secret-fields';

export const REDACTED = '[REDACTED]';

/** Masks the password of any URL-with-credentials inside a text (e.g. an error message). */
export function redactUrlCredentials(text: string): string {
  return text.replace(/(\b[a-z][a-z0-9+.-]*:\/\/[^:/?#\s@]*:)([^@\s]*)@/gi, `$1${REDACTED}@`);
}

/** Deep copy of a record with every secret-named field replaced; strings are scrubbed of URL passwords. */
export function redactRecord(value: unknown): unknown {
  if (typeof value === 'string') return redactUrlCredentials(value);
  if (Array.isArray(value)) return value.map(redactRecord);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = isSecretKey(k) && v !== null && v !== undefined && v !== '' ? REDACTED : redactRecord(v);
    }
    return out;
  }
  return value;
}
