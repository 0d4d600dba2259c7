import { oneLine, StatusArea } from '../../src/status-area';
import { screen } from '../support/terminal';

/** A terminal 60 columns wide that keeps what it was sent. */
function fakeTerminal(): { out: NodeJS.WriteStream; sent: () => string } {
  let sent = '';
  const out = { columns: 60, write: (s: string) => ((sent += s), true) } as unknown as NodeJS.WriteStream;
  return { out, sent: () => sent };
}

describe('the status area (log lines above progress lines)', () => {
  test('records printed while progress lines are drawn stay whole, in order, above the final progress lines', () => {
    const t = fakeTerminal();
    const area = new StatusArea(t.out);
    area.set('a', 'stream a [..........] 0%');
    area.set('b', 'stream b [..........] 0%');
    area.print('[10:00:00] INFO: first record {"n":1}\n');
    area.set('a', 'stream a [#####.....] 50%');
    area.print(oneLine('[10:00:01] WARN: a message\nover two lines {"n":2}\n'));
    area.set('a', 'stream a [##########] 100% ' + 'x'.repeat(100));
    area.stop();
    expect(screen(t.sent())).toEqual([
      '[10:00:00] INFO: first record {"n":1}',
      '[10:00:01] WARN: a message ⏎ over two lines {"n":2}',
      // cut to the terminal's width, so that one progress line is one row
      `stream a [##########] 100% ${'x'.repeat(31)}…`,
      'stream b [..........] 0%',
    ]);
    expect(t.sent()).toContain('stream a [#####.....] 50%');
  });
});
