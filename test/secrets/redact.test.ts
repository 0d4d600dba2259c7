import { REDACTED, redactRecord, redactText, redactUrlCredentials } from '../../src/secrets/redact';
import { holdsPlaintextSecret, isSecretKey, isSecretLikeKey } from '../../src/secrets/secret-fields';
import { maskSecretValues, secretValuesIn } from '../../src/secrets/secret-values';

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: 'admin', exp: 1 })}.c2lnbmF0dXJlLWJ5dGVz`;
const PEM = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo\n-----END RSA PRIVATE KEY-----';

describe('secrets found by value, wherever they are', () => {
  const shapes: [string, string][] = [
    ['a JWT', JWT],
    ['an OpenAI key', 'sk-abcdefghijklmnopqrstuvwx0123'],
    ['an OpenAI project key', 'sk-proj-Abc123_def456-GHI789jkl012'],
    ['an Anthropic key', 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz'],
    ['a Google API key', 'AIzaSyA1234567890abcdefghijklmnopqrstu'],
    ['a GitHub token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['a Slack bot token', 'xoxb-123456789012-abcdefghijkl'],
    ['a Slack user token', 'xoxp-123456789012-abcdefghijkl'],
    ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['a PEM private key', PEM],
  ];

  test.each(shapes)('%s inside free text is masked and found', (_name, secret) => {
    const text = `note: ${secret} (pasted by mistake)`;
    const masked = maskSecretValues(text, REDACTED);
    expect(masked).not.toContain(secret);
    expect(masked).toContain(REDACTED);
    expect(masked).toMatch(/^note: .* \(pasted by mistake\)$/s);
    expect(secretValuesIn(text)).toContain(secret);
    // under a field name no list knows, in a reject record or session metadata
    expect(JSON.stringify(redactRecord({ misc: { deep: [text] } }))).not.toContain(secret);
  });

  test('a dotted word that is not a JWT (its header is not JSON with alg) is kept', () => {
    const text = `eyJzdHJpbmcgd2l0aG91dCBhbGci.notajwt.atall and ${b64url({ typ: 'x' })}.abc.def`;
    expect(maskSecretValues(text, REDACTED)).toBe(text);
    expect(secretValuesIn('plain words, sk-short, AKIA1234')).toEqual([]);
  });

  test('a bearer credential in a header-like text is masked', () => {
    expect(redactText('Authorization: Bearer abcdef0123456789.xyz')).toBe('Authorization: Bearer [REDACTED]');
  });
});

describe('secrets found by field name, any case style, beyond a fixed list', () => {
  test.each(['jwt', 'key', 'openai_key', 'openaiKey', 'auth', 'pw', 'pass', 'private_key', 'refresh', 'sessionCookie', 'X-Credential', 'userPassword', 'API-KEY'])(
    '%s: its text value is redacted',
    (name) => {
      expect(isSecretLikeKey(name)).toBe(true);
      const out = redactRecord({ [name]: 'hunter2-value', keep: 'visible' }) as Record<string, unknown>;
      expect(out[name]).toBe(REDACTED);
      expect(out.keep).toBe('visible');
    },
  );

  test('numbers under merely secret-like names are kept (max_tokens, a count of keys); under secret names they are not', () => {
    expect(redactRecord({ max_tokens: 1000, maxTokens: 800, apiKeys: 3 })).toEqual({ max_tokens: 1000, maxTokens: 800, apiKeys: 3 });
    expect(redactRecord({ pw: 1234, pin_key: 42 })).toEqual({ pw: REDACTED, pin_key: REDACTED });
    expect(isSecretKey('max_tokens')).toBe(false);
  });

  test('everyday words that contain a fragment are not secret-like: authors of documents stay', () => {
    for (const name of ['author', 'authors', 'keyboard', 'keyword', 'passport', 'monkey']) expect(isSecretLikeKey(name)).toBe(false);
    expect(redactRecord({ author: 'Finans Departmanı' })).toEqual({ author: 'Finans Departmanı' });
  });

  test('verify looks for plaintext under secret-like names, not for the hashes and ciphers stored on purpose', () => {
    for (const name of ['jwt', 'openai_key', 'pw', 'refresh', 'password', 'token']) expect(holdsPlaintextSecret(name)).toBe(true);
    for (const name of ['password_hash', 'passwordHash', 'api_key_cipher', 'api_key_fingerprint', 'token_expires', 'author']) expect(holdsPlaintextSecret(name)).toBe(false);
  });

  test('a __proto__ or constructor key stays data and never changes the prototype', () => {
    const input = JSON.parse('{"__proto__": {"polluted": "yes"}, "constructor": "c", "token": "t"}') as object;
    const out = redactRecord(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.hasOwn(out, '__proto__')).toBe(true);
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":"yes"},"constructor":"c","token":"[REDACTED]"}');
  });
});

describe('connection strings are never printed with their password', () => {
  test.each([
    ['URL form', 'postgres://etl:s3cr3t-pw@db:5432/chat', 'postgres://etl:[REDACTED]@db:5432/chat'],
    ['keyword form', 'host=db port=5432 user=etl password=s3cr3t-pw dbname=chat', 'host=db port=5432 user=etl password=[REDACTED] dbname=chat'],
    ['keyword form, quoted', "host=db password='s3cr3t pw' dbname=chat", 'host=db password=[REDACTED] dbname=chat'],
    ['keyword form, spaces around =', 'host=db password = s3cr3t-pw', 'host=db password = [REDACTED]'],
    ['query parameter', 'postgres://db/chat?user=etl&password=s3cr3t-pw&sslmode=require', 'postgres://db/chat?user=etl&password=[REDACTED]&sslmode=require'],
    ['sslpassword', 'sslpassword=s3cr3t-pw host=db', 'sslpassword=[REDACTED] host=db'],
  ])('%s', (_name, input, expected) => {
    expect(redactUrlCredentials(input)).toBe(expected);
    expect(redactText(`DATABASE_URL is not usable ("${input}")`)).not.toContain('s3cr3t');
  });
});
