import type { EntityKind } from '../extractors/types';

/** A stage-only column: carried with the rows to infer or check a parent, never written to the table. */
export interface RefColumn {
  name: string;
  type: string;
}

/** What a loader knows about one target table: columns, natural key and conflict policy. */
export interface TableSpec {
  table: string;
  /** Target columns in COPY order (the primary key `id` is the conflict target everywhere). */
  columns: readonly string[];
  refs: readonly RefColumn[];
  /** Columns a conflicting record may update ("merge if distinct"); all other columns are insert-only. */
  update: readonly string[];
  /** Special update expressions (t = the existing row, excluded = the new one). */
  updateExpr?: Readonly<Record<string, string>>;
  /** Among records of one batch with the same id, which one is kept (SQL ORDER BY over the stage `s`). */
  pick: string;
  /** May a record of the same source but another locator (a duplicate) update the row? Users: earliest created wins. */
  duplicateWins?: string;
  /** Parent checks run before the upsert (see writer). */
  parents: readonly ('user' | 'conversation')[];
}

const ETL = ['etl_run_id', 'etl_source', 'etl_locator'];

export const TABLES: Readonly<Record<EntityKind, TableSpec>> = {
  user: {
    table: 'users',
    columns: ['id', 'tenant_id', 'username', 'username_original', 'email', 'password_hash', 'password_reset_required', 'is_active', 'inferred', 'created_at', 'updated_at', ...ETL],
    refs: [],
    update: ['username_original', 'email', 'is_active', 'inferred', 'created_at', 'updated_at'],
    // Insert-only: bcrypt salts are random, so a re-run must never replace a stored hash.
    updateExpr: {
      password_hash: 'coalesce(t.password_hash, excluded.password_hash)',
      password_reset_required: 'coalesce(t.password_hash, excluded.password_hash) is null',
    },
    pick: 's.created_at asc nulls last, s._ord',
    duplicateWins: 'excluded.created_at < t.created_at or (t.created_at is null and excluded.created_at is not null)',
    parents: [],
  },
  conversation: {
    table: 'conversations',
    columns: ['id', 'tenant_id', 'kind', 'legacy_id', 'user_id', 'title', 'legacy_message_count', 'inferred', 'created_at', 'updated_at', ...ETL],
    refs: [{ name: '_user_name', type: 'text' }],
    update: ['user_id', 'title', 'legacy_message_count', 'inferred', 'created_at', 'updated_at'],
    pick: 's._ord',
    parents: ['user'],
  },
  message: {
    table: 'messages',
    columns: ['id', 'tenant_id', 'conversation_id', 'user_id', 'content_key', 'legacy_message_id', 'role', 'content', 'created_at', ...ETL],
    refs: [
      { name: '_user_name', type: 'text' },
      { name: '_conv_kind', type: 'text' },
      { name: '_conv_legacy_id', type: 'text' },
    ],
    update: ['legacy_message_id'],
    pick: 's._ord',
    parents: ['user', 'conversation'],
  },
  session: {
    table: 'auth_sessions',
    columns: ['id', 'tenant_id', 'user_id', 'access_jti', 'active_conversation_legacy_id', 'metadata', 'created_at', 'last_activity', ...ETL],
    refs: [{ name: '_user_name', type: 'text' }],
    update: ['user_id', 'active_conversation_legacy_id', 'metadata', 'created_at', 'last_activity'],
    pick: 's._ord',
    parents: ['user'],
  },
  document: {
    table: 'documents',
    columns: ['id', 'tenant_id', 'doc_type', 'content_hash', 'body', ...ETL],
    refs: [],
    update: ['doc_type'],
    pick: 's._ord',
    parents: [],
  },
};

/**
 * Load order: a parent's stream is finished before any child's starts. Streams of one level run
 * concurrently; sessions come after messages so that which stream infers a missing user (and
 * reports it) is always the same.
 */
export const DEPENDENCY_LEVELS: ReadonlyArray<readonly EntityKind[]> = [['user', 'document'], ['conversation'], ['message'], ['session']];
