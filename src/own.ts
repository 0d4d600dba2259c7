/**
 * `record[key]` only when `key` is the record's own property. Names read from sources (a table
 * called `constructor`, a collection called `__proto__`) are data: a plain lookup would return
 * Object.prototype's members for them and treat them as known.
 */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
