/**
 * ChatCore's schema as its only Alembic revision (18373129a302, "Initial migration") creates it on
 * PostgreSQL: SERIAL keys, two unique indexes per natural key, enums named by SQLAlchemy, and the
 * `alembic_version` row, so the app's own `alembic upgrade head` sees an up-to-date database.
 * Written from the research notes (shared/research/seed-formats.md §3, app-targets.md §1);
 * loaders/app-schema.ts adds the alembic_version table and row, creates it and checks it.
 */
import { type AppSchema, col, varchar } from '../app-schema';

const DDL = `
CREATE TABLE public.users (
  username VARCHAR(50) NOT NULL,
  email VARCHAR(255),
  is_active BOOLEAN NOT NULL,
  is_admin BOOLEAN NOT NULL,
  id SERIAL NOT NULL,
  password_hash VARCHAR(255) NOT NULL,
  salt VARCHAR(64) NOT NULL,
  mfa_secret VARCHAR(32),
  mfa_enabled BOOLEAN NOT NULL,
  theme VARCHAR(20),
  persona VARCHAR(50),
  language VARCHAR(10),
  created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  updated_at TIMESTAMP WITH TIME ZONE,
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_users_username ON public.users (username);
CREATE UNIQUE INDEX ix_users_username ON public.users (username);
CREATE TABLE public.conversations (
  title VARCHAR(200) NOT NULL,
  user_id INTEGER NOT NULL,
  id SERIAL NOT NULL,
  conversation_id VARCHAR(50) NOT NULL,
  is_active BOOLEAN NOT NULL,
  message_count INTEGER NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  updated_at TIMESTAMP WITH TIME ZONE,
  FOREIGN KEY(user_id) REFERENCES public.users (id),
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_conversations_conversation_id ON public.conversations (conversation_id);
CREATE INDEX idx_conversations_updated_at ON public.conversations (updated_at);
CREATE INDEX idx_conversations_user_id ON public.conversations (user_id);
CREATE UNIQUE INDEX ix_conversations_conversation_id ON public.conversations (conversation_id);
CREATE INDEX ix_conversations_user_id ON public.conversations (user_id);
CREATE TYPE public.doc_type_enum AS ENUM ('employee', 'department', 'project', 'procedure', 'file');
CREATE TABLE public.documents (
  id SERIAL NOT NULL,
  doc_type public.doc_type_enum,
  body JSONB,
  file_name VARCHAR(255),
  file_path VARCHAR(500),
  file_size INTEGER,
  file_type VARCHAR(50),
  mime_type VARCHAR(100),
  uploaded_by INTEGER,
  department VARCHAR(100),
  title VARCHAR(500),
  summary VARCHAR,
  chunk_count INTEGER,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  updated_at TIMESTAMP WITH TIME ZONE,
  FOREIGN KEY(uploaded_by) REFERENCES public.users (id),
  PRIMARY KEY (id)
);
CREATE INDEX idx_documents_body_gin ON public.documents USING gin (body);
CREATE INDEX idx_documents_created_at ON public.documents (created_at);
CREATE INDEX idx_documents_department ON public.documents (department);
CREATE INDEX idx_documents_doc_type ON public.documents (doc_type);
CREATE INDEX idx_documents_uploaded_by ON public.documents (uploaded_by);
CREATE INDEX ix_documents_department ON public.documents (department);
CREATE INDEX ix_documents_uploaded_by ON public.documents (uploaded_by);
CREATE TABLE public.refresh_tokens (
  id SERIAL NOT NULL,
  token_hash VARCHAR(255) NOT NULL,
  user_id INTEGER NOT NULL,
  issued_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  expires_at TIMESTAMP WITH TIME ZONE,
  revoked BOOLEAN NOT NULL,
  parent_id INTEGER,
  FOREIGN KEY(parent_id) REFERENCES public.refresh_tokens (id),
  FOREIGN KEY(user_id) REFERENCES public.users (id),
  PRIMARY KEY (id)
);
CREATE INDEX idx_refresh_tokens_expires_at ON public.refresh_tokens (expires_at);
CREATE INDEX idx_refresh_tokens_revoked ON public.refresh_tokens (revoked);
CREATE UNIQUE INDEX idx_refresh_tokens_token_hash ON public.refresh_tokens (token_hash);
CREATE INDEX idx_refresh_tokens_user_id ON public.refresh_tokens (user_id);
CREATE UNIQUE INDEX ix_refresh_tokens_token_hash ON public.refresh_tokens (token_hash);
CREATE INDEX ix_refresh_tokens_user_id ON public.refresh_tokens (user_id);
CREATE TABLE public.sessions (
  id SERIAL NOT NULL,
  user_id INTEGER NOT NULL,
  access_jti VARCHAR(255) NOT NULL,
  user_agent VARCHAR(500),
  ip_address VARCHAR(50),
  created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  last_activity TIMESTAMP WITH TIME ZONE DEFAULT now(),
  revoked BOOLEAN NOT NULL,
  FOREIGN KEY(user_id) REFERENCES public.users (id),
  PRIMARY KEY (id)
);
CREATE UNIQUE INDEX idx_sessions_access_jti ON public.sessions (access_jti);
CREATE INDEX idx_sessions_last_activity ON public.sessions (last_activity);
CREATE INDEX idx_sessions_revoked ON public.sessions (revoked);
CREATE INDEX idx_sessions_user_id ON public.sessions (user_id);
CREATE UNIQUE INDEX ix_sessions_access_jti ON public.sessions (access_jti);
CREATE INDEX ix_sessions_user_id ON public.sessions (user_id);
CREATE TYPE public.message_role_enum AS ENUM ('USER', 'ASSISTANT');
CREATE TABLE public.messages (
  role public.message_role_enum,
  content TEXT,
  conversation_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  id SERIAL NOT NULL,
  message_id VARCHAR(50) NOT NULL,
  created_at TIMESTAMP WITH TIME ZONE DEFAULT now(),
  used_documents JSON,
  token_count INTEGER,
  FOREIGN KEY(conversation_id) REFERENCES public.conversations (id),
  FOREIGN KEY(user_id) REFERENCES public.users (id),
  PRIMARY KEY (id)
);
CREATE INDEX idx_messages_conversation_id ON public.messages (conversation_id);
CREATE INDEX idx_messages_created_at ON public.messages (created_at);
CREATE UNIQUE INDEX idx_messages_message_id ON public.messages (message_id);
CREATE INDEX idx_messages_user_id ON public.messages (user_id);
CREATE INDEX ix_messages_conversation_id ON public.messages (conversation_id);
CREATE UNIQUE INDEX ix_messages_message_id ON public.messages (message_id);
CREATE INDEX ix_messages_user_id ON public.messages (user_id);
`;

const TSTZ = col('timestamptz', true);

export const CHATCORE_SCHEMA: AppSchema = {
  app: 'ChatCore',
  upgrade: "ChatCore's `alembic upgrade head`",
  revisions: ['18373129a302'],
  ddl: DDL,
  // The columns etl writes, as the catalog must show them for a load to be safe.
  needed: {
    users: {
      id: col('int4'),
      username: varchar(50),
      email: varchar(255, true),
      is_active: col('bool'),
      is_admin: col('bool'),
      password_hash: varchar(255),
      salt: varchar(64),
      mfa_enabled: col('bool'),
      theme: varchar(20, true),
      persona: varchar(50, true),
      language: varchar(10, true),
      created_at: TSTZ,
      updated_at: TSTZ,
    },
    conversations: {
      id: col('int4'),
      conversation_id: varchar(50),
      title: varchar(200),
      user_id: col('int4'),
      is_active: col('bool'),
      message_count: col('int4'),
      created_at: TSTZ,
      updated_at: TSTZ,
    },
    messages: {
      id: col('int4'),
      message_id: varchar(50),
      role: col('message_role_enum', true),
      content: col('text', true),
      conversation_id: col('int4'),
      user_id: col('int4'),
      created_at: TSTZ,
    },
    sessions: {
      id: col('int4'),
      user_id: col('int4'),
      access_jti: varchar(64),
      created_at: TSTZ,
      last_activity: TSTZ,
      revoked: col('bool'),
    },
    documents: {
      id: col('int4'),
      doc_type: col('doc_type_enum', true),
      body: col('jsonb', true),
      created_at: TSTZ,
    },
  },
  enums: {
    message_role_enum: ['USER', 'ASSISTANT'],
    doc_type_enum: ['employee', 'department', 'project', 'procedure', 'file'],
  },
};
