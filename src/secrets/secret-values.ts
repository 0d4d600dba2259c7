/**
 * Secrets recognised by what they look like, wherever they are (a free-text field, an error
 * message, a field with an unexpected name): JWTs, provider API keys, PEM private keys, bearer
 * credentials. Each pattern is specific enough that ordinary prose does not match it.
 */

/** A JWT's header is base64url JSON naming its algorithm; checked by decoding, so `ey…` words are not taken. */
function isJwtHeader(part: string): boolean {
  try {
    const header = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return header !== null && typeof header === 'object' && 'alg' in header;
  } catch {
    return false;
  }
}

const JWT = /\bey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;

/** Provider key shapes: OpenAI/Anthropic (sk-, sk-proj-, sk-ant-), Google (AIza), GitHub, Slack, AWS access keys. */
const PROVIDER_KEYS = [
  /\bsk-(?:proj-|ant-|live-|test-)?[A-Za-z0-9_-]{16,}/g,
  /\bAIza[0-9A-Za-z_-]{30,}/g,
  /\bgh[pousr]_[A-Za-z0-9]{30,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{22,}/g,
  /\bxox[abprs]-[A-Za-z0-9-]{10,}/g,
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
];

/** A PEM private key, or what is left of one when the text was cut. */
const PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g;

/** `Authorization: Bearer …` / `Basic …` credentials quoted in text. */
const BEARER = /\b(Bearer|Basic)\s+[A-Za-z0-9._~+/-]{8,}=*/g;

/** Replaces every secret-shaped part of `text` with `mask`; the text is returned unchanged (same string) when it holds none. */
export function maskSecretValues(text: string, mask: string): string {
  let out = text.replace(PEM, mask).replace(JWT, (m) => (isJwtHeader(m.slice(0, m.indexOf('.'))) ? mask : m));
  for (const re of PROVIDER_KEYS) out = out.replace(re, mask);
  return out.replace(BEARER, `$1 ${mask}`);
}

/** What each pattern above starts with: text without any of these holds no secret-shaped value (one scan instead of eight). */
const ANY_START = /-----BEGIN |\b(?:ey[A-Za-z0-9_-]{8}|sk-|AIza|gh[pousr]_|github_pat_|xox[abprs]-|AKIA|ASIA)/;

/** The secret-shaped parts of `text` (what verify looks for in the target). */
export function secretValuesIn(text: string): string[] {
  const found: string[] = [];
  if (!ANY_START.test(text)) return found;
  for (const m of text.matchAll(PEM)) found.push(m[0]);
  for (const m of text.matchAll(JWT)) if (isJwtHeader(m[0].slice(0, m[0].indexOf('.')))) found.push(m[0]);
  for (const re of PROVIDER_KEYS) for (const m of text.matchAll(re)) found.push(m[0]);
  return found;
}
