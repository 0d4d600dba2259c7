/**
 * Canonical rows (schema "etl") → Mul-in-One's tables (schema "public"), through the generic
 * projection (loaders/projection.ts). Every row belongs to its owner: the canonical tenant of the
 * run is the owner (`--owner`), whose app user is recorded in etl.owners and projected first. The
 * app has no unique key on (user, profile name) or (user, handle): only etl.id_map ties a row to
 * its canonical row, so a rerun updates the same row and an edited YAML too.
 */
import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import type { Logger } from '../../src/log';
import { tenantId } from '../../src/normalize/ids';
import { hashPlaintext as bcrypt } from '../../src/normalize/password';
import { firstWritten } from '../app-dates';
import { mapped, project as projectAll, type Projection } from '../projection';
import type { Owner, ProjectionCounts } from '../target';

/**
 * The app users etl loads for, by canonical tenant. `hashed_password` is a bcrypt hash of a random
 * secret nobody knows (FastAPI-Users fails with an error on NULL or a marker, so a real hash is the
 * way to have a user that exists and cannot log in); `created_at` is when etl first recorded it.
 */
export const OWNERS_DDL = `create table if not exists etl.owners (
  tenant_id uuid primary key,
  username text not null unique,
  email text,
  hashed_password text not null,
  created_at timestamp not null
)`;

/** The app's value for "unlimited" memory_window and max_agents_per_turn (etl's canonical NULL). */
export const UNLIMITED = -1;
/** The app's column default, for an API without a temperature. */
export const DEFAULT_TEMPERATURE = 0.4;

export const PROJECTIONS: readonly Projection[] = [
  {
    table: 'users',
    canonical: 'etl.owners',
    canonicalId: 'tenant_id',
    // An owner the app already has is taken over as it is: etl never changes its e-mail or password.
    columns: ['username'],
    source: 'select o.tenant_id as etl_id, o.username, o.email, o.hashed_password, o.created_at from etl.owners o',
    helpers: ['_email', '_hash', '_created'],
    insertOnly: { email: 's._email', hashed_password: 's._hash', role: "'member'", created_at: 's._created', is_active: 'true', is_superuser: 'false', is_verified: 'false' },
    order: 'username',
    adopt: 'username',
  },
  {
    table: 'api_profiles',
    canonical: 'etl.api_profiles',
    // No key in the source: "" (the app's own value for an empty key; the column is NOT NULL).
    columns: ['user_id', 'name', 'base_url', 'model', 'api_key_cipher', 'temperature'],
    source: `select p.id as etl_id, um.app_id, p.name, p.base_url, p.model, coalesce(p.api_key_cipher, ''), coalesce(p.temperature, ${DEFAULT_TEMPERATURE}), ${firstWritten('p')}
      from etl.api_profiles p join ${mapped('users', 'um', 'p.tenant_id')}`,
    helpers: ['_created'],
    insertOnly: { created_by: 's.user_id', created_at: 's._created', is_embedding_model: 'false' },
    order: 'user_id, name',
  },
  {
    table: 'personas',
    canonical: 'etl.personas',
    columns: ['user_id', 'name', 'handle', 'prompt', 'tone', 'proactivity', 'memory_window', 'max_agents_per_turn', 'api_profile_id', 'background'],
    source: `select p.id as etl_id, um.app_id, p.name, p.handle, p.prompt, p.tone, p.proactivity,
        coalesce(p.memory_window, ${UNLIMITED}), coalesce(p.max_agents_per_turn, ${UNLIMITED}), am.app_id, p.background
      from etl.personas p join ${mapped('users', 'um', 'p.tenant_id')}
      left join ${mapped('api_profiles', 'am', 'p.api_profile_id')}`,
    // The YAML has no default persona: etl marks none (the app allows at most one per user).
    insertOnly: { is_default: 'false' },
    order: 'user_id, handle',
  },
];

/** Records the owner the first time (a rerun keeps its hash and date), then projects every table. */
export async function projectFor(knex: Knex, owner: Owner, log: Logger): Promise<ProjectionCounts[]> {
  const id = tenantId(owner.username);
  const known = (await knex.raw('select 1 from etl.owners where tenant_id = ?', [id])).rows.length > 0;
  if (!known) {
    const hash = await bcrypt(randomBytes(32).toString('base64url'), owner.bcryptCost);
    await knex.raw('insert into etl.owners (tenant_id, username, email, hashed_password, created_at) values (?, ?, ?, ?, localtimestamp) on conflict (tenant_id) do nothing', [id, owner.username, owner.email ?? null, hash]);
  }
  const counts = await projectAll(knex, PROJECTIONS, log);
  if (counts[0].inserted) log.warn({ owner: owner.username }, 'created the owner in Mul-in-One: it is listed, and nobody can log in as it (its password hash is of a random secret); set its password through the app');
  return counts;
}
