/**
 * Normalized rows: what normalization hands to a loader. Timestamps are canonical UTC strings
 * (`YYYY-MM-DDTHH:MM:SS.ffffffZ`, microseconds kept); ids are deterministic UUIDs.
 */
interface EtlColumns {
  etl_run_id: string;
  etl_source: string;
  etl_locator: string;
}

export interface TenantRow extends EtlColumns {
  id: string;
  slug: string;
  name: string;
  created_at: string | null;
}

export interface UserRow extends EtlColumns {
  id: string;
  tenant_id: string;
  username: string;
  username_original: string;
  email: string | null;
  password_hash: string | null;
  password_reset_required: boolean;
  is_active: boolean;
  inferred: boolean;
  created_at: string | null;
  updated_at: string | null;
}

export interface ConversationRow extends EtlColumns {
  id: string;
  tenant_id: string;
  kind: 'legacy' | 'imported_history';
  legacy_id: string;
  user_id: string;
  title: string | null;
  legacy_message_count: number | null;
  inferred: boolean;
  created_at: string | null;
  updated_at: string | null;
  /** Reference to the owning user, for inferring it when the users table lacks it. */
  _user_name: string;
}

export interface MessageRow extends EtlColumns {
  id: string;
  tenant_id: string;
  conversation_id: string;
  user_id: string;
  content_key: string;
  legacy_message_id: string | null;
  role: string;
  content: string;
  created_at: string;
  _user_name: string;
  _conv_kind: 'legacy' | 'imported_history';
  _conv_legacy_id: string;
}

export interface SessionRow extends EtlColumns {
  id: string;
  tenant_id: string;
  user_id: string;
  access_jti: string;
  active_conversation_legacy_id: string | null;
  metadata: Record<string, unknown>;
  created_at: string | null;
  last_activity: string | null;
  _user_name: string;
}

export interface DocumentRow extends EtlColumns {
  id: string;
  tenant_id: string;
  doc_type: string;
  content_hash: string;
  body: unknown;
}

export type AnyRow = TenantRow | UserRow | ConversationRow | MessageRow | SessionRow | DocumentRow;
