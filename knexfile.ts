import type { Knex } from 'knex';
import { migrationSource } from './src/db/migrations';
import { MIGRATION_TABLE } from './src/db/migrate';

/** For the knex CLI against a server you name (`DATABASE_URL`); `etl migrate` is the usual way. */
const config: Knex.Config = {
  client: 'pg',
  connection: process.env.DATABASE_URL,
  migrations: { migrationSource, tableName: MIGRATION_TABLE },
};

export default config;
