import path from 'node:path';
import type { SourceRecord, SourceStream } from '../../extractors/types';
import type { Logger } from '../log';
import { stderrArea, type StatusArea } from '../status-area';
import { hashCounts, type HashCounts, watchHashes } from './hash-stage';

export interface Progress {
  /** A stream starts, at `done` of its `total` records (more than 0 on a resume). */
  start(stream: string, total: number, done: number): void;
  /** Records of the stream committed so far. */
  update(stream: string, done: number): void;
  /** The stream, reporting the byte offsets of the records it reads (where it reads its file in order). */
  track(stream: SourceStream): SourceStream;
  /** The preflight pass over `file`: `read` of `size` bytes checked. */
  preflight(file: string, read: number, size: number): void;
  /** Leaves the lines drawn so far on the screen as they are; later lines start below them. */
  stop(): void;
}

/** Bars with rows/s and an ETA on a terminal; periodic log lines otherwise (bars would corrupt JSON logs). */
export function createProgress(log: Logger, tty: boolean, intervalMs = 2000): Progress {
  return tty ? new TerminalProgress(stderrArea) : logProgress(log, intervalMs);
}

function logProgress(log: Logger, intervalMs: number): Progress {
  const state = new Map<string, { total: number; done: number; t0: number; from: number; last: number }>();
  return {
    start(stream, total, done) {
      state.set(stream, { total, done, t0: Date.now(), from: done, last: Date.now() });
    },
    update(stream, done) {
      const s = state.get(stream);
      if (!s) return;
      s.done = done;
      const now = Date.now();
      if (now - s.last < intervalMs) return;
      s.last = now;
      const rate = Math.round((done - s.from) / ((now - s.t0) / 1000));
      log.info({ stream, done, total: s.total, rowsPerSecond: rate, rssMiB: Math.round(process.memoryUsage.rss() / 2 ** 20) }, 'progress');
    },
    track: (stream) => stream,
    preflight() {},
    stop() {},
  };
}

/** Where a measured quantity stands: the fraction done at the start and now, and when it started. */
interface Gauge {
  t0: number;
  from: number;
  at: number;
}

interface StreamLine {
  total: number;
  from: number;
  done: number;
  t0: number;
  /** Absent: progress counts records. */
  bytes?: ByteTrail;
}

/**
 * How far into its byte range a stream's committed records reach: the reader notes the offset of
 * each chunk's first record (and of the last record read); a committed count falls between two
 * such points. Committed, not read: the reader runs up to a few batches ahead of the writer.
 */
class ByteTrail {
  /** [ordinal, offset] of chunks read and not yet committed, ascending. */
  private readonly points: [number, number][] = [];
  private tail: [number, number] = [0, 0];
  /** Offset where this invocation began reading. */
  private first: number | undefined;

  constructor(
    private readonly start: number,
    private readonly end: number,
  ) {}

  read(records: SourceRecord[]): void {
    const a = records[0];
    const z = records[records.length - 1];
    if (a?.offset === undefined || z.offset === undefined) return;
    this.first ??= a.offset;
    this.points.push([a.ordinal, a.offset]);
    this.tail = [z.ordinal, z.offset];
  }

  /** The fraction of the range before record `done` (the first not committed); at the start, where reading began. */
  at(done: number): number {
    const pts = this.points;
    while (pts.length > 1 && pts[1][0] <= done) pts.shift();
    const p = pts[0];
    if (!p) return this.from();
    const q = pts[1] ?? this.tail;
    const offset = q[0] > p[0] ? p[1] + ((Math.min(done, q[0]) - p[0]) / (q[0] - p[0])) * (q[1] - p[1]) : p[1];
    return this.fraction(offset);
  }

  from(): number {
    return this.first === undefined ? 0 : this.fraction(this.first);
  }

  private fraction(offset: number): number {
    return (offset - this.start) / (this.end - this.start);
  }
}

const BAR = 20;

function bar(fraction: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * BAR);
  return `[${'█'.repeat(full)}${'░'.repeat(BAR - full)}] ${String(Math.floor(fraction * 100)).padStart(3)}%`;
}

function duration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * The time left at the average pace since the start: (1 - f) of the work at the speed of the
 * (f - from) done in the elapsed time. Unknown until something was done (a stream: its first batch).
 */
function eta(g: Gauge, now: number): string {
  const secs = (now - g.t0) / 1000;
  if (g.at >= 1) return `done in ${duration(secs)}`;
  if (g.at <= g.from) return 'ETA --';
  return `ETA ${duration(((1 - g.at) * secs) / (g.at - g.from))}`;
}

const num = (n: number): string => n.toLocaleString('en-US');
/** `read` of `size` bytes in the unit of `size`. */
function ofSize(read: number, size: number): string {
  const [unit, name] = size >= 2 ** 20 ? [2 ** 20, 'MiB'] : [2 ** 10, 'KiB'];
  return `${Math.round(read / unit)}/${Math.round(size / unit)} ${name}`;
}

/**
 * One line per stream, one for each preflight pass and one for the password hashes, at the bottom
 * of the terminal (log lines scroll above them). A stream's fraction and ETA come from the bytes
 * of its part of the source file its committed records span, where it reads the file in order
 * (TinyDB tables: documents differ in size, so bytes measure the work better than a count), and
 * from its committed records otherwise; rows/s counts committed records.
 */
class TerminalProgress implements Progress {
  private readonly streams = new Map<string, StreamLine>();
  private readonly ranges = new Map<string, { start: number; end: number }>();
  private readonly checks = new Map<string, Gauge>();
  private hashes: (Gauge & HashCounts) | null = null;
  private unwatch: (() => void) | null = null;

  constructor(private readonly area: StatusArea) {}

  /** Password hashes get a line from the first one the streams queue (the counts are the process's). */
  private watchHashes(): void {
    if (this.unwatch) return;
    const base = hashCounts();
    this.unwatch = watchHashes((c) => {
      this.hashes ??= { t0: Date.now(), from: 0, at: 0, queued: 0, hashed: 0 };
      this.hashes.queued = c.queued - base.queued;
      this.hashes.hashed = c.hashed - base.hashed;
      this.drawHashes();
    });
  }

  track(stream: SourceStream): SourceStream {
    const bytes = stream.bytes;
    if (!bytes || bytes.end <= bytes.start) return stream;
    this.ranges.set(stream.name, bytes);
    return { ...stream, read: (fromOrdinal) => this.readBytes(stream, fromOrdinal) };
  }

  private async *readBytes(stream: SourceStream, fromOrdinal: number): AsyncGenerator<SourceRecord[]> {
    for await (const records of stream.read(fromOrdinal)) {
      this.streams.get(stream.name)?.bytes?.read(records);
      yield records;
    }
  }

  start(stream: string, total: number, done: number): void {
    this.watchHashes();
    const range = this.ranges.get(stream);
    this.streams.set(stream, { total, from: done, done, t0: Date.now(), bytes: range ? new ByteTrail(range.start, range.end) : undefined });
    this.drawStream(stream);
  }

  update(stream: string, done: number): void {
    const s = this.streams.get(stream);
    if (!s) return;
    s.done = done;
    this.drawStream(stream);
  }

  preflight(file: string, read: number, size: number): void {
    const c = this.checks.get(file) ?? { t0: Date.now(), from: 0, at: 0 };
    this.checks.set(file, c);
    c.at = size > 0 ? read / size : 1;
    const secs = (Date.now() - c.t0) / 1000;
    const rate = secs > 0 ? `  ${Math.round(read / secs / 2 ** 20)} MiB/s` : '';
    this.area.set(`preflight ${file}`, `${('check ' + path.basename(file)).padEnd(14)} ${bar(c.at)}  ${ofSize(read, size)}${rate}  ${eta(c, Date.now())}`);
  }

  stop(): void {
    this.unwatch?.();
    this.unwatch = null;
    this.hashes = null;
    this.area.stop();
  }

  private drawStream(name: string): void {
    const s = this.streams.get(name)!;
    const now = Date.now();
    const secs = (now - s.t0) / 1000;
    const rate = secs > 0 ? Math.round((s.done - s.from) / secs) : 0;
    const b = s.bytes;
    // Records once the stream is done: its last record ends before the range does (the table's closing brace).
    const g: Gauge =
      b && s.done < s.total ? { t0: s.t0, from: b.from(), at: b.at(s.done) } : { t0: s.t0, from: s.total ? s.from / s.total : 0, at: s.total ? s.done / s.total : 1 };
    this.area.set(`stream ${name}`, `${name.padEnd(14)} ${bar(g.at)}  ${num(s.done)}/${num(s.total)} rows  ${num(rate)} rows/s  ${eta(g, now)}`);
  }

  private drawHashes(): void {
    const h = this.hashes!;
    h.from = 0;
    h.at = h.queued ? h.hashed / h.queued : 0;
    const now = Date.now();
    const secs = (now - h.t0) / 1000;
    const rate = secs > 0 ? (h.hashed / secs).toFixed(1) : '0';
    // The ETA covers the passwords queued so far: how many more a stream holds is known only once it is read.
    this.area.set('hashes', `${'passwords'.padEnd(14)} ${bar(h.at)}  ${num(h.hashed)}/${num(h.queued)} hashed  ${rate}/s  ${h.at >= 1 ? `all hashed in ${duration(secs)}` : eta(h, now)}`);
  }
}
