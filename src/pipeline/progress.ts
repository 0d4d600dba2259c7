import { MultiBar, Presets, type SingleBar } from 'cli-progress';
import type { Logger } from '../log';

export interface Progress {
  start(stream: string, total: number, done: number): void;
  update(stream: string, done: number): void;
  stop(): void;
}

/** Bars with rows/s on a terminal; periodic log lines otherwise (bars would corrupt JSON logs). */
export function createProgress(log: Logger, tty: boolean, intervalMs = 2000): Progress {
  if (tty) {
    const bars = new MultiBar(
      { format: '{stream} |{bar}| {value}/{total} rows {rate} rows/s', hideCursor: true, clearOnComplete: false, stream: process.stderr },
      Presets.shades_classic,
    );
    const active = new Map<string, { bar: SingleBar; t0: number; from: number }>();
    return {
      start(stream, total, done) {
        active.set(stream, { bar: bars.create(total, done, { stream: stream.padEnd(14), rate: 0 }), t0: Date.now(), from: done });
      },
      update(stream, done) {
        const a = active.get(stream);
        if (!a) return;
        const secs = (Date.now() - a.t0) / 1000;
        a.bar.update(done, { rate: secs > 0 ? Math.round((done - a.from) / secs) : 0 });
      },
      stop: () => bars.stop(),
    };
  }
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
    stop() {},
  };
}
