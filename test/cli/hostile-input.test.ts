import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { type CliResult, runEtl } from '../support/cli';
import { freshDatabase } from '../support/db';

/**
 * Hostile input through the real CLI (a few cases; the classes are covered in-process by
 * test/extractors/hostile-input.test.ts and fuzz.test.ts): exit 2, one line, no stack, nothing in
 * the database; secrets never leave it in clear.
 */
async function tablesIn(knex: Knex): Promise<string[]> {
  const res = await knex.raw("select table_name from information_schema.tables where table_schema = 'public' order by 1");
  return res.rows.map((r: { table_name: string }) => r.table_name);
}

const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64url({ alg: 'HS256', typ: 'JWT' })}.${b64url({ sub: 'bob' })}.U0lHTkFUVVJFLWhvc3RpbGU`;
const PEM = '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----';
/** Values under names no fixed list had, and values that only their shape gives away. */
const SECRETS = [JWT, 'sk-proj-HOSTILEabcdefghijklmnop', 'pw-hostile-9876', 'refresh-hostile-5432', 'AIzaSyHOSTILE0123456789abcdefghijklmno', PEM, 'openai-hostile-1111'];

describe('hostile input (CLI): exit 2, one line, nothing written', () => {
  let db: { url: string; knex: Knex; drop(): Promise<void> };
  let dir: string;
  beforeEach(async () => {
    db = await freshDatabase();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-hostile-cli-'));
  });
  afterEach(async () => {
    await db.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const etl = (...args: string[]) => runEtl(args[0] === 'run' ? [...args, '--bcrypt-cost', '4'] : args, { env: { DATABASE_URL: db.url } });
  const file = (name: string, content: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };
  const expectRefused = async (r: CliResult, message: RegExp) => {
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 2, stderr: expect.stringMatching(message) });
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).not.toMatch(/\n\s+at |\[object Object\]/);
    expect(await tablesIn(db.knex)).toEqual([]);
  };

  test('a YAML alias bomb under a persona prompt', async () => {
    let yaml = 'personas:\n  - name: a\n    prompt: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n';
    for (let i = 1; i <= 10; i++) yaml += `  - name: p${i}\n    prompt: &a${i} [${Array(9).fill(`*a${i - 1}`).join(',')}]\n`;
    await expectRefused(await etl('run', 'yaml-personas', file('persona.yaml', yaml)), /^etl: .*persona\.yaml expands aliases \(\*name\) more than 100 times/);
  });

  test('a FIFO as the persona file ends at once', async () => {
    const fifo = path.join(dir, 'persona.yaml');
    execFileSync('mkfifo', [fifo]);
    await expectRefused(await etl('run', 'yaml-personas', fifo), /persona\.yaml is not a regular file/);
  });

  test('a TinyDB document nested 100,000 arrays deep, after a good table', async () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const db1 = file('deep.json', `{"users": {"1": {"username": "ann"}}, "chat_history": {"1": {"user_id": "ann", "role": "user", "content": ${deep}}}}`);
    await expectRefused(await etl('run', 'tinydb', db1), /deep\.json nests arrays or objects more than 256 levels deep in table "chat_history", document "1"/);
  });

  test('a TinyDB table named __proto__: unknown until --map __proto__=ignore, which then loads the rest', async () => {
    const src = file('proto.json', '{"users": {"1": {"username": "ann"}}, "__proto__": {"1": {"x": 1}}}');
    await expectRefused(await etl('run', 'tinydb', src), /table "__proto__" \(1 records\) that etl does not know; map it with --map __proto__=/);
    const r = await etl('run', 'tinydb', src, '--map', '__proto__=ignore');
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining('table \\"__proto__\\" (1 records) ignored') });
    expect(await db.knex('users').pluck('username')).toEqual(['ann']);
    expect((await etl('verify')).code).toBe(0);
  });

  test('a keyword-style DATABASE_URL is never echoed with its password', async () => {
    const src = file('ok.json', '{"users": {}}');
    const r = await runEtl(['run', 'tinydb', src], { env: { DATABASE_URL: 'host=127.0.0.1 port=1 user=etl password=kw-hunter2 dbname=x' } });
    expect(r.code).toBe(2);
    expect(r.stderr).not.toContain('kw-hunter2');
    expect(r.stderr).toContain('password=[REDACTED]');
  });

  test('secrets under any name or of a known shape never reach etl_rejects, session metadata, etl rejects or the logs; verify finds them by value', async () => {
    const src = file(
      'secrets.json',
      JSON.stringify({
        users: {
          '1': { username: 'bob', password_hash: '$2b$04$abcdefghijklmnopqrstuuJ0Cf3cWsd1p7D8bK1x2yZ3a4b5c6d7e' },
          // no username: rejected, its record kept in etl_rejects
          '2': { username: ' ', jwt: SECRETS[0], openai_key: SECRETS[6], pw: SECRETS[2], pin_pw: 'p4z', refresh: SECRETS[3], notes: `pasted ${SECRETS[1]} by mistake` },
        },
        sessions: { '1': { user_id: 'bob', token: 'session-token-0001', created_at: '2025-01-01T00:00:00', auth: SECRETS[4], private_key: SECRETS[5], refresh: SECRETS[3], device: 'phone' } },
      }),
    );
    const run = await etl('run', 'tinydb', src);
    expect(run.code).toBe(0);
    const rejects = await etl('rejects');
    expect(rejects.code).toBe(0);
    expect(rejects.stdout).toContain('missing_username');
    const stored = JSON.stringify([await db.knex('etl_rejects').select('record'), await db.knex('auth_sessions').select('metadata')]);
    for (const s of SECRETS) {
      for (const out of [rejects.stdout, rejects.stderr, run.stdout, run.stderr, stored]) expect(out).not.toContain(s);
    }
    expect((await db.knex('auth_sessions').first('metadata')).metadata).toEqual({ auth: '[REDACTED]', private_key: '[REDACTED]', refresh: '[REDACTED]', device: 'phone' });

    const verify = async () => JSON.parse((await etl('verify', '--json')).stdout).checks.find((c: { name: string }) => c.name === 'no plaintext secret from the sources');
    expect((await verify()).ok).toBe(true);
    // A key the source held only inside free text (`notes`), stored in clear: verify finds it by its shape.
    await db.knex('auth_sessions').update({ metadata: { device: `phone ${SECRETS[1]}` } });
    expect(await verify()).toMatchObject({ ok: false, detail: expect.stringContaining('auth_sessions.metadata: 1 row(s)') });
    // A short one (`pin_pw: p4z`) is looked for as the whole value of a secret-like field, at any depth.
    await db.knex('auth_sessions').update({ metadata: { device: 'phone', nested: [{ Backup_PW: 'p4z' }] } });
    expect(await verify()).toMatchObject({ ok: false, detail: expect.stringContaining('auth_sessions.metadata: 1 row(s)') });
    await db.knex('auth_sessions').update({ metadata: { device: 'p4z', author: 'p4z' } });
    expect((await verify()).ok).toBe(true);

    // An entry an older etl wrote with a secret it did not know is redacted on export too.
    await db.knex('etl_rejects').update({ record: { username: ' ', openai_key: SECRETS[6] }, message: `bad ${SECRETS[1]}` });
    const exported = (await etl('rejects')).stdout;
    expect(exported).toContain('"openai_key":"[REDACTED]"');
    for (const s of SECRETS) expect(exported).not.toContain(s);
  });
});
