/**
 * stderr on a terminal, shared by log lines and progress lines: the progress lines stay at the
 * bottom and are redrawn in place; a log line is written above them (erase the progress lines,
 * write the log line, draw them again, in one write), so a redraw never cuts through a record.
 * Replaces cli-progress, whose log buffer was written over the bar rows without clearing them,
 * was dropped on stop, and left unchanged bars undrawn after a log line.
 */
export class StatusArea {
  private readonly lines = new Map<string, string>();
  /** Terminal rows the progress lines took when last drawn; the cursor is on the row below them. */
  private drawn = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly out: NodeJS.WriteStream) {}

  /** Writes `text` (whole lines, ending in a newline) above the progress lines. */
  print(text: string): void {
    this.out.write(this.erase() + text + this.frame());
  }

  /** Sets (or adds, in order of first use) the progress line named `key`; drawn within 100 ms. */
  set(key: string, line: string): void {
    this.lines.set(key, line);
    this.timer ??= setTimeout(() => this.redraw(), 100).unref();
  }

  /** Draws the progress lines as they are now and leaves them on the screen; later lines scroll below. */
  stop(): void {
    this.redraw();
    this.lines.clear();
    this.drawn = 0;
  }

  private redraw(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.lines.size || this.drawn) this.out.write(this.erase() + this.frame());
  }

  private erase(): string {
    return this.drawn ? `\r\x1b[${this.drawn}A\x1b[J` : '';
  }

  /** Each line cut to the terminal's width, so one line is one row and erase() knows how far up to go. */
  private frame(): string {
    const width = Math.max(20, (this.out.columns || 80) - 1);
    this.drawn = this.lines.size;
    return [...this.lines.values()].map((l) => (l.length > width ? l.slice(0, width - 1) + '…' : l) + '\n').join('');
  }
}

/** The process's stderr area, used only when stderr is a terminal. */
export const stderrArea = new StatusArea(process.stderr);

/** One log record, one line: a newline inside a message would let the record's tail pass for a line of its own. */
export function oneLine(text: string): string {
  return text.replace(/\r?\n(?!$)/g, ' ⏎ ');
}
