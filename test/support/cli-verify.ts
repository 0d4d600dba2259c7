import type { Knex } from 'knex';
import { runEtl } from './cli';
import { allChecksums } from './pipeline';

/**
 * `etl run tinydb <file>` then `etl verify` (JSON and text) against `db`: exit 0, ok, the per-table
 * expected and actual rows given (`[table, rows]`, in verify's order), the text summary a table
 * whose messages line shows `messages` loaded with nothing merged, repaired or rejected, and the
 * database unchanged by verify.
 */
export async function expectCliVerifyHolds(db: { url: string; knex: Knex }, file: string, rows: readonly (readonly [string, number])[], messages: number): Promise<void> {
  const etl = (...args: string[]) => runEtl(args, { env: { DATABASE_URL: db.url } });
  expect((await etl('run', 'tinydb', file, '--bcrypt-cost', '4')).code).toBe(0);
  const before = await allChecksums(db.knex);
  const json = await etl('verify', '--json');
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout);
  expect(report.ok).toBe(true);
  expect(report.tables.map((t: { table: string; expected: number; actual: number; missing: string[]; extra: string[] }) => [t.table, t.expected, t.actual, t.missing.length, t.extra.length])).toEqual(
    rows.map(([table, n]) => [table, n, n, 0, 0]),
  );
  const text = await etl('verify');
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/^table\s+source\s+loaded\s+merged\s+repaired\s+rejected\s+expected\s+actual\s+missing\s+extra\s+changed\s+checksum$/m);
  expect(text.stdout).toMatch(new RegExp(`^messages\\s+${messages}\\s+${messages}\\s+0\\s+0\\s+0\\s+${messages}\\s+${messages}\\s+0\\s+0\\s+0\\s+equal$`, 'm'));
  expect(text.stdout).toMatch(/verify: every record is accounted for/);
  expect(await allChecksums(db.knex)).toEqual(before);
}
