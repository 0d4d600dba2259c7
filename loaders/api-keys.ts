/** Which key API keys are encrypted with: etl's own rule, and reading a target's rule from the environment. */
import { Fernet, looksLikeFernetToken } from '../src/secrets/fernet';
import type { Check } from '../src/verify/checks';
import type { ApiKeyRule } from './target';

/** etl's own rule: ETL_ENCRYPTION_KEY, a Fernet key used as it is or a passphrase derived as Mul-in-One does. */
export const ETL_KEYS: ApiKeyRule = {
  variables: ['ETL_ENCRYPTION_KEY'],
  fernet(setting) {
    const { fernet, derived } = Fernet.fromSetting(setting);
    return { fernet, how: derived ? 'ETL_ENCRYPTION_KEY is a passphrase: Fernet key = urlsafe_b64encode(sha256(passphrase)), as Mul-in-One derives it' : 'ETL_ENCRYPTION_KEY is a Fernet key, used as it is' };
  },
};

/** The first of the rule's variables that is set, and its Fernet key (EtlError for a value the rule refuses); null when none is set. */
export function keyFromEnv(rule: ApiKeyRule, env: NodeJS.ProcessEnv = process.env): { fernet: Fernet; variable: string; how: string } | null {
  const variable = rule.variables.find((v) => (env[v] ?? '') !== '');
  return variable === undefined ? null : { ...rule.fernet(env[variable]!, variable), variable };
}

/**
 * For `etl verify`: every stored value is a Fernet token the application decrypts under the rule's
 * key (its decrypt would otherwise use the stored text itself as the key). Without the key set,
 * only a token's shape can be checked, and the detail says so; a plaintext key fails either way.
 */
export function checkStoredKeys(rule: ApiKeyRule, name: string, rows: readonly { label: string; value: string }[]): Check {
  const key = keyFromEnv(rule);
  const bad = rows.filter((r) => (key ? key.fernet.decrypt(r.value) === null : !looksLikeFernetToken(r.value)));
  const how = key ? `decrypted under ${key.variable}` : `checked by shape only (set ${rule.variables[0]} to decrypt them)`;
  return {
    name,
    ok: bad.length === 0,
    detail: bad.length ? `${bad.length} of ${rows.length} are not tokens the app decrypts (it would use the stored text as the key): ${bad.slice(0, 5).map((r) => r.label).join(', ')}` : `${rows.length} key(s) ${how}`,
  };
}
