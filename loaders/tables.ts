import type { EntityKind } from '../extractors/types';

/** A stage-only column: carried with the rows to infer or check a parent, never written to the table. */
export interface RefColumn {
  name: string;
  type: string;
}

/** The report counters an inferred parent adds to. */
export type InferCounter = 'inferredUsers' | 'inferredConversations' | 'inferredPersonas' | 'importedHistory';

/** How to create a missing parent from the references the staged child rows carry. */
export interface InferRule {
  /** Which missing references this rule creates: stage rows whose `column` equals `equals`. */
  when?: { column: string; equals: string };
  /** Created whatever `--orphans` says (imported-history conversations are not orphans). */
  always?: boolean;
  /**
   * Parent column → value: `s.<column>` of the stage row, a quoted string, `null`, `true` or
   * `false` (SQL the writer runs, and that `stageValue` evaluates for verify); etl_* are added.
   */
  values: Readonly<Record<string, string>>;
  counter: InferCounter;
  /** An `inferred` entry per created parent, its message built from a returned parent column. */
  report?: { code: string; column: string; message: (value: string) => string };
}

/**
 * A foreign key the writer settles before the upsert: every staged row whose `column` names a row
 * `table` lacks is either rejected, or (with `--orphans infer` and a rule) given a parent created
 * from the reference. A NULL reference is no reference.
 */
export interface ParentRef {
  column: string;
  table: string;
  /** `orphans`: follow `--orphans` (infer with `infer`, else reject); `reject`: always reject. */
  missing: 'orphans' | 'reject';
  code: string;
  /** SQL expression over the stage row naming the missing reference, for the message. */
  label?: string;
  message: (label: string | null) => string;
  infer?: readonly InferRule[];
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
  /**
   * Two records of one source with the same key: `merge` (default: one row, the other reported as
   * merged) or reject the later one with this code and message (a duplicate persona handle).
   */
  duplicates?: { reject: true; code: string; message: string };
  /** Foreign keys settled before the upsert, in this order (see writer). */
  parents: readonly ParentRef[];
  /** Kinds whose streams must finish first although they are not parents (ordering only). */
  after?: readonly EntityKind[];
}

const ETL = ['etl_run_id', 'etl_source', 'etl_locator'];

const ORPHAN_USER: ParentRef = {
  column: 'user_id',
  table: 'users',
  missing: 'orphans',
  code: 'orphan_user',
  message: () => 'references a user that the source has no record of',
  infer: [
    {
      values: {
        id: 's.user_id',
        tenant_id: 's.tenant_id',
        username: 's._user_name',
        username_original: 's._user_name',
        password_hash: 'null',
        password_reset_required: 'true',
        is_active: 'true',
        inferred: 'true',
      },
      counter: 'inferredUsers',
      report: {
        code: 'inferred_user',
        column: 'username',
        message: (u) => `user "${u}" is referenced but not in the source's users; created without a password (reset required)`,
      },
    },
  ],
};

/**
 * The persona a conversation or message is spoken as: created when the target lacks it (always, as
 * imported history: the legacy sources name no persona, so it is the user's default, named after them).
 */
const USER_PERSONA: ParentRef = {
  column: 'persona_id',
  table: 'user_personas',
  missing: 'orphans',
  code: 'orphan_persona',
  message: () => 'speaks as a persona the target has no record of',
  infer: [
    {
      always: true,
      values: { id: 's.persona_id', tenant_id: 's.tenant_id', user_id: 's.user_id', name: 's._persona_name', is_default: 's._persona_default', inferred: 'true' },
      counter: 'inferredPersonas',
    },
  ],
};
const PERSONA_REFS: readonly RefColumn[] = [
  { name: '_persona_name', type: 'text' },
  { name: '_persona_default', type: 'boolean' },
];

const conversationFromMessages = (kind: string, inferred: boolean, title: string): Record<string, string> => ({
  id: 's.conversation_id',
  tenant_id: 's.tenant_id',
  kind: `'${kind}'`,
  legacy_id: 's._conv_legacy_id',
  user_id: 's.user_id',
  persona_id: 's.persona_id',
  title,
  legacy_message_count: 'null',
  inferred: String(inferred),
  created_at: 'null',
  updated_at: 'null',
});

const ORPHAN_CONVERSATION: ParentRef = {
  column: 'conversation_id',
  table: 'conversations',
  missing: 'orphans',
  code: 'orphan_conversation',
  message: () => 'references a conversation that the source has no record of',
  infer: [
    // Messages of the oldest format have no conversation: one imported history per user, always.
    { when: { column: '_conv_kind', equals: 'imported_history' }, always: true, values: conversationFromMessages('imported_history', false, "'Imported history'"), counter: 'importedHistory' },
    {
      when: { column: '_conv_kind', equals: 'legacy' },
      values: conversationFromMessages('legacy', true, 'null'),
      counter: 'inferredConversations',
      report: {
        code: 'inferred_conversation',
        column: 'legacy_id',
        message: (id) => `conversation "${id}" is referenced but not in the source's conversations; created from its messages`,
      },
    },
  ],
};

const tenantRef = (label: string): ParentRef => ({
  column: 'tenant_id',
  table: 'tenants',
  missing: 'reject',
  code: 'missing_tenant',
  label,
  message: (name) => `names tenant "${name}", which is neither in the source's tenants nor in the target`,
});

/** A reference to a catalog row by its key: never invented, a missing one rejects the record. */
const catalogRef = (column: string, table: string, what: string, label: string): ParentRef => ({
  column,
  table,
  missing: 'reject',
  code: `missing_${what.replace(/ /g, '_')}`,
  label,
  message: (key) => `references ${what} "${key}", which is neither in the source nor in the target`,
});

export const TABLES: Readonly<Record<EntityKind, TableSpec>> = {
  tenant: {
    table: 'tenants',
    columns: ['id', 'slug', 'name', 'domain', 'status', 'created_at', ...ETL],
    refs: [],
    update: ['name', 'domain', 'status'],
    pick: 's._ord',
    parents: [],
  },
  user: {
    table: 'users',
    columns: ['id', 'tenant_id', 'username', 'username_original', 'email', 'role', 'password_hash', 'password_reset_required', 'is_active', 'inferred', 'created_at', 'updated_at', ...ETL],
    refs: [{ name: '_tenant_name', type: 'text' }],
    update: ['username_original', 'email', 'role', 'is_active', 'inferred', 'created_at', 'updated_at'],
    // Insert-only: bcrypt salts are random, so a re-run must never replace a stored hash.
    updateExpr: {
      password_hash: 'coalesce(t.password_hash, excluded.password_hash)',
      password_reset_required: 'coalesce(t.password_hash, excluded.password_hash) is null',
    },
    pick: 's.created_at asc nulls last, s._ord',
    duplicateWins: 'excluded.created_at < t.created_at or (t.created_at is null and excluded.created_at is not null)',
    parents: [tenantRef('s._tenant_name')],
  },
  conversation: {
    table: 'conversations',
    columns: ['id', 'tenant_id', 'kind', 'legacy_id', 'user_id', 'persona_id', 'title', 'legacy_message_count', 'inferred', 'created_at', 'updated_at', ...ETL],
    refs: [{ name: '_user_name', type: 'text' }, ...PERSONA_REFS],
    // persona_id follows user_id: a conversation handed to another user speaks as that user's persona.
    update: ['user_id', 'persona_id', 'title', 'legacy_message_count', 'inferred', 'created_at', 'updated_at'],
    pick: 's._ord',
    parents: [ORPHAN_USER, USER_PERSONA],
  },
  message: {
    table: 'messages',
    columns: ['id', 'tenant_id', 'conversation_id', 'user_id', 'persona_id', 'content_key', 'legacy_message_id', 'role', 'content', 'created_at', ...ETL],
    refs: [
      { name: '_user_name', type: 'text' },
      { name: '_conv_kind', type: 'text' },
      { name: '_conv_legacy_id', type: 'text' },
      ...PERSONA_REFS,
    ],
    update: ['legacy_message_id'],
    pick: 's._ord',
    // The persona before the conversation: a conversation inferred from a message speaks as its persona.
    parents: [ORPHAN_USER, USER_PERSONA, ORPHAN_CONVERSATION],
  },
  user_persona: {
    table: 'user_personas',
    columns: ['id', 'tenant_id', 'user_id', 'name', 'is_default', 'inferred', ...ETL],
    refs: [{ name: '_user_name', type: 'text' }],
    update: ['is_default', 'inferred'],
    pick: 's._ord',
    parents: [ORPHAN_USER],
  },
  session: {
    table: 'auth_sessions',
    columns: ['id', 'tenant_id', 'user_id', 'access_jti', 'active_conversation_legacy_id', 'metadata', 'created_at', 'last_activity', ...ETL],
    refs: [{ name: '_user_name', type: 'text' }],
    update: ['user_id', 'active_conversation_legacy_id', 'metadata', 'created_at', 'last_activity'],
    pick: 's._ord',
    parents: [ORPHAN_USER],
    // After the messages, so that which stream infers a missing user (and reports it) is always the same.
    after: ['message'],
  },
  document: {
    table: 'documents',
    columns: ['id', 'tenant_id', 'doc_type', 'content_hash', 'body', ...ETL],
    refs: [],
    update: ['doc_type'],
    pick: 's._ord',
    parents: [],
  },
  api_profile: {
    table: 'api_profiles',
    columns: ['id', 'tenant_id', 'name', 'base_url', 'model', 'api_key_cipher', 'api_key_encrypted', 'api_key_fingerprint', 'temperature', 'is_default', ...ETL],
    refs: [],
    update: ['base_url', 'model', 'api_key_encrypted', 'api_key_fingerprint', 'temperature', 'is_default'],
    // Fernet tokens carry a random IV and a timestamp: the stored token is kept unless the key itself changed.
    updateExpr: {
      api_key_cipher:
        'case when t.api_key_fingerprint is not distinct from excluded.api_key_fingerprint and t.api_key_encrypted = excluded.api_key_encrypted then t.api_key_cipher else excluded.api_key_cipher end',
    },
    pick: 's._ord',
    parents: [],
  },
  persona: {
    table: 'personas',
    columns: ['id', 'tenant_id', 'name', 'handle', 'prompt', 'tone', 'proactivity', 'memory_window', 'max_agents_per_turn', 'api_profile_id', 'api_binding', 'catchphrases', 'background', 'background_options', ...ETL],
    refs: [{ name: '_api_name', type: 'text' }],
    update: ['name', 'prompt', 'tone', 'proactivity', 'memory_window', 'max_agents_per_turn', 'api_profile_id', 'api_binding', 'catchphrases', 'background', 'background_options'],
    pick: 's._ord',
    duplicates: { reject: true, code: 'duplicate_handle', message: 'has the same handle as an earlier persona of this source' },
    parents: [
      {
        column: 'api_profile_id',
        table: 'api_profiles',
        missing: 'reject',
        code: 'missing_api_profile',
        label: 's._api_name',
        message: (name) => `is bound to API "${name}", which is neither in the API configuration nor in the target`,
      },
    ],
  },
  llm_model: {
    table: 'llm_models',
    columns: ['id', 'model_key', 'provider', 'model_name', 'display_name', 'description', 'is_active', 'supports_vision', 'supports_function_calling', 'context_window', 'input_cost_per_1m_tokens', 'output_cost_per_1m_tokens', ...ETL],
    refs: [],
    update: ['provider', 'model_name', 'display_name', 'description', 'is_active', 'supports_vision', 'supports_function_calling', 'context_window', 'input_cost_per_1m_tokens', 'output_cost_per_1m_tokens'],
    pick: 's._ord',
    parents: [],
  },
  base_tool: {
    table: 'base_tools',
    columns: ['id', 'tool_key', 'name', 'category', 'description', 'tool_type', 'is_active', ...ETL],
    refs: [],
    update: ['name', 'category', 'description', 'tool_type', 'is_active'],
    pick: 's._ord',
    parents: [],
  },
  agent: {
    table: 'agents',
    columns: ['id', 'agent_key', 'name', 'description', 'agent_type', 'prompt_template', 'is_active', 'is_system', ...ETL],
    refs: [],
    update: ['name', 'description', 'agent_type', 'prompt_template', 'is_active', 'is_system'],
    pick: 's._ord',
    parents: [],
  },
  tool: {
    table: 'tools',
    columns: ['id', 'tool_key', 'base_tool_id', 'name', 'description', 'tool_type', 'is_active', 'input_schema', 'config', ...ETL],
    refs: [{ name: '_base_tool_key', type: 'text' }],
    update: ['base_tool_id', 'name', 'description', 'tool_type', 'is_active', 'input_schema', 'config'],
    pick: 's._ord',
    parents: [catalogRef('base_tool_id', 'base_tools', 'base tool', 's._base_tool_key')],
  },
  agent_tool: {
    table: 'agent_tools',
    columns: ['id', 'agent_id', 'tool_id', 'priority', ...ETL],
    refs: [
      { name: '_agent_key', type: 'text' },
      { name: '_tool_key', type: 'text' },
    ],
    update: ['priority'],
    pick: 's._ord',
    parents: [catalogRef('agent_id', 'agents', 'agent', 's._agent_key'), catalogRef('tool_id', 'tools', 'tool', 's._tool_key')],
  },
  tenant_agent: {
    table: 'tenant_agents',
    columns: ['id', 'tenant_id', 'agent_id', 'enabled', ...ETL],
    refs: [
      { name: '_tenant_name', type: 'text' },
      { name: '_agent_name', type: 'text' },
    ],
    update: ['enabled'],
    pick: 's._ord',
    parents: [tenantRef('s._tenant_name'), catalogRef('agent_id', 'agents', 'agent', 's._agent_name')],
  },
};

export const ENTITY_KINDS = Object.keys(TABLES) as EntityKind[];

/** The value an InferRule gives a parent column, for a staged child row (see InferRule.values). */
export function stageValue(expr: string, row: Readonly<Record<string, unknown>>): unknown {
  if (expr.startsWith('s.')) return row[expr.slice(2)];
  if (/^'[^']*'$/.test(expr)) return expr.slice(1, -1);
  if (expr === 'null') return null;
  if (expr === 'true' || expr === 'false') return expr === 'true';
  throw new Error(`infer rule value ${expr} is not a stage column, a string, null or a boolean`);
}

/** Which table each inferred-row counter counts rows of, from the specs' infer rules. */
export const INFERRED_TABLE: Readonly<Partial<Record<InferCounter, string>>> = Object.fromEntries(
  Object.values(TABLES).flatMap((spec) => spec.parents.flatMap((ref) => (ref.infer ?? []).map((rule) => [rule.counter, ref.table]))),
);

/** The entity kind whose rows a table holds. */
export function kindOfTable(table: string): EntityKind | undefined {
  return ENTITY_KINDS.find((k) => TABLES[k].table === table);
}

/**
 * Load order, derived from the specs: a parent's streams (and the `after` kinds') are finished
 * before any child's start; kinds of one level run concurrently. Only kinds present in the run
 * count (a users stream waits for a tenants stream only when the run has one).
 */
export function dependencyLevels(kinds: Iterable<EntityKind>): EntityKind[][] {
  const present = new Set(kinds);
  const level = new Map<EntityKind, number>();
  const visit = (k: EntityKind, path: EntityKind[]): number => {
    const known = level.get(k);
    if (known !== undefined) return known;
    if (path.includes(k)) throw new Error(`dependency cycle among tables: ${[...path, k].join(' → ')}`);
    const spec = TABLES[k];
    const deps = [...spec.parents.map((p) => kindOfTable(p.table)), ...(spec.after ?? [])].filter((d): d is EntityKind => d !== undefined && d !== k && present.has(d));
    const n = deps.length ? 1 + Math.max(...deps.map((d) => visit(d, [...path, k]))) : 0;
    level.set(k, n);
    return n;
  };
  const out: EntityKind[][] = [];
  for (const k of ENTITY_KINDS.filter((x) => present.has(x))) (out[visit(k, [])] ??= []).push(k);
  return out.filter(Boolean);
}
