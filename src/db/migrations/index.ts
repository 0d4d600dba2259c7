import type { Knex } from 'knex';
import * as chatSchema from './20261123_001_chat_schema';
import * as configAndSeeds from './20261123_002_config_and_seeds';
import * as undo from './20261201_003_undo';
import * as digests from './20261201_200_digests';
import * as messagesKeyIndex from './20261201_301_messages_key_index';

/**
 * Migrations are imported statically (not discovered on disk) so the same list works from the
 * compiled CLI, from jest running the TypeScript sources, and from the knex CLI via knexfile.ts.
 */
const MIGRATIONS: ReadonlyArray<[string, Knex.Migration]> = [
  ['20261123_001_chat_schema', chatSchema],
  ['20261123_002_config_and_seeds', configAndSeeds],
  ['20261201_003_undo', undo],
  ['20261201_200_digests', digests],
  ['20261201_301_messages_key_index', messagesKeyIndex],
];

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => MIGRATIONS.map(([name]) => name),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const found = MIGRATIONS.find(([n]) => n === name);
    if (!found) throw new Error(`unknown migration ${name}`);
    return found[1];
  },
};
