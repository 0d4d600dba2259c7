import { EtlError } from '../errors';

/**
 * Top-level names email-validator (behind pydantic's EmailStr, which Mul-in-One's user schemas
 * use) refuses as special-use: an owner with such an address could not be listed by the app.
 */
const SPECIAL_USE = new Set(['arpa', 'invalid', 'local', 'localhost', 'onion', 'test']);

/** An e-mail address the applications accept: local@domain.tld, domain labels of letters, digits and -. */
export function assertEmail(email: string): void {
  const m = /^[^\s@]+@((?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+([a-z]{2,63}))$/i.exec(email);
  if (!m || email.length > 254) throw new EtlError('USAGE', `"${email}" is not an e-mail address the application accepts (name@domain.tld); give another one.`);
  if (SPECIAL_USE.has(m[2].toLowerCase())) throw new EtlError('USAGE', `"${email}" ends in .${m[2]}, a special-use domain the application's e-mail check refuses; give a real address.`);
}
