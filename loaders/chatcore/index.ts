import type { Target } from '../target';
import { project } from './project';
import { admit, hashPlaintext } from './rows';
import { chatcoreSchema } from './schema';
import { verify } from './verify';

/** ChatCore.AI's own PostgreSQL schema (Alembic 18373129a302): what its backend reads. */
export const chatcoreTarget: Target = {
  name: 'chatcore',
  summary: "ChatCore's own schema (users, conversations, messages, sessions, documents), as its Alembic migration creates it",
  undoable: true,
  kinds: new Set(['user', 'conversation', 'message', 'session', 'document']),
  tenants: false,
  schema: chatcoreSchema,
  admit,
  hashPlaintext,
  project,
  verify,
};
