/**
 * Streaming, validating reader for TinyDB JSON databases (`{table: {doc_id: document}}`).
 *
 * One byte-level scanner (scanner.ts) serves both passes:
 * - `preflightTinyDb` (preflight.ts) reads the whole file once (fs stream, 1 MiB chunks): sha256,
 *   size, UTF-8 validity, the exact TinyDB shape, and `JSON.parse` of every document slice. It
 *   records each table's byte range, count and whether its ids are already in stable order.
 * - `readTinyDbTable` (read-table.ts) streams one table's byte range again and parses each
 *   document slice.
 *
 * The scanner tracks only: in-string / escape state, bracket depth inside a document, and the
 * small structural state of depths 0-2 (top object, table objects, document keys). String bodies
 * are skipped with `Buffer#indexOf('"')` plus a count of the backslashes before the quote; the rest
 * is a numeric byte loop. Each document's bytes go to native `JSON.parse`; a document (or key) that
 * straddles chunks is the only thing carried over (its partial tail, as buffer slices), so memory
 * does not grow with the file, only with the largest single document. Documents that contain
 * `NaN`/`Infinity` or a run of 16+ integer digits outside strings take a slower path
 * (json-text.ts `patchPythonJson`); everything else goes straight to `JSON.parse`.
 *
 * Stable order: numeric ids (canonical decimal: no sign, no leading zero) by numeric value, then
 * every other id in UTF-8 byte order. TinyDB writes ids in that order already, so the common case
 * needs O(1) memory per table (plus a seek point every TINYDB_SEEK_EVERY documents, for resumes).
 * Ascending order also proves ids unique there; a table that is not in order gets a sorted index
 * from a second scan of just that table (sorted-index.ts, `TinyDbOrder`: about 21 bytes per
 * document plus its non-numeric ids, twice that while sorting), and duplicates are found as equal
 * neighbours.
 *
 * Measured on a 467 MiB / 1.05 M-document file (2 cores, Node 20): preflight ~2.6-3.3 s, a full
 * read ~2.1-2.9 s, 125-160 MiB peak RSS for the whole process.
 */
export { compareTinyDbIds } from './id-order';
export { preflightTinyDb } from './preflight';
export { readAllTinyDb, readTinyDbTable } from './read-table';
export {
  TINYDB_SEEK_EVERY,
  type ReadOptions,
  type ScanOptions,
  type TinyDbDoc,
  type TinyDbIndex,
  type TinyDbOrder,
  type TinyDbTable,
} from './types';
