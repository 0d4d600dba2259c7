import { ETL_BIN, runCommand, type CliResult } from './cli';

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the built CLI on a pseudo-terminal (util-linux `script`), as a user at a terminal would:
 * stdout and stderr both go to the terminal, so `output` is what the screen was sent.
 */
export async function runEtlOnTerminal(args: string[], env: Record<string, string>, columns = 200): Promise<{ code: number | null; output: string }> {
  const command = `stty cols ${columns} rows 50; exec ${[process.execPath, ETL_BIN, ...args].map(quote).join(' ')}`;
  const r: CliResult = await runCommand('script', ['-qfec', command, '/dev/null'], { env });
  return { code: r.code, output: r.stdout };
}

/**
 * The lines a terminal shows (scrollback included) after receiving `output`: text, CR, LF (as CR LF),
 * cursor up (ESC [ n A) and erase to the end of the screen (ESC [ J); colours are dropped.
 * Enough for what etl sends; an unknown escape fails the test rather than being guessed at.
 */
export function screen(output: string): string[] {
  const lines: string[] = [''];
  let row = 0;
  let col = 0;
  const put = (text: string): void => {
    const line = lines[row];
    lines[row] = line.slice(0, col).padEnd(col) + text + line.slice(col + text.length);
    col += text.length;
  };
  const tokens = output.replace(/\x1b\[[0-9;]*m/g, '').split(/(\x1b\[\d*[A-Za-z]|\r|\n)/);
  for (const t of tokens) {
    if (t === '') continue;
    if (t === '\r') col = 0;
    else if (t === '\n') {
      // a terminal's line discipline turns LF into CR LF (onlcr)
      col = 0;
      row++;
      if (row === lines.length) lines.push('');
    } else if (t.startsWith('\x1b[')) {
      const n = Number(t.slice(2, -1) || 1);
      if (t.endsWith('A')) row = Math.max(0, row - n);
      else if (t.endsWith('J')) {
        lines[row] = lines[row].slice(0, col);
        lines.length = row + 1;
      } else throw new Error(`unexpected escape ${JSON.stringify(t)}`);
    } else put(t);
  }
  return lines.filter((l) => l !== '');
}
