// PostgreSQL text/jsonb reject U+0000 and cannot encode a lone UTF-16 surrogate.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE, 'g');

/** Replaces each U+0000 and lone surrogate with U+FFFD and counts them, so the change is reported, not silent. */
export function repairText(s: string): { value: string; repaired: number } {
  // Almost every string is clean: one non-global test, then hand the same string back.
  if (!UNSTORABLE.test(s)) return { value: s, repaired: 0 };
  let repaired = 0;
  const value = s.replace(UNSTORABLE_ALL, () => {
    repaired++;
    return '\uFFFD';
  });
  return { value, repaired };
}

/**
 * repairText through a JSON-like value: strings, array items, object keys and values. Unchanged
 * arrays and objects are returned as the same instances; other values (numbers, Dates…) as they are.
 * If a repaired key equals a key the object already has, the later one wins, as in JSON.parse.
 */
export function repairDeep<T>(value: T): { value: T; repaired: number } {
  const count = { repaired: 0 };
  return { value: walk(value, count) as T, repaired: count.repaired };
}

function walk(value: unknown, count: { repaired: number }): unknown {
  if (typeof value === 'string') {
    const r = repairText(value);
    count.repaired += r.repaired;
    return r.value;
  }
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    value.forEach((item, i) => {
      const before = count.repaired;
      const repaired = walk(item, count);
      if (count.repaired !== before) (copy ??= value.slice())[i] = repaired;
    });
    return copy ?? value;
  }
  if (isPlainObject(value)) {
    const keys = Object.keys(value);
    let entries: [string, unknown][] | undefined;
    keys.forEach((key, i) => {
      const before = count.repaired;
      const k = repairText(key);
      count.repaired += k.repaired;
      const v = walk(value[key], count);
      if (!entries && count.repaired !== before) entries = keys.slice(0, i).map((p) => [p, value[p]]);
      entries?.push([k.value, v]);
    });
    // fromEntries defines own properties, so a "__proto__" key stays data and never sets the prototype.
    return entries ? Object.fromEntries(entries) : value;
  }
  return value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
