/**
 * The target's tablespace runs out of space mid-run: one sentence (no INSERT statement), exit 1,
 * committed batches kept; once space is freed the same command completes. The tablespace is a
 * small tmpfs (mounting needs root, which CI has); own cluster, so the shared server is untouched.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generateChatCore } from '../../bench/generate';
import { runEtl } from '../support/cli';
import { type Cluster, IS_ROOT, startCluster } from '../support/cluster';
import { type FreshDatabase, freshDatabase } from '../support/db';
import { expectFaultReport, expectRerunMatchesClean } from '../support/faults';

const exec = promisify(execFile);

async function mountTmpfs(at: string, size: string): Promise<void> {
  if (!IS_ROOT) throw new Error('the disk-full test mounts a small tmpfs and must run as root (CI does: .ci/run)');
  await exec('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', at]).catch((e: Error) => {
    throw new Error(`the disk-full test could not mount a tmpfs at ${at}: ${e.message}`);
  });
  await exec('chown', ['postgres:postgres', at]);
}

describe('disk full on the target', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'etl-diskfull-'));
  const file = path.join(dir, 'chat.json');
  const args = ['run', 'tinydb', file, '--batch-size', '1000'];
  const space = fs.mkdtempSync('/tmp/etl-diskfull-ts-');
  let mounted = false;
  let cluster: Cluster;
  let clean: FreshDatabase;
  let db: FreshDatabase;

  beforeAll(async () => {
    await mountTmpfs(space, '6m');
    mounted = true;
    cluster = await startCluster();
    await generateChatCore(file, { messages: 40_000, users: 50, perConversation: 25, duplicateEvery: 997, missingConversationEvery: 13 });
    await cluster.sql(`create tablespace small location '${space}'`);
    [clean, db] = await Promise.all([freshDatabase({ server: cluster.url() }), freshDatabase({ server: cluster.url() })]);
    // The database's catalog stays on the big disk; every table etl creates goes to the small one.
    await cluster.sql(`alter database ${db.name} set default_tablespace = small`);
    expect((await runEtl(args, { env: { DATABASE_URL: clean.url } })).code).toBe(0);
  });
  afterAll(async () => {
    await Promise.all([clean?.drop(), db?.drop()]);
    await cluster?.stop();
    if (mounted) await exec('umount', [space]);
    fs.rmSync(space, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('stops with one sentence and exit 1; after space is freed the same command ends like a clean run', async () => {
    const full = await runEtl(args, { env: { DATABASE_URL: db.url } });
    expectFaultReport(full, /^etl: The database ran out of disk space \(PostgreSQL: could not (extend|write to) file .*No space left on device\); free space on the database server, then run the same command again: committed batches are kept\.$/);
    const committed = Number((await db.knex.raw("select coalesce(sum(position), 0)::int as n from etl_checkpoints where stream = 'chat_history'")).rows[0].n);
    expect(committed).toBeGreaterThan(0); // it failed mid-run, not at the start
    expect(committed).toBeLessThan(40_000);

    await exec('mount', ['-o', 'remount,size=256m', space]);
    await expectRerunMatchesClean(args, db, clean.knex);
  });
});
