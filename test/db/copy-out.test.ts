import type { Knex } from 'knex';
import type { PoolClient } from 'pg';
import { freshDatabase } from '../support/db';
import { copyOutBlocks, fieldText } from '../../src/db/copy-out';

describe('copyOutBlocks (COPY TO output in blocks of whole rows)', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('every row whole and once, small rows and rows larger than a block alike, escapes undone by fieldText', async () => {
    const sizes = [1, 10, 300_000, 5, 1_000_000, 7, ...Array.from({ length: 3000 }, (_, i) => 50 + (i % 90))];
    const conn = (await db.knex.client.acquireConnection()) as PoolClient;
    const rows: string[] = [];
    let blocks = 0;
    try {
      const sql = `COPY (select i, repeat(chr(65 + (i % 26)::int), n) || E'\\t\\n\\\\' from unnest(?::int[]) with ordinality as t(n, i) order by i) TO STDOUT`;
      const query = db.knex.raw(sql, [sizes]).toQuery();
      for await (const block of copyOutBlocks(conn, query)) {
        blocks++;
        expect(block[block.length - 1]).toBe(10);
        let pos = 0;
        while (pos < block.length) {
          const end = block.indexOf(10, pos);
          const tab = block.indexOf(9, pos);
          rows.push(fieldText(block, tab + 1, end));
          pos = end + 1;
        }
      }
    } finally {
      await db.knex.client.releaseConnection(conn);
    }
    expect(blocks).toBeGreaterThanOrEqual(3);
    expect(rows).toHaveLength(sizes.length);
    expect(rows.every((r, i) => r === String.fromCharCode(65 + ((i + 1) % 26)).repeat(sizes[i]) + '\t\n\\')).toBe(true);
  });
});
