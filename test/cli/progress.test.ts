import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcrypt';
import { generateChatCore } from '../../bench/generate';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { runEtlOnTerminal, screen } from '../support/terminal';

const LOG_LINE = /^\[\d\d:\d\d:\d\d\] (INFO|WARN|ERROR)\s*: /;
const bar = (stream: string, rows: string) => new RegExp(`^${stream}\\s+\\[[█░]{20}\\]\\s+\\d+%\\s+${rows} rows\\s+[\\d,]+ rows/s\\s+`);

/** A logged record as the terminal shows it: one line, its fields one JSON object (if any). */
function expectWhole(line: string): void {
  expect(line).toMatch(LOG_LINE);
  const fields = line.indexOf(' {');
  if (fields >= 0) expect(() => JSON.parse(line.slice(fields + 1))).not.toThrow();
}

describe('progress on a terminal', () => {
  let dir: string;
  let db: FreshDatabase;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-progress-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('one line per stream with a bar, rows/s and an ETA; log records whole above them; JSON lines off a terminal', async () => {
    const file = path.join(dir, 'chat.json');
    await generateChatCore(file, { messages: 20_000 });
    const env = { DATABASE_URL: db.url, ETL_LOG_LEVEL: 'info' };
    const r = await runEtlOnTerminal(['run', 'tinydb', file, '--batch-size', '500'], env);
    expect(r.code).toBe(0);

    // While the messages load: a bar, rows/s and an ETA computed from the bytes loaded
    const drawn = r.output.replace(/\x1b\[[0-9;]*[A-Za-z]/g, '').split(/\r?\n|\r/);
    expect(drawn).toContainEqual(expect.stringMatching(new RegExp(bar('chat_history', '[\\d,]+/20,000').source + 'ETA \\d+(s|m\\d\\ds)$')));
    expect(drawn).toContainEqual(expect.stringMatching(/^check chat\.json\s+\[[█░]{20}\]\s+\d+%\s+\d+\/\d+ MiB\s+\d+ MiB\/s\s+/));

    // What stays on the screen: every log record on one whole line, in order, and the final bars
    const lines = screen(r.output);
    const logs = lines.filter((l) => /^\[\d\d:\d\d:\d\d\]/.test(l));
    expect(logs.map((l) => / (INFO|WARN)\s*: (.*?)(?: \{|$)/.exec(l)?.[2])).toEqual(
      expect.arrayContaining(['run started', 'stream finished', 'run finished']),
    );
    expect(logs.filter((l) => l.includes('stream finished'))).toHaveLength(4);
    for (const l of logs) expectWhole(l);
    // no record begins inside another line (a record torn by a redraw would)
    expect(lines.filter((l) => /.\[\d\d:\d\d:\d\d\] (INFO|WARN)/.test(l))).toEqual([]);
    expect(lines).toContainEqual(expect.stringMatching(/^check chat\.json\s+\[█{20}\] 100%\s+\d+\/\d+ MiB .* done in \d+s$/));
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(bar('chat_history', '20,000/20,000').source + 'done in \\d+(s|m\\d\\ds)$')));
    for (const stream of ['users', 'conversations', 'sessions']) expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${stream}\\s+\\[█{20}\\] 100%`)));
    // the log lines scroll above the progress lines, the report follows them
    const lastLog = lines.findLastIndex((l) => LOG_LINE.test(l));
    const firstBar = lines.findIndex((l) => /^users\s+\[/.test(l));
    expect(lastLog).toBeLessThan(firstBar);
    expect(lines.findIndex((l) => /^run \S+ \(tinydb, tenant default\): loaded in/.test(l))).toBeGreaterThan(firstBar);

    // Off a terminal nothing changes: JSON lines on stderr, no bar, no escape
    const piped = await runEtl(['run', 'tinydb', file, '--restart', '--batch-size', '500'], { env });
    expect(piped.code).toBe(0);
    const records = piped.stderr.trim().split('\n').map((l) => JSON.parse(l) as { msg: string });
    expect(records.map((x) => x.msg)).toEqual(expect.arrayContaining(['run started', 'stream finished', 'run finished']));
    expect(piped.stderr).not.toMatch(/\x1b|█/);
    for (const p of records.filter((x) => x.msg === 'progress')) expect(Object.keys(p).sort()).toEqual(['done', 'level', 'msg', 'rowsPerSecond', 'rssMiB', 'stream', 'time', 'total']);
  });

  test('plaintext passwords: a hashing line with its count, and bcrypt hashes that verify', async () => {
    const passwords = ['alpha-1', 'bravo-2', 'charlie-3', 'delta-4', 'echo-5', 'foxtrot-6'];
    const users = Object.fromEntries(passwords.map((p, i) => [String(i + 1), { username: `user${i}`, password: p, created_at: '2025-01-01T00:00:00', is_active: true }]));
    const file = path.join(dir, 'plain.json');
    fs.writeFileSync(file, JSON.stringify({ users, conversations: {}, chat_history: {}, sessions: {} }));
    const r = await runEtlOnTerminal(['run', 'tinydb', file, '--bcrypt-cost', '6'], { DATABASE_URL: db.url, ETL_LOG_LEVEL: 'warn' });
    expect(r.code).toBe(0);
    const lines = screen(r.output);
    expect(lines).toContainEqual(expect.stringMatching(/^passwords\s+\[█{20}\] 100%\s+6\/6 hashed\s+[\d.]+\/s\s+all hashed in \d+s$/));
    expect(lines).not.toContainEqual(expect.stringMatching(/alpha-1|foxtrot-6/));

    const rows = await db.knex('users').select('username', 'password_hash').orderBy('username');
    expect(rows).toHaveLength(6);
    for (const [i, p] of passwords.entries()) {
      const hash = rows.find((x) => x.username === `user${i}`)!.password_hash as string;
      expect(hash).toMatch(/^\$2b\$06\$/);
      expect(await bcrypt.compare(p, hash)).toBe(true);
    }
  });
});
