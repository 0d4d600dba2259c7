/**
 * Mul-in-One's schema at its Alembic head (20251202_0006), as its migration chain leaves it on
 * PostgreSQL: the rewritten baseline 20240722_0001 (users instead of tenants), 20241124_0002,
 * 308fdebd9337, fa1a139f2bc3, e23b22c205c4, 634ef3ac2bc0, 20251201_0003, 20251202_0004 (FastAPI-Users),
 * 20251205_0005, 20251202_0006 (loaders/app-schema.ts adds the `alembic_version` row, so that
 * the app's own `alembic upgrade head` sees an up-to-date database). Written from the migrations and research/seed-formats.md §1.4.
 * Constraint names are PostgreSQL's defaults: the migrations name none but the two unique indexes.
 */
import { type AppSchema, col, varchar } from '../app-schema';

export const MUL_IN_ONE_REVISION = '20251202_0006';

const DDL = `
CREATE TABLE public.users (
  id SERIAL NOT NULL,
  username VARCHAR(128) NOT NULL,
  email VARCHAR(255),
  hashed_password VARCHAR(1024),
  display_name VARCHAR(128),
  role VARCHAR(32) DEFAULT 'member' NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  embedding_api_profile_id INTEGER,
  is_active BOOLEAN DEFAULT '1' NOT NULL,
  is_superuser BOOLEAN DEFAULT '0' NOT NULL,
  is_verified BOOLEAN DEFAULT '0' NOT NULL,
  actual_embedding_dim INTEGER,
  PRIMARY KEY (id),
  UNIQUE (username)
);
CREATE UNIQUE INDEX ix_users_email ON public.users (email);
CREATE UNIQUE INDEX ix_users_username ON public.users (username);
CREATE TABLE public.api_profiles (
  id SERIAL NOT NULL,
  user_id INTEGER NOT NULL,
  name VARCHAR(64) NOT NULL,
  base_url VARCHAR(255) NOT NULL,
  model VARCHAR(255) NOT NULL,
  api_key_cipher TEXT NOT NULL,
  temperature FLOAT DEFAULT 0.4 NOT NULL,
  created_by INTEGER,
  created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  is_embedding_model BOOLEAN DEFAULT false NOT NULL,
  embedding_dim INTEGER,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
  FOREIGN KEY (created_by) REFERENCES public.users (id)
);
ALTER TABLE public.users ADD FOREIGN KEY (embedding_api_profile_id) REFERENCES public.api_profiles (id);
CREATE TABLE public.personas (
  id SERIAL NOT NULL,
  user_id INTEGER NOT NULL,
  name VARCHAR(128) NOT NULL,
  handle VARCHAR(128) NOT NULL,
  prompt TEXT NOT NULL,
  tone VARCHAR(64) DEFAULT 'neutral' NOT NULL,
  proactivity FLOAT DEFAULT 0.5 NOT NULL,
  memory_window INTEGER DEFAULT 8 NOT NULL,
  max_agents_per_turn INTEGER DEFAULT 2 NOT NULL,
  api_profile_id INTEGER,
  is_default BOOLEAN DEFAULT FALSE NOT NULL,
  background TEXT,
  avatar_path VARCHAR(512),
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE,
  FOREIGN KEY (api_profile_id) REFERENCES public.api_profiles (id)
);
CREATE TABLE public.sessions (
  id VARCHAR(64) NOT NULL,
  user_id INTEGER NOT NULL,
  status VARCHAR(32) DEFAULT 'active' NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  user_persona TEXT,
  title VARCHAR(255),
  user_display_name VARCHAR(128),
  user_handle VARCHAR(128),
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);
CREATE TABLE public.session_messages (
  id VARCHAR(64) NOT NULL,
  session_id VARCHAR(64) NOT NULL,
  sender_type VARCHAR(32) NOT NULL,
  sender_name VARCHAR(128) NOT NULL,
  content TEXT NOT NULL,
  created_at TIMESTAMP WITHOUT TIME ZONE DEFAULT CURRENT_TIMESTAMP NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (session_id) REFERENCES public.sessions (id) ON DELETE CASCADE
);
CREATE TABLE public.session_participants (
  session_id VARCHAR NOT NULL,
  persona_id INTEGER NOT NULL,
  PRIMARY KEY (session_id, persona_id),
  FOREIGN KEY (persona_id) REFERENCES public.personas (id) ON DELETE CASCADE,
  FOREIGN KEY (session_id) REFERENCES public.sessions (id) ON DELETE CASCADE
);
CREATE TABLE public.oauth_accounts (
  id SERIAL NOT NULL,
  oauth_name VARCHAR(100) NOT NULL,
  access_token VARCHAR(1024) NOT NULL,
  expires_at INTEGER,
  refresh_token VARCHAR(1024),
  account_id VARCHAR(320) NOT NULL,
  account_email VARCHAR(320) NOT NULL,
  user_id INTEGER NOT NULL,
  PRIMARY KEY (id),
  FOREIGN KEY (user_id) REFERENCES public.users (id) ON DELETE CASCADE
);
CREATE INDEX ix_oauth_accounts_account_id ON public.oauth_accounts (account_id);
CREATE INDEX ix_oauth_accounts_oauth_name ON public.oauth_accounts (oauth_name);
`;

const TS = col('timestamp');

export const MUL_IN_ONE_SCHEMA: AppSchema = {
  app: 'Mul-in-One',
  upgrade: "Mul-in-One's `alembic upgrade head`",
  revisions: [MUL_IN_ONE_REVISION],
  ddl: DDL,
  // What etl writes, and how wide it must be.
  needed: {
    users: { id: col('int4'), username: varchar(128), email: varchar(255, true), hashed_password: varchar(1024, true), role: varchar(32), created_at: TS, is_active: col('bool'), is_superuser: col('bool'), is_verified: col('bool') },
    api_profiles: {
      id: col('int4'),
      user_id: col('int4'),
      name: varchar(64),
      base_url: varchar(255),
      model: varchar(255),
      api_key_cipher: col('text'),
      temperature: col('float8'),
      created_by: col('int4', true),
      created_at: TS,
      is_embedding_model: col('bool'),
    },
    personas: {
      id: col('int4'),
      user_id: col('int4'),
      name: varchar(128),
      handle: varchar(128),
      prompt: col('text'),
      tone: varchar(64),
      proactivity: col('float8'),
      memory_window: col('int4'),
      max_agents_per_turn: col('int4'),
      api_profile_id: col('int4', true),
      is_default: col('bool'),
      background: col('text', true),
    },
  },
};
