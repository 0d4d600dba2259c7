import stringify from 'fast-json-stable-stringify';
import { MESSAGE_KEY_RECIPE, messageKey, messageKeyText } from '../../src/normalize/message-key';
import { runPython } from './python';

const base = {
  conversationKey: 'conv-1',
  role: 'user',
  timestamp: '2025-11-03T16:18:41.472461Z',
  content: 'Merhaba dünya',
};

describe('messageKey', () => {
  test('the same message twice gets the same key, whatever the property order', () => {
    const { content, timestamp, role, conversationKey } = base;
    const reordered = { content, timestamp, role, conversationKey };
    expect(messageKey({ ...base })).toBe(messageKey(base));
    expect(messageKey(reordered)).toBe(messageKey(base));
    expect(messageKey(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the same text at another time, in another conversation or from another role is another key', () => {
    const keys = [
      base,
      { ...base, timestamp: '2025-11-03T16:18:41.472462Z' },
      { ...base, timestamp: null },
      { ...base, conversationKey: 'conv-2' },
      { ...base, role: 'assistant' },
      { ...base, content: `${base.content} ` },
    ].map(messageKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  test('fields cannot bleed into each other', () => {
    const a = messageKey({ ...base, conversationKey: 'a', role: 'bc' });
    expect(a).not.toBe(messageKey({ ...base, conversationKey: 'ab', role: 'c' }));
  });

  test('Python can re-derive the key: sha256 of sorted-key compact JSON with the recipe version', () => {
    const messages = [
      base,
      { ...base, timestamp: null },
      { ...base, content: 'quote " backslash \\ newline \n tab \t ctrl \u0001 emoji 😀 İ ß' },
    ];
    const expected = runPython<string[]>(
      `import hashlib
def key(m):
    doc = {'v': data['v'], 'conversation': m['conversationKey'], 'role': m['role'], 'timestamp': m['timestamp'], 'content': m['content']}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(',', ':'), ensure_ascii=False).encode()).hexdigest()
out([key(m) for m in data['messages']])`,
      { v: MESSAGE_KEY_RECIPE, messages },
    );
    expect(messages.map(messageKey)).toEqual(expected);
  });

  test('the hashed text is the stable stringify of the key document, byte for byte', () => {
    const tricky = ['', 'quote " backslash \\ newline \n tab \t ctrl \u0001 del \u007f', 'emoji 😀 İ ß \u2028 \u2029', 'lone \ud800 surrogate', '{"v":2}'];
    const messages = tricky.flatMap((content) => [
      { ...base, content },
      { ...base, conversationKey: content, role: content, timestamp: null, content: 'x' },
      { ...base, timestamp: content },
    ]);
    for (const m of messages) {
      const doc = { v: MESSAGE_KEY_RECIPE, conversation: m.conversationKey, role: m.role, timestamp: m.timestamp, content: m.content };
      expect(messageKeyText(m)).toBe(stringify(doc));
    }
  });
});
