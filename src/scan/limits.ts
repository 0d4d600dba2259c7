/**
 * Input limits every reader enforces before anything is written, so that normalization, redaction
 * and the writer (recursive walks over a record) never meet input that could overflow the stack.
 */
import { EtlError } from '../errors';

/**
 * Deepest nesting of arrays and objects inside one record (a TinyDB document, a lowdb or documents
 * item, a YAML file). Real legacy records nest fewer than 10 levels; 256 leaves room and keeps
 * every recursive walk far from Node's stack limit (about 10,000 frames).
 */
export const MAX_DEPTH = 256;

export function tooDeep(file: string, where: string): EtlError {
  return new EtlError(
    'SOURCE_CORRUPT',
    `${file} nests arrays or objects more than ${MAX_DEPTH} levels deep ${where}; etl refuses records that deep (no legacy app writes them), fix or remove that record, nothing was written.`,
  );
}

/** Whether a parsed value nests deeper than MAX_DEPTH (iterative: the value itself may be arbitrarily deep). */
export function exceedsMaxDepth(value: unknown): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  const seen = new Set<object>();
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    // YAML aliases share one node: a DAG is walked once per node, not once per path.
    seen.add(v);
    if (depth > MAX_DEPTH) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
}
