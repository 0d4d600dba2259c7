/**
 * The real ChatCore samples (Turkish) loaded by the previous release, then upgraded by
 * `etl migrate` with the turkish search configuration: every row kept, checks and verify pass.
 */
import { runEtl } from '../test/support/cli';
import { freshDatabase, type FreshDatabase } from '../test/support/db';
import { asPreviousRelease, checksumsAgain, targetChecksums } from '../test/support/evolve';
import { sample } from './support/samples';

describe('the real ChatCore samples, upgraded', () => {
  let db: FreshDatabase;
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db?.drop());

  test.each(['sessions.1b0c3ee.json', 'sessions.f26001e.json'])('%s: upgraded with --fts-config turkish, nothing lost, verify passes', async (file) => {
    const env = { DATABASE_URL: db.url };
    expect((await runEtl(['run', 'tinydb', sample('chatcore', file)], { env })).code).toBe(0);
    await asPreviousRelease(db.knex);
    const before = await targetChecksums(db.knex);
    const up = await runEtl(['migrate', '--fts-config', 'turkish', '--tenant', 'default', '--batch-rows', '100'], { env });
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    expect(await checksumsAgain(db.knex, before)).toEqual(before);
    const unfilled = (await db.knex.raw("select count(*)::int as n from messages where persona_id is null or search_vector is null")).rows[0].n;
    expect(unfilled).toBe(0);
    expect((await db.knex.raw("select config::text as c from tenant_search_configs")).rows).toEqual([{ c: 'turkish' }]);
    const verify = await runEtl(['verify', '--json'], { env });
    expect(JSON.parse(verify.stdout).checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([]);
    expect(verify.code).toBe(0);
  });
});
