import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { openTarget } from '../../src/db/connect';
import { EtlError } from '../../src/errors';
import { silentLogger } from '../../src/log';
import { adminUrl, freshDatabase } from '../support/db';

async function openError(databaseUrl: string): Promise<EtlError> {
  try {
    const t = await openTarget({ databaseUrl, cwd: process.cwd(), log: silentLogger });
    await t.close();
  } catch (e) {
    expect(e).toBeInstanceOf(EtlError);
    return e as EtlError;
  }
  throw new Error(`openTarget(${databaseUrl}) did not fail`);
}

describe('openTarget with a database URL', () => {
  test.each(['not a url', 'mysql://u:secret@h/db', 'postgres://u:secret@/db', 'u:secret@host:5432/db', ''])(
    'rejects %p as BAD_DATABASE_URL without printing the password',
    async (url) => {
      const err = await openError(url);
      expect(err.code).toBe('BAD_DATABASE_URL');
      expect(err.exitCode).toBe(2);
      expect(err.message).toMatch(/^DATABASE_URL is not a PostgreSQL URL \(".*"\); expected postgres:\/\/user:password@host:5432\/dbname\.$/);
      expect(err.message).not.toContain('secret');
    },
  );

  test('names the URL in BAD_DATABASE_URL', async () => {
    const err = await openError('mysql://u:secret@h/db');
    expect(err.message).toContain('mysql://u:[REDACTED]@h/db');
    expect((await openError('not a url')).message).toContain('"not a url"');
  });

  test('reports an unreachable server as DATABASE_UNREACHABLE without the password', async () => {
    const err = await openError('postgres://u:hunter2@127.0.0.1:1/db');
    expect(err.code).toBe('DATABASE_UNREACHABLE');
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('127.0.0.1:1/db');
    expect(err.message).toMatch(/^Could not connect to PostgreSQL at 127\.0\.0\.1:1\/db \(.+\); check --database \/ DATABASE_URL and that the server is running\.$/);
    expect(err.message).not.toContain('hunter2');
  });

  test('reports a wrong password as DATABASE_UNREACHABLE without the password', async () => {
    const u = new URL(adminUrl());
    u.username = 'etl_no_such_role';
    u.password = 'wrong-pw-123';
    const err = await openError(u.href);
    expect(err.code).toBe('DATABASE_UNREACHABLE');
    expect(err.message).toContain(`${u.hostname}:${u.port}`);
    expect(err.message).not.toContain('wrong-pw-123');
  });

  test('connects with the admin URL; timestamps come back as strings', async () => {
    const target = await openTarget({ databaseUrl: adminUrl(), cwd: process.cwd(), log: silentLogger });
    try {
      expect(target.embedded).toBe(false);
      const pw = new URL(adminUrl()).password;
      if (pw) expect(target.url).not.toContain(pw);
      const one = await target.knex.raw('select 1 as one');
      expect(one.rows[0].one).toBe(1);
      const r = await target.knex.raw(
        `select timestamptz '2024-03-01 12:34:56.789+00' as tz, timestamp '2024-03-01 12:34:56' as ts,
                date '2024-03-01' as d, 42::int8 as big, 9007199254740993::int8 as huge, 1.10::numeric as num,
                '{"a":1}'::jsonb as j, array[timestamptz '2024-03-01 00:00:00+00'] as tza`,
      );
      const row = r.rows[0];
      expect(typeof row.tz).toBe('string');
      expect(row.tz).toBe('2024-03-01 12:34:56.789+00'); // sessions run in UTC
      expect(row.ts).toBe('2024-03-01 12:34:56');
      expect(row.d).toBe('2024-03-01');
      expect(row.big).toBe(42);
      expect(row.huge).toBe('9007199254740993');
      expect(row.num).toBe('1.10');
      expect(row.j).toEqual({ a: 1 });
      expect(row.tza).toHaveLength(1);
      expect(row.tza).toEqual(['2024-03-01 00:00:00+00']);
    } finally {
      await target.close();
      await target.close(); // idempotent
    }
  });

  test('type parsing is per pool: pg global parsers are untouched', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const pg = require('pg') as typeof import('pg');
    expect(pg.types.getTypeParser(1184, 'text')('2024-03-01 00:00:00+00')).toBeInstanceOf(Date);
  });
});

describe('freshDatabase', () => {
  test('creates a separate database and drops it', async () => {
    const a = await freshDatabase();
    const b = await freshDatabase();
    try {
      const names = [
        (await a.knex.raw('select current_database() as d')).rows[0].d,
        (await b.knex.raw('select current_database() as d')).rows[0].d,
      ];
      expect(names[0]).toMatch(/^etl_t_[0-9a-f]+$/);
      expect(names[1]).not.toBe(names[0]);
      await a.knex.schema.createTable('t', (t) => t.increments('id'));
      expect(await b.knex.schema.hasTable('t')).toBe(false);
    } finally {
      await a.drop();
      await b.drop();
    }
    const target = await openTarget({ databaseUrl: adminUrl(), cwd: process.cwd(), log: silentLogger });
    try {
      const left = await target.knex.raw('select count(*) as n from pg_database where datname = ?', [new URL(a.url).pathname.slice(1)]);
      expect(left.rows[0].n).toBe(0);
    } finally {
      await target.close();
    }
  });
});

describe('openTarget without a database URL', () => {
  test('uses an embedded PostgreSQL under <cwd>/.etl/pg, says so once, and stops it on close', async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-connect-test-'));
    fs.chmodSync(cwd, 0o755);
    const lines: { level: number; msg: string }[] = [];
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    try {
      const target = await openTarget({ cwd, log });
      let pid: number;
      try {
        expect(target.embedded).toBe(true);
        expect(target.url).toMatch(/^postgres:\/\/etl:\[REDACTED\]@127\.0\.0\.1:\d+\/etl$/);
        const r = await target.knex.raw('select current_database() as db, now() as t');
        expect(r.rows[0].db).toBe('etl');
        expect(typeof r.rows[0].t).toBe('string');
        expect(lines).toEqual([
          expect.objectContaining({ level: 30, msg: expect.stringMatching(/No --database or DATABASE_URL.*embedded PostgreSQL.*\.etl\/pg/) }),
        ]);
        pid = Number(fs.readFileSync(path.join(cwd, '.etl', 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      } finally {
        await target.close();
      }
      // gone, or a zombie not yet reaped by this process
      const state = () => {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
          return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
        } catch {
          return 'gone';
        }
      };
      expect(['gone', 'Z', 'X']).toContain(state());
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });
});
