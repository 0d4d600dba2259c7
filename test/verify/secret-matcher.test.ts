import { copyEscape, fieldText } from '../../src/db/copy-out';
import { SecretMatcher } from '../../src/verify/secret-matcher';

/** A value as it comes out of COPY TO (one field), and the matcher's answer on it. */
function found(m: SecretMatcher, value: string): boolean {
  const buf = Buffer.from(`before\t${copyEscape(value)}\tafter\n`);
  const start = buf.indexOf(9) + 1;
  return m.inField(buf, start, buf.indexOf(9, start));
}

describe('SecretMatcher (all secrets in one pass over COPY output)', () => {
  const secrets = ['open-sesame-1', 'guest-pass-2', 'tab\there\\and\nline', 'ünïcødé-sëcret😀', 'open-sesame-2-longer'];
  const m = new SecretMatcher(secrets);

  test('finds each secret as a whole value and inside other text, anywhere in the value', () => {
    for (const s of secrets) {
      expect(found(m, s)).toBe(true);
      expect(found(m, `prefix ${s}`)).toBe(true);
      expect(found(m, `${s} suffix`)).toBe(true);
      expect(found(m, `{"password": "${s}", "n": 1}`)).toBe(true);
    }
  });

  test('secrets that share their first bytes are told apart', () => {
    expect(found(m, 'open-sesame-2')).toBe(false);
    expect(found(m, 'x open-sesame-2-longer y')).toBe(true);
  });

  test('no match on text without a secret, on a secret cut short, or across values', () => {
    expect(found(m, 'Fırın bölümünde kimler çalışıyor?')).toBe(false);
    expect(found(m, 'open-sesame-')).toBe(false);
    expect(found(m, '')).toBe(false);
    const buf = Buffer.from('open-sesa\tme-1\n');
    expect(m.inField(buf, 0, 9) || m.inField(buf, 10, 14)).toBe(false);
  });

  test('escapes: a backslash followed by "n" is not a newline (the bytes line up, the text does not)', () => {
    const nl = new SecretMatcher(['\nabcdefgh']);
    expect(found(nl, 'x\nabcdefgh')).toBe(true);
    // COPY writes this as `x\\nabcdefgh`, which contains the escaped secret's bytes `\nabcdefgh`.
    expect(found(nl, 'x\\nabcdefgh')).toBe(false);
  });

  test('refuses a secret too short to be looked for inside text (those are matched as whole values)', () => {
    expect(() => new SecretMatcher(['1234'])).toThrow(/shorter than 8/);
  });

  test('fieldText undoes COPY escaping', () => {
    const value = 'a\\b\tc\nd\re\bf\fg\vh';
    const buf = Buffer.from(copyEscape(value));
    expect(fieldText(buf, 0, buf.length)).toBe(value);
  });
});
