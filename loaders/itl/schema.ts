/** ITL's schema (loaders/app-schema.ts does the work), and etl's table of locked passwords. */
import { appSchema } from '../app-schema';
import type { TargetSchema } from '../target';
import { ITL_SCHEMA } from './ddl';
import { LOCKED_PASSWORDS_DDL } from './project';

export const itlSchema: TargetSchema = appSchema({ ...ITL_SCHEMA, etlDdl: [LOCKED_PASSWORDS_DDL] });
