/** Which key API keys are encrypted with: etl's own rule, and reading a target's rule from the environment. */
import { Fernet } from '../src/secrets/fernet';
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
