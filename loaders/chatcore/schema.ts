/** ChatCore's schema: loaders/app-schema.ts creates it on an empty database, or checks the one there. */
import { appSchema } from '../app-schema';
import { CHATCORE_SCHEMA } from './ddl';

export const chatcoreSchema = appSchema(CHATCORE_SCHEMA);
