/**
 * ITL's schema (loaders/app-schema.ts does the work) and etl's table of locked passwords. ITL's
 * tables must hold no rows etl did not write (e.g. from ITL's own seed scripts, whose random
 * UUIDs and unique names would collide with the seed folder's): such a database is refused.
 */
import type { Knex } from 'knex';
import { EtlError } from '../../src/errors';
import { appSchema } from '../app-schema';
import type { TargetSchema } from '../target';
import { foreignRows } from '../uuid-projection';
import { ITL_SCHEMA } from './ddl';
import { LOCKED_PASSWORDS_DDL, PROJECTIONS } from './project';

const schema = appSchema({ ...ITL_SCHEMA, etlDdl: [LOCKED_PASSWORDS_DDL] });

export const itlSchema: TargetSchema = {
  async prepare(knex: Knex, record: boolean): Promise<string[]> {
    const done = await schema.prepare(knex, record);
    const foreign: string[] = [];
    for (const p of PROJECTIONS) {
      const n = await foreignRows(knex, p);
      if (n) foreign.push(`${n} in ${p.table}`);
    }
    if (foreign.length) {
      throw new EtlError('TARGET_SCHEMA', `ITL's tables hold rows etl did not write (${foreign.join(', ')}), e.g. from ITL's own seed scripts; load the seed folder into an ITL database without them, nothing was written.`);
    }
    return done;
  },
};
