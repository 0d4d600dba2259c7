import { EtlError } from '../../src/errors';
import type { Owner, Target } from '../target';
import { mulInOneKeys } from './keys';
import { projectFor } from './project';
import { admit, hashPlaintext } from './rows';
import { mulInOneSchema, ownerSchema } from './schema';
import { verify } from './verify';

/** Mul-in-One's own PostgreSQL schema (Alembic 20251202_0006): personas and API profiles of one owner per run. */
export const mulInOneTarget: Target = {
  name: 'mul-in-one',
  summary: "Mul-in-One's own schema (users, api_profiles, personas), as its Alembic migrations create it; --owner names the user",
  undoable: true,
  kinds: new Set(['api_profile', 'persona']),
  tenants: false,
  schema: mulInOneSchema,
  admit,
  hashPlaintext,
  // Only a run bound to its owner projects (etl run refuses --target mul-in-one without --owner).
  project: () => Promise.reject(new EtlError('USAGE', '--target mul-in-one needs --owner, the Mul-in-One user the personas and API profiles belong to.')),
  verify,
  apiKeys: mulInOneKeys,
  forOwner: (owner: Owner): Target => ({ ...mulInOneTarget, schema: ownerSchema(owner), project: (knex, log) => projectFor(knex, owner, log), forOwner: undefined }),
};
