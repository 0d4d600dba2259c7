import { createHash } from 'node:crypto';
import stringify from 'fast-json-stable-stringify';
import type { SourceRecord } from '../../../extractors/types';
import { MESSAGE_KEY_RECIPE } from '../../normalize/message-key';
import type { Fernet } from '../../secrets/fernet';
import { shortDigest } from '../../short-digest';
import { version } from '../../../package.json';

/** Bump when what a digest covers changes: every record then counts as changed once. */
const DIGEST_RECIPE = 2;

/** What besides the record itself decides its row; passed through from the run's options. */
export interface DigestSettings {
  pipeline: string;
  tenant: string;
  target: string;
  sourceTimeZone: string;
  orphans: string;
  tableMap?: unknown;
  tenantMap?: unknown;
  fernet: Fernet | null;
}

/**
 * The options key of a pass: etl's version, the normalization recipes and every option that
 * changes a row. A stored digest counts only under the same key, so an upgrade or another option
 * (a new encryption key included, by a keyed fingerprint of it) makes the next pass a full one.
 */
export function optionsKey(s: DigestSettings): string {
  const key = s.fernet ? s.fernet.fingerprint('etl delta: which key') : 'no key';
  const canonical = stringify({ v: DIGEST_RECIPE, etl: version, messageKey: MESSAGE_KEY_RECIPE, pipeline: s.pipeline, tenant: s.tenant, target: s.target, tz: s.sourceTimeZone, orphans: s.orphans, tableMap: s.tableMap ?? {}, tenantMap: s.tenantMap ?? {}, key });
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * The record's digest: the extractor's, over the record's bytes in the source, where it has one
 * (TinyDB: an unchanged document is then never parsed); else over its entity (what normalization
 * reads, with any file-wide settings the extractor applied). Equal digests under the same options
 * key (kept with the set) mean an unchanged record.
 */
export function recordDigest(rec: SourceRecord): string {
  return rec.digest ?? shortDigest(JSON.stringify(rec.entity) ?? 'null');
}
