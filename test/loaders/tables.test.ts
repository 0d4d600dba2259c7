import { dependencyLevels, ENTITY_KINDS, kindOfTable, TABLES } from '../../loaders/tables';

describe('table specs', () => {
  test('load order is derived from parent references: the TinyDB order is the one it always was', () => {
    expect(dependencyLevels(['message', 'session', 'document', 'conversation', 'user'])).toEqual([['user', 'document'], ['conversation'], ['message'], ['session']]);
  });

  test('json-seeds and yaml-personas: parents first, and a parent kind absent from the run adds no level', () => {
    expect(dependencyLevels(['tenant', 'llm_model', 'base_tool', 'agent', 'tool', 'agent_tool', 'user', 'tenant_agent', 'document'])).toEqual([
      ['tenant', 'document', 'llm_model', 'base_tool', 'agent'],
      ['user', 'tool', 'tenant_agent'],
      ['agent_tool'],
    ]);
    expect(dependencyLevels(['persona', 'api_profile'])).toEqual([['api_profile'], ['persona']]);
    expect(dependencyLevels(['user', 'persona'])).toEqual([['user', 'persona']]);
  });

  test('every parent reference names a table some entity kind loads, and a column the child has', () => {
    for (const kind of ENTITY_KINDS) {
      const spec = TABLES[kind];
      for (const ref of spec.parents) {
        expect({ kind, table: ref.table, known: kindOfTable(ref.table) !== undefined }).toEqual({ kind, table: ref.table, known: true });
        expect(spec.columns).toContain(ref.column);
        for (const rule of ref.infer ?? []) for (const c of Object.keys(rule.values)) expect(TABLES[kindOfTable(ref.table)!].columns).toContain(c);
      }
      for (const c of [...spec.update, ...Object.keys(spec.updateExpr ?? {})]) expect(spec.columns).toContain(c);
    }
  });
});
