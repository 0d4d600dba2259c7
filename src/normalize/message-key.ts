import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';

/** Bump when the fields or their meaning change: every message key changes with it. */
export const MESSAGE_KEY_RECIPE = 1;

/**
 * A message's identity is its content: the same message seen twice gets one key, the same text at
 * another time another key. Stable stringify sorts keys, so field order never matters.
 */
export function messageKey(m: {
  conversationKey: string;
  role: string;
  timestamp: string | null;
  content: string;
}): string {
  const canonical = stringify({
    v: MESSAGE_KEY_RECIPE,
    conversation: m.conversationKey,
    role: m.role,
    timestamp: m.timestamp,
    content: m.content,
  });
  return createHash('sha256').update(canonical, 'utf8').digest('hex');
}
