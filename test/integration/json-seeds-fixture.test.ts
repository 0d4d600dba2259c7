import path from 'node:path';
import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { checksums, runIn, table } from '../support/pipeline';

const DIR = path.resolve(__dirname, '../../fixtures/seeds');

/**
 * fixtures/seeds, record by record:
 * tenants Acme, Globex; 1 LLM model; 2 base tools; 2 agents.
 * tool_configs: search_faq, order_status; send_sms names base tool tool_base_sms, which is not there → rejected.
 * agent_tools.json (present, so the legacy step-6 links are not used): 3 links.
 * users: admin_acme (Acme); Agent.Smith@Globex.example without username → "agent.smith" (the e-mail's
 *   local part, as the legacy seed did); ghost of tenant Initech, not in tenants.json → rejected;
 *   ADMIN_ACME folds to admin_acme in Acme → merged into the first.
 * tenant_agent_mapping: 4 rows of Acme/Globex; Globex → BillingAgent, which agents.json lacks → rejected.
 * faqs.json: not a seed file name, a JSON array → 2 documents of doc_type "faq".
 */
describe('fixtures/seeds', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('every record is loaded, merged or rejected as derived by hand', async () => {
    const report = await runIn(db.knex, 'json-seeds', [DIR]);
    expect(table(report, 'tenants')).toMatchObject({ read: 2, loaded: 2 });
    expect(table(report, 'tools')).toMatchObject({ read: 3, loaded: 2, rejected: 1 });
    expect(table(report, 'agent_tools')).toMatchObject({ read: 3, loaded: 3, rejected: 0 });
    expect(table(report, 'users')).toMatchObject({ read: 4, loaded: 2, merged: 1, rejected: 1 });
    expect(table(report, 'tenant_agents')).toMatchObject({ read: 5, loaded: 4, rejected: 1 });
    expect(table(report, 'documents')).toMatchObject({ read: 2, loaded: 2 });
    expect(report.notes.some((n) => n.includes('step 6'))).toBe(false);

    const users = await db.knex('users as u').join('tenants as t', 't.id', 'u.tenant_id').orderBy('u.username').select('t.slug', 'u.username', 'u.username_original', 'u.email', 'u.role', 'u.password_hash', 'u.password_reset_required');
    expect(users).toEqual([
      { slug: 'acme', username: 'admin_acme', username_original: 'admin_acme', email: 'admin@acme.example', role: 'admin', password_hash: null, password_reset_required: true },
      { slug: 'globex', username: 'agent.smith', username_original: 'Agent.Smith', email: 'Agent.Smith@Globex.example', role: 'supporter', password_hash: null, password_reset_required: true },
    ]);
    const rejects = await db.knex('etl_rejects').orderBy(['stream', 'reason_code']).select('stream', 'outcome', 'reason_code', 'message');
    expect(rejects.map((r) => [r.stream, r.outcome, r.reason_code, r.message])).toEqual([
      ['tenant_agent_mapping', 'rejected', 'missing_agent', 'references agent "BillingAgent", which is neither in the source nor in the target'],
      ['tool_configs', 'rejected', 'missing_base_tool', 'references base tool "tool_base_sms", which is neither in the source nor in the target'],
      ['users', 'merged', 'duplicate_users', 'same users key as another record of this source; merged into it'],
      ['users', 'rejected', 'missing_tenant', `names tenant "Initech", which is neither in the source's tenants nor in the target`],
    ]);
    const docs = await db.knex('documents').orderByRaw("body->>'question'").select('doc_type', 'body');
    expect(docs.map((d) => [d.doc_type, d.body.question])).toEqual([
      ['faq', 'How do I reset my password?'],
      ['faq', 'Where is my order?'],
    ]);

    const before = await checksums(db.knex);
    const again = await runIn(db.knex, 'json-seeds', [DIR], { restart: true });
    expect(table(again, 'users')).toMatchObject({ read: 4, loaded: 2, merged: 1, rejected: 1 });
    expect(await checksums(db.knex)).toEqual(before);
  });

  test('--tenant-map puts users of a tenant the files do not list into a target tenant', async () => {
    const report = await runIn(db.knex, 'json-seeds', [DIR], { tenantMap: { Initech: 'acme' } });
    expect(table(report, 'users')).toMatchObject({ read: 4, loaded: 3, merged: 1, rejected: 0 });
    const ghost = await db.knex('users').join('tenants', 'tenants.id', 'users.tenant_id').where('users.username', 'ghost').first('tenants.slug');
    expect(ghost).toEqual({ slug: 'acme' });
    // another map is another run of the same files
    expect((await runIn(db.knex, 'json-seeds', [DIR])).mode).toBe('fresh');
  });
});
