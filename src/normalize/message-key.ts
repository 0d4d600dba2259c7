import { hash } from 'node:crypto';

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
  // One-shot hash (strings are hashed as UTF-8): half the cost of createHash on a message-sized input.
  return hash('sha256', messageKeyText(m), 'hex');
}

/**
 * What `stringify({ v, conversation, role, timestamp, content })` gives (keys sorted, compact), built
 * directly: this runs for every message, and the generic stable stringify was the load's largest
 * single cost in normalization. test/normalize/message-key.test.ts holds the two equal.
 */
export function messageKeyText(m: { conversationKey: string; role: string; timestamp: string | null; content: string }): string {
  return `{"content":${JSON.stringify(m.content)},"conversation":${JSON.stringify(m.conversationKey)},"role":${JSON.stringify(m.role)},"timestamp":${JSON.stringify(m.timestamp)},"v":${MESSAGE_KEY_RECIPE}}`;
}
