/**
 * Reading a JSON file that is parsed whole (lowdb databases, seed files, company documents): the
 * size is checked before a byte is read, the bytes must be UTF-8, the text valid JSON with no key
 * twice in one object (JSON.parse would silently keep the last one), and the sha256 is of the bytes
 * read. Every failure is one sentence naming the file; nothing has been written at that point.
 */
import { createHash } from 'node:crypto';
import { constants as fsConstants, promises as fs } from 'node:fs';
import { EtlError } from '../errors';
import { findStructureProblem } from './json-structure';
import { tooDeep } from './limits';
import { fsError, isDirectory, q } from './source-errors';
import { firstInvalidUtf8 } from './utf8-check';

/** Files read whole are bounded: above this, reading them would not be. */
export const MAX_JSON_BYTES = 256 * 1024 * 1024;

interface JsonFile {
  /** The parsed value; undefined for a 0-byte file (callers decide what an empty file means). */
  value: unknown;
  sha256: string;
  size: number;
}

/**
 * Reads `file` whole and parses it. `what` names the kind of file in messages ("lowdb file",
 * "seed file", "documents file").
 */
export async function readJsonFile(file: string, what: string): Promise<JsonFile> {
  const buf = await readBounded(file, what);
  const sha256 = createHash('sha256').update(buf).digest('hex');
  if (buf.length === 0) return { value: undefined, sha256, size: 0 };
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    throw new EtlError(
      'SOURCE_CORRUPT',
      `${file} is not valid UTF-8 at byte ${firstInvalidUtf8(buf, 0, buf.length)}; convert the ${what} to UTF-8 (e.g. iconv -f cp1252 -t utf-8) and run again, nothing was written.`,
    );
  }
  const value = parseJsonText(text, file, what);
  return { value, sha256, size: buf.length };
}

/** JSON.parse of a file's text, refusing a key twice in one object (JSON.parse keeps the last silently). */
export function parseJsonText(text: string, file: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new EtlError('SOURCE_CORRUPT', `${file} is not valid UTF-8 JSON (${parseProblem(text, e)}); fix the ${what} and run again, nothing was written.`);
  }
  const problem = findStructureProblem(text);
  if (problem?.kind === 'depth') {
    const at = lineColumn(text, problem.offset);
    throw tooDeep(file, `at line ${at.line}, column ${at.column}`);
  }
  if (problem?.kind === 'duplicate') {
    const at = lineColumn(text, problem.offset);
    const first = lineColumn(text, problem.firstOffset);
    throw new EtlError(
      'SOURCE_CORRUPT',
      `${file} has the key ${q(problem.key)} twice in one object, at line ${at.line}, column ${at.column} (first at line ${first.line}, column ${first.column}); JSON.parse would silently keep only the last value, so remove or rename one in the ${what} and run again, nothing was written.`,
    );
  }
  return value;
}

/**
 * Whether `file`'s first JSON token is `[` (after an optional BOM and whitespace), reading only its
 * first bytes: a TinyDB database or any other object-shaped file is told apart without reading it.
 */
export async function startsWithJsonArray(file: string): Promise<boolean> {
  const handle = await openForReading(file);
  try {
    const chunk = Buffer.alloc(4096);
    let pos = 0;
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, pos);
      if (bytesRead === 0) return false;
      let i = pos === 0 && chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf ? 3 : 0;
      for (; i < bytesRead; i++) {
        const c = chunk[i];
        if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c === 0x5b;
      }
      pos += bytesRead;
    }
  } catch (e) {
    throw fsError(file, e);
  } finally {
    await handle.close();
  }
}

/**
 * Opens without blocking: a FIFO named as a source would otherwise wait forever for a writer (the
 * stat checks refuse non-files, and this closes the gap if the path is swapped in between).
 */
async function openForReading(file: string): Promise<fs.FileHandle> {
  try {
    return await fs.open(file, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
  } catch (e) {
    throw fsError(file, e);
  }
}

/** The size of `file`, which must be a regular file within the cap (checked before reading a byte). */
export async function statBounded(file: string, what: string, max = MAX_JSON_BYTES): Promise<number> {
  try {
    const st = await fs.stat(file);
    if (st.isDirectory()) throw isDirectory(file);
    if (!st.isFile()) throw notAFile(file, what);
    if (st.size > max) throw tooBig(file, st.size, what, max);
    return st.size;
  } catch (e) {
    throw fsError(file, e);
  }
}

/**
 * stat first, refuse anything that is not a regular file or is over `max` bytes, then read exactly
 * the stated size (a file that grows or shrinks meanwhile is refused): `/dev/zero`, a FIFO or a
 * growing log can never make etl read without end.
 */
export async function readBounded(file: string, what: string, max = MAX_JSON_BYTES): Promise<Buffer> {
  await statBounded(file, what, max);
  const handle = await openForReading(file);
  try {
    const st = await handle.stat();
    if (!st.isFile()) throw notAFile(file, what);
    const size = st.size;
    if (size > max) throw tooBig(file, size, what, max);
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const { bytesRead } = await handle.read(buf, got, size - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    const extra = await handle.read(Buffer.alloc(1), 0, 1, got);
    if (got !== size || extra.bytesRead !== 0) {
      throw new EtlError('SOURCE_CHANGED', `${file} changed size while it was read; stop the app that writes the ${what} and run again, nothing was written.`);
    }
    return buf;
  } catch (e) {
    throw fsError(file, e);
  } finally {
    await handle.close();
  }
}

function notAFile(file: string, what: string): EtlError {
  return new EtlError('USAGE', `${file} is not a regular file (a directory, a device or a pipe); pass the path of the ${what}.`);
}

function tooBig(file: string, size: number, what: string, max: number): EtlError {
  return new EtlError('USAGE', `${file} is ${size} bytes, too big for a ${what}, which etl reads whole (max ${max} bytes); split it or remove it, nothing was written.`);
}

/** JSON.parse's message on one line, its `at position N` as a line and column. */
function parseProblem(text: string, e: unknown): string {
  const message = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, ' ');
  return message.replace(/ at position (\d+)/, (_, pos: string) => {
    const at = lineColumn(text, Number(pos));
    return ` at line ${at.line}, column ${at.column}`;
  });
}

/** 1-based line and column (in characters: a surrogate pair counts once) of a text offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  let column = 1;
  for (let i = start; i < offset; i++) {
    const c = text.charCodeAt(i);
    if (c < 0xdc00 || c > 0xdfff || i === start || (text.charCodeAt(i - 1) & 0xfc00) !== 0xd800) column++;
  }
  return { line, column };
}
