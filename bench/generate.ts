import fs from 'node:fs';
import { once } from 'node:events';

export interface GenerateOptions {
  messages: number;
  users?: number;
  /** Messages per conversation. */
  perConversation?: number;
  /** Every Nth message repeats the previous one (a duplicate to merge); 0 = none. */
  duplicateEvery?: number;
  /** Every Nth conversation is referenced by messages but missing from the conversations table; 0 = none. */
  missingConversationEvery?: number;
}

/** Python's json.dumps default: ASCII only, non-ASCII as \uXXXX. */
function ascii(s: string): string {
  return JSON.stringify(s).replace(/[\u0080-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function iso(ms: number, micros: number): string {
  return new Date(ms).toISOString().slice(0, 19) + '.' + String(micros).padStart(6, '0');
}

const TEXTS = ['Fırın bölümünde kimler çalışıyor?', 'Hangi işler sürüyor?', 'Lojistik biriminin bütçesi nedir?', 'Ayla Kaya ve Deniz Ak.', 'Bu konuda kaydım yok 😀'];

/**
 * Writes a ChatCore-layout TinyDB file (one line, ASCII-escaped, as TinyDB writes it) with the
 * given number of messages; deterministic for the same options. Streams, so any size works.
 */
export async function generateChatCore(file: string, o: GenerateOptions): Promise<void> {
  const users = o.users ?? 100;
  const per = o.perConversation ?? 20;
  const conversations = Math.max(1, Math.ceil(o.messages / per));
  const out = fs.createWriteStream(file);
  let buf = '';
  const write = async (s: string) => {
    buf += s;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  };
  const t0 = Date.UTC(2025, 0, 1);
  await write('{"users": {');
  for (let u = 0; u < users; u++) {
    await write(`${u ? ', ' : ''}"${u + 1}": {"username": ${ascii(`user${u}`)}, "password_hash": "${'ab'.repeat(32)}", "salt": "${'cd'.repeat(16)}", "created_at": "${iso(t0 + u * 1000, 0)}", "updated_at": "${iso(t0 + u * 1000, 0)}", "is_active": true}`);
  }
  await write('}, "conversations": {');
  let first = true;
  for (let c = 0; c < conversations; c++) {
    if (o.missingConversationEvery && c % o.missingConversationEvery === o.missingConversationEvery - 1) continue;
    await write(`${first ? '' : ', '}"${c + 1}": {"conversation_id": "c${c.toString(16).padStart(7, '0')}", "user_id": "user${c % users}", "title": ${ascii(TEXTS[c % TEXTS.length])}, "created_at": "${iso(t0 + c * 60000, 0)}", "updated_at": "${iso(t0 + c * 60000, 0)}", "message_count": ${per}}`);
    first = false;
  }
  await write('}, "chat_history": {');
  let prev = '';
  for (let m = 0; m < o.messages; m++) {
    let doc: string;
    if (o.duplicateEvery && m % o.duplicateEvery === o.duplicateEvery - 1 && prev) {
      doc = prev;
    } else {
      const c = Math.floor(m / per);
      doc = `{"user_id": "user${c % users}", "conversation_id": "c${c.toString(16).padStart(7, '0')}", "role": "${m % 2 ? 'assistant' : 'user'}", "content": ${ascii(`${TEXTS[m % TEXTS.length]} #${m}`)}, "timestamp": "${iso(t0 + m * 1000, m % 1000000)}", "message_id": "m${m.toString(16)}"}`;
    }
    prev = doc;
    await write(`${m ? ', ' : ''}"${m + 1}": ${doc}`);
  }
  await write('}, "sessions": {"1": {"user_id": "user0", "token": "tok-0", "created_at": "2025-01-01T00:00:00", "last_activity": "2025-01-01T01:00:00"}}}');
  out.end(buf);
  await once(out, 'finish');
}
