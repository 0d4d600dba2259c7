import { EtlError } from '../../src/errors';
import { decidePassword, hashPlaintext, type PasswordInput } from '../../src/normalize/password';
import { verifyPbkdf2Sha256 } from '../support/password';
import { PYTHON, runPython } from './python';

// A ChatCore-style user of our fixtures (fixtures/chatcore/sessions.v5.json, "chef"): password "open-sesame-1".
const ADMIN_HASH = 'ba51e0e9afca9eaf7f5d0b3939f78427f80b5dbae414c4c6ce2ddad5cb30ef3d';
const ADMIN_SALT = '5a1f0e9c3b7d24e68f10a2b4c6d8e0f1';

const BCRYPT = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
const ARGON2 = '$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG';

describe('decidePassword', () => {
  test('ChatCore hex digest + salt becomes pbkdf2_sha256 that verifies the real password', () => {
    const d = decidePassword({ passwordHash: ADMIN_HASH, salt: ADMIN_SALT, password: 'open-sesame-1' });
    expect(d).toEqual({ kind: 'hash', hash: `pbkdf2_sha256$100000$${ADMIN_SALT}$${ADMIN_HASH}`, droppedPlaintext: true });
    if (d.kind !== 'hash') throw new Error('unreachable');
    expect(verifyPbkdf2Sha256('open-sesame-1', d.hash)).toBe(true);
    expect(verifyPbkdf2Sha256('open-sesame-2', d.hash)).toBe(false);
  });

  test('a hash made the way ChatCore makes it, by Python, for a non-ASCII password verifies', () => {
    const password = 'pässwörd-ü 🔑';
    // ChatCore's auth_api: salt = secrets.token_hex(16); digest over bytes.fromhex(salt).
    const { salt, digest } = runPython<{ salt: string; digest: string }>(
      `import hashlib, secrets
salt = secrets.token_hex(16)
out({'salt': salt, 'digest': hashlib.pbkdf2_hmac('sha256', data.encode(), bytes.fromhex(salt), 100000).hex()})`,
      password,
    );
    const d = decidePassword({ passwordHash: digest, salt, password });
    expect(d).toEqual({ kind: 'hash', hash: `pbkdf2_sha256$100000$${salt}$${digest}`, droppedPlaintext: true });
    if (d.kind !== 'hash') throw new Error('unreachable');
    expect(verifyPbkdf2Sha256(password, d.hash)).toBe(true);
    expect(verifyPbkdf2Sha256('pässwörd-u 🔑', d.hash)).toBe(false);
    // Deciding again on what we stored keeps it: never converted or hashed twice.
    expect(decidePassword({ passwordHash: d.hash })).toEqual({ kind: 'hash', hash: d.hash, droppedPlaintext: false });
  });

  test('self-describing hashes are kept byte for byte, with or without a plaintext beside them', () => {
    const django = runPython<string>(
      "import hashlib, base64\nout('pbkdf2_sha256$1000$salty$' + base64.b64encode(hashlib.pbkdf2_hmac('sha256', b'secret', b'salty', 1000)).decode())",
    );
    for (const hash of [BCRYPT, BCRYPT.replace('$2b$', '$2a$'), BCRYPT.replace('$2b$', '$2y$'), ARGON2, django]) {
      expect(decidePassword({ passwordHash: hash })).toEqual({ kind: 'hash', hash, droppedPlaintext: false });
      const withPlaintext = decidePassword({ passwordHash: hash, salt: ADMIN_SALT, password: 'x' });
      expect(withPlaintext).toEqual({ kind: 'hash', hash, droppedPlaintext: true });
    }
    expect(verifyPbkdf2Sha256('secret', django)).toBe(true);
    expect(verifyPbkdf2Sha256('Secret', django)).toBe(false);
  });

  test('plaintext only is handed to the caller to hash', () => {
    expect(decidePassword({ password: '1234' })).toEqual({ kind: 'plaintext', plaintext: '1234' });
    expect(decidePassword({ passwordHash: null, salt: '', password: ' ' })).toEqual({ kind: 'plaintext', plaintext: ' ' });
  });

  test.each([{}, { passwordHash: null, password: null }, { passwordHash: '', password: '' }, { salt: ADMIN_SALT }])(
    'nothing usable (%j) is none',
    (input) => {
      expect(decidePassword(input)).toEqual({ kind: 'none' });
    },
  );

  test.each<[PasswordInput, RegExp, boolean]>([
    [{ passwordHash: ADMIN_HASH }, /no hex salt/, false],
    [{ passwordHash: ADMIN_HASH, salt: '', password: 'open-sesame-1' }, /no hex salt/, true],
    [{ passwordHash: ADMIN_HASH, salt: 42 }, /no hex salt/, false],
    [{ passwordHash: ADMIN_HASH, salt: 'not hex' }, /no hex salt/, false],
    [{ passwordHash: ADMIN_HASH, salt: 'abc' }, /no hex salt/, false],
    [{ passwordHash: ADMIN_HASH.toUpperCase(), salt: ADMIN_SALT }, /not bcrypt/, false],
    [{ passwordHash: 'md5:5f4dcc3b5aa765d61d8327deb882cf99', password: 'hunter2' }, /not bcrypt/, true],
    [{ passwordHash: '$2b$10$short' }, /not bcrypt/, false],
    [{ passwordHash: 'pbkdf2_sha256$1000$salt$notadigest' }, /not bcrypt/, false],
    [{ passwordHash: `pbkdf2_sha256$1000$not-hex$${ADMIN_HASH}` }, /not bcrypt/, false],
    [{ passwordHash: 12345, password: '12345' }, /a number/, true],
    [{ password: 1234 }, /plaintext password is a number/, true],
  ])('unrecognized: %j', (input, reason, droppedPlaintext) => {
    const d = decidePassword(input);
    expect(d).toEqual({ kind: 'unrecognized', reason: expect.stringMatching(reason), droppedPlaintext });
    // The reason goes into reject records: it must not carry the secret.
    if (d.kind === 'unrecognized' && typeof input.password === 'string') expect(d.reason).not.toContain(input.password);
  });
});

describe('verifyPbkdf2Sha256', () => {
  test.each([
    '',
    'pbkdf2_sha256$100000$salt',
    `pbkdf2_sha1$100000$${ADMIN_SALT}$${ADMIN_HASH}`,
    `pbkdf2_sha256$0$${ADMIN_SALT}$${ADMIN_HASH}`,
    `pbkdf2_sha256$100000$not-hex$${ADMIN_HASH}`,
    BCRYPT,
  ])(
    'malformed %p is false, not an exception',
    (stored) => {
      expect(verifyPbkdf2Sha256('1234', stored)).toBe(false);
    },
  );

  test('an iteration count node:crypto cannot take is false', () => {
    expect(verifyPbkdf2Sha256('1234', `pbkdf2_sha256$99999999999$${ADMIN_SALT}$${ADMIN_HASH}`)).toBe(false);
  });
});

describe('hashPlaintext', () => {
  test('makes a $2b$ bcrypt hash that Python bcrypt verifies and decidePassword keeps', async () => {
    const password = 'pässword-ü';
    const hash = await hashPlaintext(password, 4);
    expect(hash).toMatch(/^\$2b\$04\$/);
    expect(decidePassword({ passwordHash: hash })).toEqual({ kind: 'hash', hash, droppedPlaintext: false });
    const result = runPython<{ missing: string } | boolean[]>(
      `try:
    import bcrypt
except ImportError:
    out({'missing': sys.executable})
else:
    out([bcrypt.checkpw(p.encode(), data['hash'].encode()) for p in data['passwords']])`,
      { hash, passwords: [password, 'password-u'] },
    );
    if (!Array.isArray(result)) {
      throw new Error(
        `${PYTHON} (${result.missing}) has no bcrypt module: apt-get install python3-bcrypt ` +
          '(or pip install bcrypt), or point PYTHON at an interpreter that has it.',
      );
    }
    expect(result).toEqual([true, false]);
  });

  test.each([3, 32, 10.5, Number.NaN])('cost %p is a usage error', async (cost) => {
    await expect(hashPlaintext('x', cost)).rejects.toThrow(EtlError);
    await expect(hashPlaintext('x', cost)).rejects.toMatchObject({ code: 'USAGE' });
  });
});
