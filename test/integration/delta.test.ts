/**
 * Delta passes: the legacy app rewrote its TinyDB file (new messages with higher ids, edited ones,
 * deleted ones); the rerun writes only what changed, an edited message's old row is replaced, and
 * the target ends with the rows of a clean load of the new file. Disappeared records are reported,
 * deleted only with --prune; `etl rollback` undoes a pass that deleted rows.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateChatCore } from '../../bench/generate';
import { mutateChatCore } from '../../bench/mutate';
import { runEtl } from '../support/cli';
import { freshDatabase, type FreshDatabase } from '../support/db';
import { interruptRun } from '../support/kill';
import { dataChecksums } from '../support/pipeline';

jest.setTimeout(300_000);

const count = async (db: FreshDatabase, sql: string): Promise<number> => (await db.knex.raw(`select count(*)::int as n from (${sql}) x`)).rows[0].n;

describe('a delta pass over a TinyDB file the app has rewritten', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-delta-'));
  const live = path.join(dir, 'sessions.json');
  const v1 = path.join(dir, 'v1.json');
  const v2 = path.join(dir, 'v2.json');
  const v3 = path.join(dir, 'v3.json');
  let db: FreshDatabase;
  let clean: FreshDatabase;
  const run = async (args: string[], target = db) => {
    const r = await runEtl(['run', 'tinydb', live, '--batch-size', '1000', '--json', ...args], { env: { DATABASE_URL: target.url } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout);
  };
  const cleanLoad = async (file: string): Promise<Record<string, string>> => {
    clean = await freshDatabase();
    const r = await runEtl(['run', 'tinydb', file], { env: { DATABASE_URL: clean.url } });
    expect(r.code).toBe(0);
    const sums = await dataChecksums(clean.knex);
    await clean.drop();
    return sums;
  };

  beforeAll(async () => {
    // Duplicates (merged) and conversations the file lacks (inferred) across batches, as in real files.
    await generateChatCore(v1, { messages: 20_000, users: 30, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    db = await freshDatabase();
  });
  afterAll(async () => {
    await db?.drop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('new and edited messages: only they are written, and the rows equal a clean load of the new file', async () => {
    fs.copyFileSync(v1, live);
    expect((await run([])).mode).toBe('fresh');
    const m = await mutateChatCore(v1, v2, { newPercent: 2, editedPercent: 1 });
    expect(m).toMatchObject({ added: 400, edited: 200, deleted: 0 });
    fs.copyFileSync(v2, live);

    const r = await run([]);
    expect(r.mode).toBe('delta');
    // Unchanged: messages, users, conversations (every 13th of 800 missing), the session.
    expect(r.delta).toEqual({ deltaNew: 400, deltaChanged: 200, deltaUnchanged: 19_800 + 30 + 739 + 1, disappeared: 0, replaced: 200, pruned: 0 });
    const messages = r.tables.find((t: { table: string }) => t.table === 'messages');
    // Unchanged records count as loaded or merged as the first pass counted them; 600 rows were written.
    expect(messages).toMatchObject({ read: 20_400, loaded: 20_400 - 20, merged: 20, inserted: 600, updated: 0, deltaUnchanged: 19_800 });
    expect((await runEtl(['verify'], { env: { DATABASE_URL: db.url } })).code).toBe(0);
    // One row per locator: the edited messages' old rows are gone.
    expect(await count(db, 'select etl_locator from messages group by etl_locator having count(*) > 1')).toBe(0);
    expect(await dataChecksums(db.knex)).toEqual(await cleanLoad(v2));

    const again = await run(['--restart']);
    expect(again.mode).toBe('restarted');
    expect(again.delta).toMatchObject({ deltaNew: 0, deltaChanged: 0, disappeared: 0, replaced: 0 });
    expect(again.tables.reduce((n: number, t: { inserted: number; updated: number }) => n + t.inserted + t.updated, 0)).toBe(0);
  });

  test('deleted messages are reported as disappeared, kept until --prune deletes them; rollback gives them back', async () => {
    const m = await mutateChatCore(v2, v3, { newPercent: 0, editedPercent: 0, deletedPercent: 1 });
    expect(m.deleted).toBe(204);
    fs.copyFileSync(v3, live);
    const before = await dataChecksums(db.knex);

    const r = await run([]);
    expect(r.mode).toBe('delta');
    expect(r.delta).toMatchObject({ deltaNew: 0, deltaChanged: 0, disappeared: 204, pruned: 0 });
    expect(await dataChecksums(db.knex)).toEqual(before);
    const listed = await runEtl(['rejects', '--run', r.runId, '--outcome', 'disappeared'], { env: { DATABASE_URL: db.url } });
    expect(listed.code).toBe(0);
    const lines = listed.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(204);
    expect(lines[0]).toMatchObject({ stream: 'chat_history', outcome: 'disappeared', locator: { file: live, table: 'chat_history' } });

    const pruned = await run(['--restart', '--prune']);
    expect(pruned.delta).toMatchObject({ disappeared: 204, pruned: 204 });
    expect(await dataChecksums(db.knex)).toEqual(await cleanLoad(v3));

    const undo = await runEtl(['rollback', '--run', pruned.runId], { env: { DATABASE_URL: db.url } });
    expect(undo.code).toBe(0);
    expect(await dataChecksums(db.knex)).toEqual(before);
  });

  test('a delta pass killed twice and run again ends like a clean load; after a rollback the digests of the pass before count again', async () => {
    const v4 = path.join(dir, 'v4.json');
    const m = await mutateChatCore(v3, v4, { newPercent: 2, editedPercent: 1, deletedPercent: 0.5 });
    fs.copyFileSync(v4, live);
    const args = ['run', 'tinydb', live, '--batch-size', '500', '--prune'];
    const env = { DATABASE_URL: db.url };
    for (const rows of [3000, 12_000]) {
      const query = `select count(*)::int as n from etl_checkpoints c join etl_runs r on r.id = c.run_id where r.state = 'running' and c.stream = 'chat_history' and c.position >= ${rows}`;
      await interruptRun(db.knex, { args, env, rows, query });
    }
    const r = await runEtl([...args, '--json'], { env });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.mode).toBe('resumed');
    // The rolled-back prune left the 204 messages v3 lost: disappeared still, with v4's own. Their
    // rows are pruned but for those a duplicate (every 997th message repeats one) still produces:
    // the rows equal a clean load's.
    expect(report.delta).toMatchObject({ deltaNew: m.added, deltaChanged: m.edited, disappeared: 204 + m.deleted });
    expect(report.delta.pruned).toBeGreaterThan(200);
    expect(await dataChecksums(db.knex)).toEqual(await cleanLoad(v4));
  });

  test('a delta pass after a run that never reached its finalize counts that run\'s conversations too', async () => {
    const db = await freshDatabase();
    try {
      fs.copyFileSync(v1, live);
      expect((await runEtl(['run', 'tinydb', live], { env: { DATABASE_URL: db.url } })).code).toBe(0);
      // As if killed after its last batch and before finalizing: counts not yet set, the run unfinished.
      await db.knex('conversations').update({ message_count: 0 });
      await db.knex('etl_runs').update({ state: 'running', finished_at: null });
      await mutateChatCore(v1, path.join(dir, 'v1b.json'), { newPercent: 1, editedPercent: 0 });
      fs.copyFileSync(path.join(dir, 'v1b.json'), live);
      const r = await runEtl(['run', 'tinydb', live, '--json'], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).mode).toBe('delta');
      expect(await count(db, 'select 1 from conversations c where message_count <> (select count(*) from messages m where m.conversation_id = c.id)')).toBe(0);
      expect(await count(db, 'select 1 from conversations where message_count > 0')).toBeGreaterThan(700);
    } finally {
      await db.drop();
    }
  });
});

describe('a delta pass keeps the rows other records still produce', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-delta-dup-'));
  const live = path.join(dir, 'sessions.json');
  const v1 = path.join(dir, 'v1.json');
  // Every 10th message repeats the one before (one row, the second record merged into it).
  beforeAll(() => generateChatCore(v1, { messages: 40, users: 2, perConversation: 10, duplicateEvery: 10 }));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('an edited message whose row a duplicate still produces: the row stays; --target chatcore follows the edit and the prune', async () => {
    const doc = JSON.parse(fs.readFileSync(v1, 'utf8'));
    const edited = structuredClone(doc);
    edited.chat_history['9'].content = 'edited: its duplicate, #10, still says the old text';
    edited.chat_history['3'].content = 'edited: no other record says the old text';
    delete edited.chat_history['5'];
    const v2 = path.join(dir, 'v2.json');
    fs.writeFileSync(v2, JSON.stringify(edited));
    for (const target of ['etl', 'chatcore']) {
      const [db, clean] = await Promise.all([freshDatabase(), freshDatabase()]);
      try {
        const run = async (file: string, url: string, extra: string[] = []) => {
          const r = await runEtl(['run', 'tinydb', file, '--target', target, '--json', ...extra], { env: { DATABASE_URL: url } });
          expect(r.code).toBe(0);
          return JSON.parse(r.stdout);
        };
        fs.writeFileSync(live, JSON.stringify(doc));
        await run(live, db.url);
        fs.writeFileSync(live, JSON.stringify(edited));
        const r = await run(live, db.url, ['--prune']);
        expect(r.mode).toBe('delta');
        expect(r.delta).toMatchObject({ deltaChanged: 2, disappeared: 1, replaced: 1, pruned: 1 });
        await run(v2, clean.url);
        // ChatCore's integer ids are given in load order: its messages are compared by what they say.
        const rows = async (d: FreshDatabase) => (target === 'etl' ? dataChecksums(d.knex) : (await d.knex.raw('select content, role from public.messages order by content, role')).rows);
        expect(await rows(db)).toEqual(await rows(clean));
        expect(await count(db, `select 1 from ${target === 'etl' ? '' : 'public.'}messages where content like '%#8'`)).toBe(1);
      } finally {
        await Promise.all([db.drop(), clean.drop()]);
      }
    }
  });

  test('a target loaded without digests (an older etl): the edited records\' old rows are found by their locator', async () => {
    const edited = JSON.parse(fs.readFileSync(v1, 'utf8'));
    edited.chat_history['3'].content = 'edited after a load without digests';
    const [db, clean] = await Promise.all([freshDatabase(), freshDatabase()]);
    try {
      fs.copyFileSync(v1, live);
      expect((await runEtl(['run', 'tinydb', live], { env: { DATABASE_URL: db.url } })).code).toBe(0);
      for (const { id } of (await db.knex('etl_digest_sets').select('id')) as { id: number }[]) await db.knex.raw(`drop table etl_digest_${id}`);
      await db.knex('etl_digest_sets').delete();
      fs.writeFileSync(live, JSON.stringify(edited));
      const r = await runEtl(['run', 'tinydb', live, '--json'], { env: { DATABASE_URL: db.url } });
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout).mode).toBe('fresh');
      expect(JSON.parse(r.stdout).tables.find((t: { table: string }) => t.table === 'messages')).toMatchObject({ replaced: 1 });
      fs.writeFileSync(path.join(dir, 'v2b.json'), JSON.stringify(edited));
      expect((await runEtl(['run', 'tinydb', path.join(dir, 'v2b.json')], { env: { DATABASE_URL: clean.url } })).code).toBe(0);
      expect(await dataChecksums(db.knex)).toEqual(await dataChecksums(clean.knex));
    } finally {
      await Promise.all([db.drop(), clean.drop()]);
    }
  });
});
