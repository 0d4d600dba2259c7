import { Fernet, sealSecret } from '../../src/secrets/fernet';
import { runPython } from '../normalize/python';

const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJapLeSbXpwF4e4='; // the example key of cryptography's docs format

describe('Fernet (node:crypto) against Python cryptography.fernet', () => {
  test('tokens we write decrypt in Python, with a Fernet key and with a passphrase (Mul-in-One derivation)', () => {
    for (const setting of [FERNET_KEY, 'correct horse battery staple', 'pässwörd 🔑']) {
      const { fernet, derived } = Fernet.fromSetting(setting);
      expect(derived).toBe(setting !== FERNET_KEY);
      const secrets = ['sk-FAKE000000', '', 'ключ-🔑-\u00e9'];
      const tokens = secrets.map((s) => fernet.encrypt(s));
      for (const t of tokens) expect(t).toMatch(/^gAAAAA[A-Za-z0-9_-]+=*$/);
      // padded base64url: Python rejects unpadded tokens
      for (const t of tokens) expect(t.length % 4).toBe(0);
      const plain = runPython<string[]>(
        `import base64, hashlib
from cryptography.fernet import Fernet
s = data['setting']
try:
    key = s.encode() if len(base64.urlsafe_b64decode(s.encode())) == 32 and len(s) == 44 else None
except Exception:
    key = None
if key is None:
    key = base64.urlsafe_b64encode(hashlib.sha256(s.encode('utf-8')).digest())
f = Fernet(key)
out([f.decrypt(t.encode()).decode('utf-8') for t in data['tokens']])`,
        { setting, tokens },
      );
      expect(plain).toEqual(secrets);
    }
  });

  test('tokens Python writes decrypt here; another key or a tampered token gives null', () => {
    const token = runPython<string>(`from cryptography.fernet import Fernet\nout(Fernet(data.encode()).encrypt(b'sk-python').decode())`, FERNET_KEY);
    const { fernet } = Fernet.fromSetting(FERNET_KEY);
    expect(fernet.decrypt(token)).toBe('sk-python');
    expect(Fernet.fromSetting('another passphrase').fernet.decrypt(token)).toBeNull();
    const tampered = token.slice(0, 20) + (token[20] === 'A' ? 'B' : 'A') + token.slice(21);
    expect(fernet.decrypt(tampered)).toBeNull();
    expect(fernet.decrypt('sk-not-a-token')).toBeNull();
  });

  test('sealSecret keeps a value that already is a token under the key; fingerprints are stable', () => {
    const { fernet } = Fernet.fromSetting('passphrase');
    const a = sealSecret('sk-1', fernet);
    const b = sealSecret('sk-1', fernet);
    expect(a.encrypted && !a.kept).toBe(true);
    expect(a.value).not.toBe(b.value); // random IV
    expect(a.fingerprint).toBe(b.fingerprint);
    expect(a.fingerprint).not.toContain('sk-1');
    const kept = sealSecret(a.value, fernet);
    expect(kept).toEqual({ value: a.value, encrypted: true, fingerprint: a.fingerprint, kept: true });
    expect(sealSecret('sk-1', null)).toMatchObject({ value: 'sk-1', encrypted: false, kept: false });
  });
});
