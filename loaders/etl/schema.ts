/** etl's own schema (knex migrations in src/db/migrations), in the database's default schema. */
import type { Knex } from 'knex';
import { migrateInTransaction, migrateLatest } from '../../src/db/migrate';
import { EtlError } from '../../src/errors';
import type { TargetSchema } from '../target';

export const etlSchema: TargetSchema = {
  async prepare(knex: Knex, record: boolean): Promise<string[]> {
    if ((await knex.raw("select to_regclass('etl.etl_runs') as t")).rows[0].t !== null) {
      throw new EtlError('USAGE', 'This database holds an application target loaded by etl (its bookkeeping is in the schema "etl"); run with the same --target as before, or load the etl target into another database.');
    }
    return record ? migrateLatest(knex) : migrateInTransaction(knex as Knex.Transaction);
  },
};
