import { ETL_NAMESPACE, rowId, tenantId, uuidv5 } from '../../src/normalize/ids';
import { runPython } from './python';

const DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const NAMES = ['', 'a', 'python.org', 'tenant:default', 'default/user:straße', 'Ünïcödé 😀 𐐀', 'x'.repeat(1000)];

describe('uuidv5 matches Python uuid.uuid5', () => {
  test('in the standard DNS namespace and in ours', () => {
    const expected = runPython<{ dns: string[]; etl: string[] }>(
      `import uuid
out({ns: [str(uuid.uuid5(uuid.UUID(data[ns]), n)) for n in data['names']] for ns in ('dns', 'etl')})`,
      { dns: DNS, etl: ETL_NAMESPACE, names: NAMES },
    );
    expect(NAMES.map((n) => uuidv5(n, DNS))).toEqual(expected.dns);
    expect(NAMES.map((n) => uuidv5(n))).toEqual(expected.etl);
  });

  test('tenantId and rowId are uuid5 of the documented names', () => {
    const expected = runPython<string[]>(
      "import uuid\nns = uuid.UUID(data['ns'])\nout([str(uuid.uuid5(ns, 'tenant:acme')), str(uuid.uuid5(ns, 'acme/user:strasse'))])",
      { ns: ETL_NAMESPACE },
    );
    expect([tenantId('acme'), rowId('acme', 'user', 'strasse')]).toEqual(expected);
  });

  test('an upper-case namespace is the same namespace', () => {
    expect(uuidv5('x', DNS.toUpperCase())).toBe(uuidv5('x', DNS));
  });

  test('a namespace that is not a UUID is a programming error', () => {
    expect(() => uuidv5('x', 'not-a-uuid')).toThrow(TypeError);
  });
});

describe('ids', () => {
  test('ETL_NAMESPACE never changes: every primary key is derived from it', () => {
    expect(ETL_NAMESPACE).toBe('1d796a3f-1a5a-4cc8-8038-4c7e35e0e3f5');
  });

  test('ids are version 5, RFC variant, and distinct per tenant, entity and key', () => {
    const ids = [
      tenantId('a'),
      tenantId('b'),
      rowId('a', 'user', 'k'),
      rowId('b', 'user', 'k'),
      rowId('a', 'conversation', 'k'),
      rowId('a', 'user', 'k2'),
    ];
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(new Set(ids).size).toBe(ids.length);
    expect(rowId('a', 'user', 'k')).toBe(rowId('a', 'user', 'k'));
  });
});
