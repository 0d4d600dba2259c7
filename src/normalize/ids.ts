import { hash } from 'node:crypto';

/** Namespace of every id this tool derives. Never change it: every primary key would change. */
export const ETL_NAMESPACE = '1d796a3f-1a5a-4cc8-8038-4c7e35e0e3f5';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function namespaceBytes(namespace: string): Buffer {
  if (!UUID.test(namespace)) throw new TypeError(`Namespace ${JSON.stringify(namespace)} is not a UUID`);
  return Buffer.from(namespace.replace(/-/g, ''), 'hex');
}

/** Parsed once: ids are derived for every record, on the hot path. */
const ETL_NAMESPACE_BYTES = namespaceBytes(ETL_NAMESPACE);

/** Namespace bytes then the name's UTF-8, reused for names of up to 1,024 UTF-16 units: ids are derived for every record. */
const SCRATCH_NAME = 1024;
const scratch = Buffer.allocUnsafe(16 + SCRATCH_NAME * 3);

/** Name-based UUID, version 5 (RFC 9562 §5.5): SHA-1 of namespace bytes + UTF-8 name, as Python's uuid.uuid5. */
export function uuidv5(name: string, namespace: string = ETL_NAMESPACE): string {
  const ns = namespace === ETL_NAMESPACE ? ETL_NAMESPACE_BYTES : namespaceBytes(namespace);
  let data: Buffer;
  // At most 3 bytes of UTF-8 per UTF-16 unit. One-shot hash: a Hash object per id cost as much again.
  if (name.length <= SCRATCH_NAME) {
    ns.copy(scratch, 0);
    data = scratch.subarray(0, 16 + scratch.write(name, 16, 'utf8'));
  } else data = Buffer.concat([ns, Buffer.from(name, 'utf8')]);
  const h = hash('sha1', data, 'hex');
  // Version 5 in the high nibble of byte 6; the RFC variant (10xx) in the high bits of byte 8.
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

export function tenantId(tenantSlug: string): string {
  return uuidv5(`tenant:${tenantSlug}`);
}

/** Primary key of a tenant-owned row from its natural key, e.g. rowId('default', 'user', foldedName). */
export function rowId(tenantSlug: string, entity: string, naturalKey: string): string {
  return uuidv5(`${tenantSlug}/${entity}:${naturalKey}`);
}

/** Primary key of a row of a global catalog (LLM models, tools, agents…) from its natural key. */
export function globalRowId(entity: string, naturalKey: string): string {
  return uuidv5(`global/${entity}:${naturalKey}`);
}

/**
 * The slug of a tenant a source names (ITL `tenant_name`): NFKD without combining marks, folded,
 * runs of anything but letters, digits, `_` and `-` become one `-`. `eTMS` → `etms`,
 * `Test_eTMS` → `test_etms`, `Demo Company` → `demo-company`. Null when nothing is left.
 */
export function tenantSlug(name: string): string | null {
  const slug = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '');
  return slug === '' ? null : slug;
}
