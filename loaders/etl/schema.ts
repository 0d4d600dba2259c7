/** etl's own schema (knex migrations in src/db/migrations), in the database's default schema. */
import type { Knex } from 'knex';
import { expandForRun } from '../../src/db/evolve/apply';
import { migrateInTransaction, migrateLatest } from '../../src/db/migrate';
import { EtlError } from '../../src/errors';
import type { Logger } from '../../src/log';
import type { TargetSchema } from '../target';

const exists = async (knex: Knex, name: string): Promise<boolean> => (await knex.raw('select to_regclass(?) as t', [name])).rows[0].t !== null;

export const etlSchema: TargetSchema = {
  async prepare(knex: Knex, record: boolean, log?: Logger): Promise<string[]> {
    if (await exists(knex, 'etl.etl_runs')) {
      throw new EtlError('USAGE', 'This database holds an application target loaded by etl (its bookkeeping is in the schema "etl"); run with the same --target as before, or load the etl target into another database.');
    }
    // An application's own schema (Alembic's) with no etl tables: the etl target would collide with it.
    if ((await exists(knex, 'public.alembic_version')) && !(await exists(knex, 'public.etl_runs'))) {
      throw new EtlError('USAGE', "This database holds an application's own schema (it has an alembic_version table); load it with --target chatcore, or use another database for --target etl.");
    }
    const applied = record ? await migrateLatest(knex, log) : await migrateInTransaction(knex as Knex.Transaction);
    return [...applied, ...(await expandForRun(knex, record, log))];
  },
};
