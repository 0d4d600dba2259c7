import { runCommand } from '../support/cli';

/** Logs `script` with the built logger (dist/, as the CLI does) and returns its stderr lines. */
async function logLines(script: string): Promise<Record<string, unknown>[]> {
  const code = `const { createLogger } = require('./dist/src/log.js'); const log = createLogger({ pretty: false }); ${script}`;
  const r = await runCommand(process.execPath, ['-e', code], { env: { ETL_LOG_LEVEL: 'info' } });
  expect(r.code).toBe(0);
  return r.stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('log lines', () => {
  test('an error is logged with its type, code and message, never as [object Object]', async () => {
    const [line] = await logLines(`log.error({ err: Object.assign(new TypeError('boom at postgres://etl:hunter2@db/chat'), { code: 'E_X' }) }, 'failed');`);
    expect(line.err).toEqual({ type: 'TypeError', code: 'E_X', message: 'boom at postgres://etl:[REDACTED]@db/chat' });
    expect(JSON.stringify(line)).not.toContain('[object Object]');
  });

  test('secrets are masked by name and by value, in fields and in the message text', async () => {
    const jwt = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.eyJzdWIiOiJ4In0.c2ln`;
    const [line] = await logLines(
      `log.warn({ openai_key: 'plain-key-value', detail: 'sent ${jwt}', apiKeys: 3 }, 'host=db password=hunter2 and sk-abcdefghijklmnopqrstuvwx');`,
    );
    const text = JSON.stringify(line);
    for (const secret of ['plain-key-value', jwt, 'hunter2', 'sk-abcdefghijklmnopqrstuvwx']) expect(text).not.toContain(secret);
    expect(line.apiKeys).toBe(3);
    expect(line.msg).toBe('host=db password=[REDACTED] and [REDACTED]');
  });

  test('readable lines (a terminal): one line a record, an error and a newline in the message included, secrets masked', async () => {
    const code = `const { createLogger } = require('./dist/src/log.js'); const log = createLogger({ pretty: true });
      log.error({ err: Object.assign(new Error('first\\nsecond at postgres://etl:hunter2@db/chat'), { code: 'E_X' }) }, 'it failed:\\nsee above');
      log.info({ stream: 'users', n: 3 }, 'stream finished');`;
    const r = await runCommand(process.execPath, ['-e', code], { env: { ETL_LOG_LEVEL: 'info' } });
    expect(r.code).toBe(0);
    const lines = r.stderr.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n');
    expect(lines).toEqual([
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] ERROR: it failed: ⏎ see above \{"err":\{"type":"Error","code":"E_X","message":"first\\nsecond at postgres:\/\/etl:\[REDACTED\]@db\/chat"\}\}$/),
      expect.stringMatching(/^\[\d\d:\d\d:\d\d\] INFO: stream finished \{"stream":"users","n":3\}$/),
    ]);
  });
});
