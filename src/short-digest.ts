import { hash } from 'node:crypto';

/**
 * 16 bytes of sha256, UUID-shaped (the database stores a digest in a uuid column, 16 bytes). A
 * change detector, not a secret. One-shot hash: a Hash object per record cost as much again as
 * the hashing.
 */
export function shortDigest(data: string | Buffer): string {
  const h = hash('sha256', data, 'hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
