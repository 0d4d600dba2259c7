/** The index a preflight returns and the documents the readers yield. */

export interface TinyDbTable {
  name: string;
  count: number;
  /** Byte offset of the table's `{`. */
  start: number;
  /** Byte offset just past the table's `}` (exclusive). */
  end: number;
  /** Doc ids ascending (numeric ids by number; non-numeric ids after numeric ones, in byte order). */
  ordered: boolean;
  /**
   * Ordered tables of more than TINYDB_SEEK_EVERY documents: `seek[k]` is the byte offset of the
   * id (its opening quote) of the document with ordinal `(k + 1) * TINYDB_SEEK_EVERY`, so a resume
   * starts near its ordinal instead of rescanning the table. One number per TINYDB_SEEK_EVERY docs.
   * Non-enumerable (like `order`), so logging or JSON.stringify of an index stays small.
   */
  seek?: number[];
  /**
   * Present exactly when `ordered` is false (non-enumerable): the documents' positions in stable
   * order. A copy of the table object without it cannot be read.
   */
  order?: TinyDbOrder;
}

/**
 * Sorted index of an unordered table, in stable order (position k = ordinal k). Memory: 21 bytes
 * per document in typed arrays, plus the table's non-numeric ids as strings; about twice that
 * while it is being sorted.
 */
export interface TinyDbOrder {
  /** Byte offset of each document's value (`{`). */
  offsets: Float64Array;
  /** Byte length of each document's value. */
  lengths: Uint32Array;
  /** Numeric id value (ids of up to 15 digits), or -1 when the id is in `textIds`. */
  numIds: Float64Array;
  /** Ordinal → id for every id that is not a numeric id of up to 15 digits. */
  textIds: Map<number, string>;
  /** Scanner flags of each document (whether it needs the NaN / big-integer path). */
  flags: Uint8Array;
}

export interface TinyDbIndex {
  path: string;
  size: number;
  sha256: string;
  tables: TinyDbTable[];
  /** NaN/Infinity values seen (read as null). */
  nonFinite: number;
  /** Integers beyond 2^53 seen (kept as decimal strings). */
  bigInts: number;
  /** The file starts with a UTF-8 byte order mark (skipped). */
  bom: boolean;
  /** mtime at preflight; a reader refuses a file whose size or mtime changed since. */
  mtimeMs: number;
  /**
   * The inode and its change time at preflight: a rewrite that keeps the size and restores the
   * mtime (`touch -d`), or a file replaced by another (a rename over it), still changes these.
   */
  ctimeMs: number;
  ino: number;
}

export interface TinyDbDoc {
  table: string;
  id: string;
  /** 0-based position in the table's stable order. */
  ordinal: number;
  /** Byte offset of the doc value. */
  offset: number;
  /** The document, parsed when first read. */
  readonly doc: Record<string, unknown>;
  /** 16 bytes of sha256 over the document's bytes, UUID-shaped (src/short-digest.ts), computed when first read. */
  readonly digest: string;
}

export interface ScanOptions {
  /** Read size in bytes; default 1 MiB. Tests use tiny values to exercise chunk boundaries. */
  chunkSize?: number;
  /** Called after each chunk of a whole-file pass with the bytes read so far and the file's size (progress). */
  onBytes?(read: number, size: number): void;
}

export interface ReadOptions extends ScanOptions {
  /** Documents per yielded array; default 1000. */
  maxDocs?: number;
}

/** Ordered tables get a seek point every this many documents. */
export const TINYDB_SEEK_EVERY = 16384;
