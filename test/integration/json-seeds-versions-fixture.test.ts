import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import { globalRowId, rowId, tenantId } from '../../src/normalize/ids';
import { freshDatabase } from '../support/db';
import { allStoredText, checksums, expectRestartAccountedAsFirst, runIn, table } from '../support/pipeline';
import { expectSeedReport, seedCatalog, seedFolder } from '../support/seed-folder';

const DIR = path.resolve(__dirname, '../../fixtures/seed-versions');
const CHATCORE = path.resolve(__dirname, '../../fixtures/chatcore');

/**
 * fixtures/seed-versions has the shapes of ITL's seed folder in its two real versions
 * (legacy-samples/itl-pgvector/README.md), with our own content; `users.<v>.json` and
 * `tenant_agent_mapping.<v>.json` are copied into a temp folder under their seed names. Derived by hand:
 * - tenants.json: eShop, LogiX, Kappa → slugs eshop, logix, kappa (plus the run's own `default` tenant).
 * - llm_models.json 2 (per-1M costs, one free), base_tools.json 3, agents.json 4 (ITL's agent ids, our
 *   names; a Vietnamese system prompt with \n escapes), tool_configs.json 5 (ITL's tool config ids, our
 *   names, endpoints with {param} placeholders); no agent_tools.json, so the 6 links the legacy step 6
 *   hard-coded (priority 1..6).
 * - v1: users.json 6 users of the 3 tenants, mixed-case e-mails, no password → 6 loaded;
 *   tenant_agent_mapping.json 12 rows (3 tenants × 4 agents, 4 disabled) → 12 loaded.
 * - v2: users.json 2 users of Test_eShop, which tenants.json lacks, one named "Trần Thị Bích"
 *   (non-ASCII, spaces) → 2 rejected; tenant_agent_mapping.json 2 rows for Test_eShop → 2 rejected.
 */
const VERSIONS = [
  { version: 'v1', users: { read: 6, loaded: 6, rejected: 0 }, mapping: { read: 12, loaded: 12, rejected: 0 } },
  { version: 'v2', users: { read: 2, loaded: 0, rejected: 2 }, mapping: { read: 2, loaded: 0, rejected: 2 } },
] as const;

const MISSING_TENANT = `names tenant "Test_eShop", which is neither in the source's tenants nor in the target`;

describe('fixtures/seed-versions: the two ITL seed folder versions', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  const dirs: string[] = [];
  const seedDir = (version: string, extra: string[] = []) => {
    const dir = seedFolder(DIR, version, extra.map((f) => path.join(CHATCORE, f)));
    dirs.push(dir);
    return dir;
  };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test.each(VERSIONS)('version $version loads with the hand-derived rows, and a rerun changes nothing', async (v) => {
    const dir = seedDir(v.version);
    const report = await runIn(db.knex, 'json-seeds', [dir]);
    expectSeedReport(report, { ...v, models: 2 });
    const catalog = await seedCatalog(db.knex);

    expect(catalog.tenants).toEqual([
      { id: tenantId('default'), slug: 'default', name: 'default', domain: null, status: null },
      { id: tenantId('eshop'), slug: 'eshop', name: 'eShop', domain: 'e-shop-helpdesk', status: 'active' },
      { id: tenantId('kappa'), slug: 'kappa', name: 'Kappa', domain: 'kappa-care', status: 'active' },
      { id: tenantId('logix'), slug: 'logix', name: 'LogiX', domain: 'logix-freight', status: 'active' },
    ]);

    const { models, agents, tools, links } = catalog;
    expect(models.map((m) => [m.model_key, m.provider, m.model_name, m.context_window, Number(m.input_cost_per_1m_tokens), Number(m.output_cost_per_1m_tokens), m.is_active, m.supports_vision, m.supports_function_calling])).toEqual([
      ['llm_fixture_free', 'fixture-router', 'fixture/small:free', 32000, 0, 0, true, false, true],
      ['llm_fixture_large', 'fixture-cloud', 'fixture/large-2', 200000, 1.25, 5.5, true, true, true],
    ]);
    expect(models[1].id).toBe(globalRowId('llm_model', 'llm_fixture_large'));

    expect(catalog.baseTools).toEqual([
      { tool_key: 'tool_base_get', name: 'GET Tool', category: 'api', tool_type: 'http' },
      { tool_key: 'tool_base_post', name: 'POST Tool', category: 'api', tool_type: 'http' },
      { tool_key: 'tool_base_search', name: 'Search Tool', category: 'knowledge', tool_type: 'rag' },
    ]);
    expect(agents.map((a) => [a.agent_key, a.name, a.agent_type, a.is_active, a.is_system])).toEqual([
      ['agent_debt', 'BillingAgent', 'domain', true, false],
      ['agent_guideline', 'HandbookAgent', 'domain', true, false],
      ['agent_shipment', 'ParcelAgent', 'domain', true, false],
      ['agent_supervisor', 'Dispatcher', 'supervisor', true, true],
    ]);
    // the system prompt's \n escapes are real line breaks, Vietnamese text intact
    expect(agents[1].prompt_template).toBe('Bạn là trợ lý tra cứu sổ tay nhân viên của kho hàng.\n\nLƯU Ý:\n1. Chỉ trả lời dựa trên tài liệu.\n2. Không biết thì nói không biết.');

    expect(tools.map((t) => [t.tool_key, t.name, t.tool_type, t.base])).toEqual([
      ['config_get_customer_debt_by_mst', 'invoices_by_tax_id', 'http_get', 'tool_base_get'],
      ['config_get_salesman_debt', 'invoices_by_seller', 'http_get', 'tool_base_get'],
      ['config_search_knowledge_base', 'handbook_search', 'rag', 'tool_base_search'],
      ['config_track_shipment', 'parcel_lookup', 'http_get', 'tool_base_get'],
      ['config_update_shipment_status', 'parcel_update', 'http_post', 'tool_base_post'],
    ]);
    expect(tools[0].config).toEqual({ method: 'GET', base_url: 'https://billing.fixture.example', endpoint: '/v2/customers/{tax_id}/invoices', timeout: 20, headers: { Accept: 'application/json' } });
    expect(tools[0].input_schema).toEqual({ type: 'object', properties: { tax_id: { type: 'string', description: 'customer tax id' } }, required: ['tax_id'] });

    expect(links.map((l) => [l.agent, l.tool, l.priority])).toEqual([
      ['Dispatcher', 'handbook_search', 1],
      ['HandbookAgent', 'handbook_search', 2],
      ['BillingAgent', 'invoices_by_tax_id', 3],
      ['BillingAgent', 'invoices_by_seller', 4],
      ['ParcelAgent', 'parcel_lookup', 5],
      ['ParcelAgent', 'parcel_update', 6],
    ]);
    expect(report.notes).toEqual(expect.arrayContaining([expect.stringMatching(/agent → tool links the legacy seed step 6 hard-coded were used \(6 links\)/)]));

    const users = await db.knex('users as u').join('tenants as t', 't.id', 'u.tenant_id').orderBy(['t.slug', 'u.username']).select('t.slug', 'u.id', 'u.username', 'u.email', 'u.role', 'u.password_hash', 'u.password_reset_required', 'u.inferred');
    if (v.version === 'v1') {
      expect(users.map((u) => [u.slug, u.username, u.email, u.role])).toEqual([
        ['eshop', 'admin_eshop', 'admin@eShop.local', 'admin'],
        ['eshop', 'helpdesk_eshop', 'helpdesk@eShop.local', 'supporter'],
        ['kappa', 'admin_kappa', 'admin@kappa.local', 'admin'],
        ['logix', 'admin_logix', 'admin@LogiX.local', 'admin'],
        ['logix', 'billing_logix', 'billing@LogiX.local', 'supporter'],
        ['logix', 'parcels_logix', 'parcels@LogiX.local', 'supporter'],
      ]);
      // no password at all, never the legacy scripts' shared 123456: NULL and a reset flag
      for (const u of users) expect([u.password_hash, u.password_reset_required, u.inferred, u.id]).toEqual([null, true, false, rowId(u.slug, 'user', u.username)]);
      const enabled = await db.knex('tenant_agents as m').join('tenants as t', 't.id', 'm.tenant_id').join('agents as a', 'a.id', 'm.agent_id').orderBy(['t.slug', 'a.name']).select('t.slug', 'a.name', 'm.enabled');
      expect(enabled.map((m) => `${m.slug}/${m.name}=${m.enabled}`)).toEqual([
        'eshop/BillingAgent=false',
        'eshop/Dispatcher=true',
        'eshop/HandbookAgent=true',
        'eshop/ParcelAgent=false',
        'kappa/BillingAgent=false',
        'kappa/Dispatcher=true',
        'kappa/HandbookAgent=true',
        'kappa/ParcelAgent=true',
        'logix/BillingAgent=true',
        'logix/Dispatcher=true',
        'logix/HandbookAgent=true',
        'logix/ParcelAgent=true',
      ]);
    } else {
      expect(users).toEqual([]);
      expect(await db.knex('tenant_agents').count<{ count: number }[]>('* as count')).toEqual([{ count: 0 }]);
      const rejects = await db.knex('etl_rejects').orderBy(['stream', 'locator']).select('stream', 'reason_code', 'message', 'record');
      expect(rejects.map((r) => [r.stream, r.reason_code, r.message])).toEqual([
        ['tenant_agent_mapping', 'missing_tenant', MISSING_TENANT],
        ['tenant_agent_mapping', 'missing_tenant', MISSING_TENANT],
        ['users', 'missing_tenant', MISSING_TENANT],
        ['users', 'missing_tenant', MISSING_TENANT],
      ]);
      expect(rejects.map((r) => r.record.username ?? r.record.agent_name)).toEqual(['HandbookAgent', 'Dispatcher', 'admin_eshop_test', 'Trần Thị Bích']);
    }
    const text = Object.values(await allStoredText(db.knex)).join(' ');
    expect(text).not.toContain('123456');

    const before = await checksums(db.knex);
    expect((await runIn(db.knex, 'json-seeds', [dir])).mode).toBe('already-done');
    const restarted = await runIn(db.knex, 'json-seeds', [dir], { restart: true });
    expectRestartAccountedAsFirst(restarted, report);
    expect(await checksums(db.knex)).toEqual(before);
  });

  test('v2 with --tenant-map: the users of the missing tenant load, the non-ASCII name with spaces folded', async () => {
    const report = await runIn(db.knex, 'json-seeds', [seedDir('v2')], { tenantMap: { Test_eShop: 'eshop' } });
    expect(table(report, 'users')).toMatchObject({ read: 2, loaded: 2, rejected: 0 });
    expect(table(report, 'tenant_agents')).toMatchObject({ read: 2, loaded: 2, rejected: 0 });
    const users = await db.knex('users as u').join('tenants as t', 't.id', 'u.tenant_id').orderBy('u.username').select('t.slug', 'u.username', 'u.username_original', 'u.email');
    expect(users).toEqual([
      { slug: 'eshop', username: 'admin_eshop_test', username_original: 'admin_eshop_test', email: 'admin@TestShop.local' },
      { slug: 'eshop', username: 'trần thị bích', username_original: 'Trần Thị Bích', email: 'helpdesk@TestShop.local' },
    ]);
  });

  test('ChatCore company files in the seed folder load as documents, doc_type from the file name', async () => {
    const dir = seedDir('v1', ['employees.json', 'departments.json', 'projects.json', 'procedures.json']);
    // 4 employees, 3 departments, 3 projects, 2 procedures, all distinct
    const report = await runIn(db.knex, 'json-seeds', [dir]);
    expect(table(report, 'documents')).toMatchObject({ read: 12, loaded: 12, merged: 0, rejected: 0 });
    const types = await db.knex('documents').groupBy('doc_type').orderBy('doc_type').select('doc_type').count<{ doc_type: string; count: number }[]>('* as count');
    expect(types.map((t) => [t.doc_type, Number(t.count)])).toEqual([
      ['department', 3],
      ['employee', 4],
      ['procedure', 2],
      ['project', 3],
    ]);
    expect(table(report, 'users')).toMatchObject({ read: 6, loaded: 6 });
  });
});
