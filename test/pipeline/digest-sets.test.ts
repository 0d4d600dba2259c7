import type { Knex } from 'knex';
import { freshDatabase } from '../support/db';
import { readSet, setTable } from '../../src/pipeline/delta/sets';

describe('readSet (the last pass\'s digest rows, in pages read ahead by COPY)', () => {
  let db: { knex: Knex; drop(): Promise<void> };
  beforeEach(async () => (db = await freshDatabase()));
  afterEach(async () => db.drop());

  test('every row once, in sequence, across pages; NULLs and locator ids COPY must escape come back as stored', async () => {
    const odd = ['a\tb', 'line\nbreak', 'back\\slash', '\\N', 'ç😀', 'cr\rlf'];
    await db.knex.raw(`create table ${setTable(1)} (_ord bigint not null, loc text not null, digest uuid, row_id uuid, old_id uuid, outcome "char", repaired smallint)`);
    // 45,001 rows: more than two pages, with gaps in the sequence as a pass with gone records leaves.
    await db.knex.raw(
      `insert into ${setTable(1)} select 2 * i, case when i <= ? then (?::text[])[i] else i::text end,
              case when i % 7 = 0 then null else md5(i::text)::uuid end, md5('r' || i)::uuid, null,
              case when i % 5 = 0 then 'm' else 'l' end, case when i % 11 = 0 then 2 end
       from generate_series(1, 45001) i`,
      [odd.length, odd],
    );
    await db.knex.raw(`create unique index on ${setTable(1)} (_ord)`);
    const expected = (await db.knex.raw(`select _ord::float8 as ord, loc, digest, row_id, outcome, repaired from ${setTable(1)} order by _ord`)).rows;
    const got = [];
    let pages = 0;
    for await (const rows of readSet(db.knex, 1)) {
      pages++;
      got.push(...rows);
    }
    expect(pages).toBe(3);
    expect(got.map((r) => ({ ord: r.ord, loc: r.loc, digest: r.digest, row_id: r.row_id, outcome: r.outcome, repaired: r.repaired }))).toEqual(expected);
    expect(got.slice(0, odd.length).map((r) => r.loc)).toEqual(odd);
  });
});
