/**
 * Structure checks on JSON text that JSON.parse accepted, which JSON.parse itself does not make:
 * a key twice in one object (it silently keeps the last value) and nesting beyond MAX_DEPTH (which
 * every later recursive walk would have to survive). One pass, iterative, tracking only strings and
 * nesting.
 */
import { MAX_DEPTH } from './limits';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export type StructureProblem = { kind: 'duplicate'; key: string; offset: number; firstOffset: number } | { kind: 'depth'; offset: number };

/**
 * The first key that appears twice in one object, at any depth (keys compared decoded, so `"a"` and
 * `"\u0061"` are the same key), with the text offsets of both; or the first container opened deeper
 * than MAX_DEPTH. Only for text JSON.parse accepted: it tracks strings and nesting, and skips
 * everything else.
 */
export function findStructureProblem(text: string): StructureProblem | undefined {
  // One entry per open container: the keys seen so far (an object) or null (an array).
  const stack: (Map<string, number> | null)[] = [];
  let top: Map<string, number> | null = null;
  let expectKey = false;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i;
      // The closing quote: the next one preceded by an even number of backslashes.
      for (;;) {
        i = text.indexOf('"', i + 1);
        let b = i - 1;
        while (text.charCodeAt(b) === BACKSLASH) b--;
        if ((i - 1 - b) % 2 === 0) break;
      }
      if (expectKey && top) {
        const raw = text.slice(start + 1, i);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(start, i + 1)) as string) : raw;
        const first = top.get(key);
        if (first !== undefined) return { kind: 'duplicate', key, offset: start, firstOffset: first };
        top.set(key, start);
        expectKey = false;
      }
    } else if (c === 0x7b /* { */) {
      if (stack.length >= MAX_DEPTH) return { kind: 'depth', offset: i };
      stack.push(top);
      top = new Map();
      expectKey = true;
    } else if (c === 0x5b /* [ */) {
      if (stack.length >= MAX_DEPTH) return { kind: 'depth', offset: i };
      stack.push(top);
      top = null;
      expectKey = false;
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      top = stack.pop() ?? null;
      expectKey = false;
    } else if (c === 0x2c /* , */) {
      expectKey = top !== null;
    }
  }
  return undefined;
}
