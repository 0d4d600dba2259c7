import type { Target } from '../target';
import { project } from './project';
import { admit, hashPlaintext } from './rows';
import { etlSchema } from './schema';
import { verify } from './verify';

/** Today's schema: tenants, users, conversations, … with deterministic UUID keys (the default). */
export const etlTarget: Target = {
  name: 'etl',
  summary: "etl's own multi-tenant schema with UUID keys",
  undoable: true,
  kinds: 'all',
  tenants: true,
  schema: etlSchema,
  admit,
  hashPlaintext,
  project,
  verify,
};
