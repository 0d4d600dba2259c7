import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freshDatabase, type FreshDatabase } from '../test/support/db';
import { expectSeedFolderLoads } from '../test/support/itl';
import { seedFolder } from '../test/support/seed-folder';
import { sample } from './support/samples';

/**
 * --target itl on both real versions of ITL's seed folder (legacy-samples/itl-pgvector): ITL's
 * code finds every agent with the tools its seed step 6 links, each tool on the base tool of its
 * type, the per-1K costs, and the users exactly as written (42bdefc's nine; 628210c's two, among
 * them "Nguyễn Văn A", once --tenant-map gives their tenant Test_eTMS one that tenants.json has),
 * and refuses every migrated user's login without an error.
 */
const FERNET_KEY = 'cw_0x689RpI-jtRR7oE8h_eQsKImvJ8GNeRNeA4ZUVY=';

describe('--target itl on the real ITL seed folders', () => {
  let db: FreshDatabase;
  const folders: string[] = [];
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());
  afterAll(() => folders.forEach((f) => fs.rmSync(f, { recursive: true, force: true })));

  test('42bdefc: nine users of three tenants', async () => {
    folders.push(seedFolder(sample('itl-pgvector'), '42bdefc'));
    const app = await expectSeedFolderLoads(db, folders.at(-1)!, { FERNET_KEY });
    expect(Object.keys(app.users)).toHaveLength(9);
    expect(app.users['eTMS/admin@eTMS.local']).toBe('admin_etms');
    expect(Object.values(app.agents).flat()).toHaveLength(6);
  });

  test('628210c: the users of Test_eTMS are rejected, or land in eTMS with --tenant-map, their names as written', async () => {
    folders.push(seedFolder(sample('itl-pgvector'), '628210c'));
    const map = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'etl-map-')), 'map.json');
    folders.push(path.dirname(map));
    fs.writeFileSync(map, JSON.stringify({ Test_eTMS: 'etms' }));
    expect(Object.keys((await expectSeedFolderLoads(db, folders[folders.length - 2], { FERNET_KEY })).users)).toEqual([]);
    const app = await expectSeedFolderLoads(db, folders[folders.length - 2], { FERNET_KEY }, { args: ['--tenant-map', map], tenantMap: { Test_eTMS: 'eTMS' } });
    expect(app.users).toEqual({ 'eTMS/admin@TesteTMS.local': 'admin_etms_test', 'eTMS/support_supervisor@TesteTMS.local': 'Nguyễn Văn A' });
  });
});
