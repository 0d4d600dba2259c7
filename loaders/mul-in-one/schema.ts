/**
 * Mul-in-One's schema (loaders/app-schema.ts does the work), plus what a run for one owner needs
 * before writing anything: an owner the app lacks can only be created with an e-mail (the app's
 * user listing fails on NULL), and one no other user has (ix_users_email is unique).
 */
import type { Knex } from 'knex';
import { EtlError } from '../../src/errors';
import type { Logger } from '../../src/log';
import { appSchema } from '../app-schema';
import type { Owner, TargetSchema } from '../target';
import { MUL_IN_ONE_SCHEMA } from './ddl';
import { OWNERS_DDL } from './project';

export const mulInOneSchema: TargetSchema = appSchema({ ...MUL_IN_ONE_SCHEMA, etlDdl: [OWNERS_DDL] });

async function checkOwner(knex: Knex, owner: Owner): Promise<void> {
  const users = (await knex.raw("select to_regclass('public.users') as t")).rows[0].t !== null;
  const found: { username: string; email: string | null }[] = users
    ? (await knex.raw('select username, email from public.users where username = ? or email = ?', [owner.username, owner.email ?? null])).rows
    : [];
  if (found.some((u) => u.username === owner.username)) return;
  if (owner.email === undefined) {
    throw new EtlError('USAGE', `Mul-in-One has no user "${owner.username}"; give --owner-email so that etl can create it (the app lists users by e-mail), nothing was written.`);
  }
  const other = found.find((u) => u.email === owner.email);
  if (other) throw new EtlError('USAGE', `--owner-email ${owner.email} belongs to Mul-in-One's user "${other.username}"; name that user with --owner or give another e-mail, nothing was written.`);
}

/** The schema of a run for `owner`: the owner is checked before the schema is created or anything written. */
export function ownerSchema(owner: Owner): TargetSchema {
  return {
    async prepare(knex: Knex, record: boolean, log?: Logger): Promise<string[]> {
      await checkOwner(knex, owner);
      return mulInOneSchema.prepare(knex, record, log);
    },
  };
}
