/** Per-stream figures, persisted with each batch's checkpoint so a resumed run reports like a clean one. */
export interface StreamCounts {
  read: number;
  loaded: number;
  merged: number;
  rejected: number;
  inferredUsers: number;
  inferredConversations: number;
  /** Default personas created for users whose conversations and messages name none. */
  inferredPersonas: number;
  importedHistory: number;
  /** Of the loaded records: rows new to the table, and existing rows rewritten (the rest were unchanged). */
  inserted: number;
  updated: number;
  repaired: number;
  droppedPlaintextPasswords: number;
  unrecognizedPasswordHashes: number;
  invalidOptionalTimestamps: number;
  /** API keys encrypted with Fernet, kept (already a token under the key), stored in plaintext (--allow-plaintext-keys). */
  encryptedSecrets: number;
  keptSecretTokens: number;
  plaintextSecrets: number;
  /** Delta pass: records new to the source, changed, unchanged (skipped), gone from it; rows deleted as replaced by an edit, or pruned. */
  deltaNew: number;
  deltaChanged: number;
  deltaUnchanged: number;
  disappeared: number;
  replaced: number;
  pruned: number;
  seconds: number;
}

export function emptyCounts(): StreamCounts {
  return {
    read: 0,
    loaded: 0,
    merged: 0,
    rejected: 0,
    inferredUsers: 0,
    inferredConversations: 0,
    inferredPersonas: 0,
    importedHistory: 0,
    inserted: 0,
    updated: 0,
    repaired: 0,
    droppedPlaintextPasswords: 0,
    unrecognizedPasswordHashes: 0,
    invalidOptionalTimestamps: 0,
    encryptedSecrets: 0,
    keptSecretTokens: 0,
    plaintextSecrets: 0,
    deltaNew: 0,
    deltaChanged: 0,
    deltaUnchanged: 0,
    disappeared: 0,
    replaced: 0,
    pruned: 0,
    seconds: 0,
  };
}

export function addCounts(a: StreamCounts, b: Partial<StreamCounts>): StreamCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof StreamCounts)[]) out[k] += b[k] ?? 0;
  return out;
}

export function subtractCounts(a: StreamCounts, b: StreamCounts): StreamCounts {
  const out = { ...a };
  for (const k of Object.keys(out) as (keyof StreamCounts)[]) out[k] -= b[k];
  return out;
}
