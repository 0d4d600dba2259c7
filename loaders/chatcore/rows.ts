/**
 * Which canonical rows ChatCore's schema can hold (app-targets.md §1): column lengths, the role enum
 * without `system`, the doc_type enum. A value that does not fit is rejected with a reason, or (a
 * title) shortened with a `repaired` entry that keeps the whole record; never cut silently.
 * Passwords are hashed the way ChatCore's login verifies them.
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { EntityKind } from '../../extractors/types';
import { ADMIT, type Admission } from '../target';
import type { AnyRow, ConversationRow, DocumentRow, MessageRow, UserRow } from '../rows';

const pbkdf2Async = promisify(pbkdf2);

/** ChatCore's login: PBKDF2-HMAC-SHA256 over the UTF-8 password, the hex-decoded 16-byte salt, 100,000 iterations. */
export const CHATCORE_ITERATIONS = 100_000;

export const MAX = { username: 50, email: 255, conversationId: 50, title: 200 } as const;
const ROLES = new Set(['user', 'assistant']);
export const DOC_TYPES = new Set(['employee', 'department', 'project', 'procedure', 'file']);

/** Length as PostgreSQL's varchar counts it: characters, not UTF-16 units. */
function chars(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

const tooLong = (what: string, value: string, max: number, column: string): Admission => ({
  ok: false,
  code: 'value_too_long',
  message: `${what} "${[...value].slice(0, 60).join('')}${chars(value) > 60 ? '…' : ''}" has ${chars(value)} characters; ChatCore's ${column} holds at most ${max}`,
});

function owner(name: string): Admission | null {
  return chars(name) > MAX.username ? tooLong('the user', name, MAX.username, 'users.username') : null;
}

export function admit(kind: EntityKind, row: AnyRow): Admission {
  switch (kind) {
    case 'user': {
      const u = row as UserRow;
      if (chars(u.username) > MAX.username) return tooLong('username', u.username, MAX.username, 'users.username');
      if (u.email !== null && chars(u.email) > MAX.email) return tooLong('e-mail', u.email, MAX.email, 'users.email');
      return ADMIT;
    }
    case 'conversation': {
      const c = row as ConversationRow;
      const bad = owner(c._user_name) ?? (chars(c.legacy_id) > MAX.conversationId ? tooLong('conversation id', c.legacy_id, MAX.conversationId, 'conversations.conversation_id') : null);
      if (bad) return bad;
      if (c.title !== null && chars(c.title) > MAX.title) {
        const length = chars(c.title);
        c.title = [...c.title].slice(0, MAX.title).join('');
        return { ok: true, repairs: [{ code: 'title_shortened', message: `title of ${length} characters shortened to the ${MAX.title} that ChatCore's conversations.title holds; the whole title stays in this record` }] };
      }
      return ADMIT;
    }
    case 'message': {
      const m = row as MessageRow;
      if (!ROLES.has(m.role)) return { ok: false, code: 'unsupported_role', message: `role "${m.role}": ChatCore's message_role_enum has only USER and ASSISTANT` };
      const bad = owner(m._user_name) ?? (m._conv_kind === 'legacy' && chars(m._conv_legacy_id) > MAX.conversationId ? tooLong('conversation id', m._conv_legacy_id, MAX.conversationId, 'conversations.conversation_id') : null);
      return bad ?? ADMIT;
    }
    case 'session':
      return owner((row as { _user_name: string })._user_name) ?? ADMIT;
    case 'document': {
      const d = row as DocumentRow;
      return DOC_TYPES.has(d.doc_type) ? ADMIT : { ok: false, code: 'unsupported_doc_type', message: `document type "${d.doc_type}": ChatCore's doc_type_enum has only ${[...DOC_TYPES].join(', ')}` };
    }
    default:
      return ADMIT;
  }
}

/** `pbkdf2_sha256$100000$<hex salt>$<hex digest>`: the canonical form of a ChatCore hash (hash and salt columns). */
export async function hashPlaintext(plaintext: string): Promise<string> {
  const salt = randomBytes(16);
  const digest = await pbkdf2Async(Buffer.from(plaintext, 'utf8'), salt, CHATCORE_ITERATIONS, 32, 'sha256');
  return `pbkdf2_sha256$${CHATCORE_ITERATIONS}$${salt.toString('hex')}$${digest.toString('hex')}`;
}
