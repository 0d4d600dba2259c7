import fs from 'node:fs';
import type { Knex } from 'knex';
import { globalRowId, rowId, tenantId } from '../src/normalize/ids';
import { freshDatabase } from '../test/support/db';
import { allStoredText, checksums, expectRestartAccountedAsFirst, runIn, table } from '../test/support/pipeline';
import { expectSeedReport, seedCatalog, seedFolder } from '../test/support/seed-folder';
import { sample } from './support/samples';

/**
 * The real ITL seed files (legacy-samples/itl-pgvector). Their names carry the commit they were
 * read at; a test copies them into a temp folder under the names the seed folder uses. Derived by
 * hand from the files:
 * - tenants.json: eTMS, eFMS, Vela → slugs etms, efms, vela (plus the run's own `default` tenant).
 * - llm_models.json 3, base_tools.json 3, agents.json 4, tool_configs.json 5; no agent_tools.json,
 *   so the 6 links the legacy step 6 hard-coded (priority 1..6).
 * - 42bdefc: users.json 9 users of eTMS/eFMS/Vela → 9 loaded; tenant_agent_mapping.json 12 rows
 *   (3 tenants × 4 agents, 5 disabled) → 12 loaded.
 * - 628210c: users.json 2 users of Test_eTMS, which tenants.json lacks → 2 rejected;
 *   tenant_agent_mapping.json 2 rows for Test_eTMS → 2 rejected.
 */
const VERSIONS = [
  { commit: '42bdefc', users: { read: 9, loaded: 9, rejected: 0 }, mapping: { read: 12, loaded: 12, rejected: 0 } },
  { commit: '628210c', users: { read: 2, loaded: 0, rejected: 2 }, mapping: { read: 2, loaded: 0, rejected: 2 } },
] as const;

function seedDir(commit: string, extra: string[] = []): string {
  return seedFolder(sample('itl-pgvector'), commit, extra.map((f) => sample('chatcore', f)));
}

describe('real ITL seed files', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  const dirs: string[] = [];
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db?.drop());
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

  test.each(VERSIONS)('version $commit loads with the hand-derived rows, and a rerun changes nothing', async (v) => {
    const dir = seedDir(v.commit);
    dirs.push(dir);
    const report = await runIn(db.knex, 'json-seeds', [dir]);
    expectSeedReport(report, { ...v, models: 3 });
    const catalog = await seedCatalog(db.knex);

    expect(catalog.tenants).toEqual([
      { id: tenantId('default'), slug: 'default', name: 'default', domain: null, status: null },
      { id: tenantId('efms'), slug: 'efms', name: 'eFMS', domain: 'e-fleet-management', status: 'active' },
      { id: tenantId('etms'), slug: 'etms', name: 'eTMS', domain: 'e-transportation-management', status: 'active' },
      { id: tenantId('vela'), slug: 'vela', name: 'Vela', domain: 'vela-support', status: 'active' },
    ]);

    const { models, agents, tools, links } = catalog;
    expect(models.map((m) => [m.model_key, m.provider, m.model_name, m.context_window, Number(m.input_cost_per_1m_tokens), Number(m.output_cost_per_1m_tokens), m.is_active, m.supports_vision, m.supports_function_calling])).toEqual([
      ['llm_gemini_flash_2_0_openrouter', 'openrouter', 'google/gemini-2.0-flash-exp:free', 1000000, 0, 0, true, true, true],
      ['llm_gemini_flash_2_5', 'google', 'gemini-2.5-flash', 1000000, 0.075, 0.3, true, true, true],
      ['llm_gpt4o_mini_openrouter', 'openrouter', 'openai/gpt-4o-mini', 128000, 0.15, 0.6, true, true, true],
    ]);
    expect(models[1].id).toBe(globalRowId('llm_model', 'llm_gemini_flash_2_5'));

    expect(catalog.baseTools).toEqual([
      { tool_key: 'tool_base_http_get', name: 'HTTP GET Tool', category: 'api', tool_type: 'http' },
      { tool_key: 'tool_base_http_post', name: 'HTTP POST Tool', category: 'api', tool_type: 'http' },
      { tool_key: 'tool_base_rag', name: 'RAG Tool', category: 'knowledge', tool_type: 'rag' },
    ]);
    expect(agents.map((a) => [a.agent_key, a.name, a.agent_type, a.is_active, a.is_system])).toEqual([
      ['agent_debt', 'DebtAgent', 'domain', true, false],
      ['agent_guideline', 'GuidelineAgent', 'domain', true, false],
      ['agent_shipment', 'ShipmentAgent', 'domain', true, false],
      ['agent_supervisor', 'SupervisorAgent', 'supervisor', true, true],
    ]);
    // the system prompt's \n escapes are real line breaks, Vietnamese text intact
    expect(agents[1].prompt_template).toMatch(/^Bạn là trợ lý AI chuyên nghiệp, hỗ trợ người dùng trả lời câu hỏi về hệ thống eTMS\.\n\nQUAN TRỌNG:\n1\. /);

    expect(tools.map((t) => [t.tool_key, t.name, t.tool_type, t.base])).toEqual([
      ['config_get_customer_debt_by_mst', 'get_customer_debt_by_mst', 'http_get', 'tool_base_http_get'],
      ['config_get_salesman_debt', 'get_salesman_debt', 'http_get', 'tool_base_http_get'],
      ['config_search_knowledge_base', 'search_knowledge_base', 'rag', 'tool_base_rag'],
      ['config_track_shipment', 'track_shipment', 'http_get', 'tool_base_http_get'],
      ['config_update_shipment_status', 'update_shipment_status', 'http_post', 'tool_base_http_post'],
    ]);
    expect(tools[0].config).toEqual({
      method: 'GET',
      base_url: 'https://uat-accounting-api-efms.logtechub.com',
      endpoint: '/api/v1/vi/AccountReceivable/GetReceivableByTaxCode/{tax_code}',
      timeout: 30,
      headers: { 'Content-Type': 'application/json' },
    });
    expect(tools[0].input_schema).toEqual({ type: 'object', properties: { tax_code: { type: 'string', description: 'Customer tax code (MST)' } }, required: ['tax_code'] });

    expect(links.map((l) => [l.agent, l.tool, l.priority])).toEqual([
      ['SupervisorAgent', 'search_knowledge_base', 1],
      ['GuidelineAgent', 'search_knowledge_base', 2],
      ['DebtAgent', 'get_customer_debt_by_mst', 3],
      ['DebtAgent', 'get_salesman_debt', 4],
      ['ShipmentAgent', 'track_shipment', 5],
      ['ShipmentAgent', 'update_shipment_status', 6],
    ]);
    expect(report.notes).toEqual(expect.arrayContaining([expect.stringMatching(/agent → tool links the legacy seed step 6 hard-coded were used \(6 links\)/)]));

    const users = await db.knex('users as u').join('tenants as t', 't.id', 'u.tenant_id').orderBy(['t.slug', 'u.username']).select('t.slug', 'u.id', 'u.username', 'u.username_original', 'u.email', 'u.role', 'u.password_hash', 'u.password_reset_required', 'u.inferred');
    if (v.commit === '42bdefc') {
      expect(users.map((u) => [u.slug, u.username, u.email, u.role])).toEqual([
        ['efms', 'admin_efms', 'admin@eFMS.local', 'admin'],
        ['efms', 'support_debt_efms', 'support_debt@eFMS.local', 'supporter'],
        ['efms', 'support_guideline_efms', 'support_guideline@eFMS.local', 'supporter'],
        ['efms', 'support_shipment_efms', 'support_shipment@eFMS.local', 'supporter'],
        ['etms', 'admin_etms', 'admin@eTMS.local', 'admin'],
        ['etms', 'support_guideline_etms', 'support_guideline@eTMS.local', 'supporter'],
        ['etms', 'support_supervisor_etms', 'support_supervisor@eTMS.local', 'supporter'],
        ['vela', 'admin_vela', 'admin@vela.local', 'admin'],
        ['vela', 'support_general_vela', 'support_general@vela.local', 'supporter'],
      ]);
      // no password at all, never the legacy scripts' shared 123456: NULL and a reset flag
      for (const u of users) expect([u.password_hash, u.password_reset_required, u.inferred, u.id]).toEqual([null, true, false, rowId(u.slug, 'user', u.username)]);
      const enabled = await db.knex('tenant_agents as m').join('tenants as t', 't.id', 'm.tenant_id').join('agents as a', 'a.id', 'm.agent_id').orderBy(['t.slug', 'a.name']).select('t.slug', 'a.name', 'm.enabled');
      expect(enabled.map((m) => `${m.slug}/${m.name}=${m.enabled}`)).toEqual([
        'efms/DebtAgent=true',
        'efms/GuidelineAgent=true',
        'efms/ShipmentAgent=true',
        'efms/SupervisorAgent=true',
        'etms/DebtAgent=false',
        'etms/GuidelineAgent=true',
        'etms/ShipmentAgent=false',
        'etms/SupervisorAgent=true',
        'vela/DebtAgent=false',
        'vela/GuidelineAgent=true',
        'vela/ShipmentAgent=false',
        'vela/SupervisorAgent=true',
      ]);
    } else {
      expect(users).toEqual([]);
      expect(await db.knex('tenant_agents').count<{ count: number }[]>('* as count')).toEqual([{ count: 0 }]);
      const rejects = await db.knex('etl_rejects').orderBy(['stream', 'locator']).select('stream', 'reason_code', 'message', 'record');
      expect(rejects.map((r) => [r.stream, r.reason_code, r.message])).toEqual([
        ['tenant_agent_mapping', 'missing_tenant', `names tenant "Test_eTMS", which is neither in the source's tenants nor in the target`],
        ['tenant_agent_mapping', 'missing_tenant', `names tenant "Test_eTMS", which is neither in the source's tenants nor in the target`],
        ['users', 'missing_tenant', `names tenant "Test_eTMS", which is neither in the source's tenants nor in the target`],
        ['users', 'missing_tenant', `names tenant "Test_eTMS", which is neither in the source's tenants nor in the target`],
      ]);
      expect(rejects.map((r) => r.record.username ?? r.record.agent_name)).toEqual(['GuidelineAgent', 'SupervisorAgent', 'admin_etms_test', 'Nguyễn Văn A']);
    }
    const text = Object.values(await allStoredText(db.knex)).join(' ');
    expect(text).not.toContain('123456');

    const before = await checksums(db.knex);
    expect((await runIn(db.knex, 'json-seeds', [dir])).mode).toBe('already-done');
    const restarted = await runIn(db.knex, 'json-seeds', [dir], { restart: true });
    expectRestartAccountedAsFirst(restarted, report);
    expect(await checksums(db.knex)).toEqual(before);
  });

  test('ChatCore company files in the seed folder load as documents, doc_type from the file name', async () => {
    const dir = seedDir('42bdefc', ['employees.json', 'departments.json', 'projects.json', 'procedures.json']);
    dirs.push(dir);
    // 15 employees, 5 departments, 8 projects, 10 procedures, all distinct
    const report = await runIn(db.knex, 'json-seeds', [dir]);
    expect(table(report, 'documents')).toMatchObject({ read: 38, loaded: 38, merged: 0, rejected: 0 });
    const types = await db.knex('documents').groupBy('doc_type').orderBy('doc_type').select('doc_type').count<{ doc_type: string; count: number }[]>('* as count');
    expect(types.map((t) => [t.doc_type, Number(t.count)])).toEqual([
      ['department', 5],
      ['employee', 15],
      ['procedure', 10],
      ['project', 8],
    ]);
    expect(table(report, 'users')).toMatchObject({ read: 9, loaded: 9 });
  });
});
