/** Helpers for hostile-input tests: open a source in-process and read everything a run would read. */
import { extractorFor } from '../../extractors/registry';
import type { ExtractorOptions, OpenedSources } from '../../extractors/types';
import { EtlError } from '../../src/errors';
import { normalizeEntity } from '../../src/normalize/records';
import { redactRecord } from '../../src/secrets/redact';

/**
 * Everything after preflight that touches a record: every stream read in full, every record
 * normalized and its raw form redacted and serialized (what etl_rejects stores). Preflight's
 * promise is that none of this throws once `open` succeeded: that is what keeps a hostile record
 * from failing a run after other streams committed.
 */
export async function readEverything(opened: OpenedSources): Promise<number> {
  const ctx = { tenant: 'default', tenantId: '00000000-0000-0000-0000-000000000000', runId: '00000000-0000-0000-0000-000000000001', source: 'x', sourceTimeZone: 'UTC' };
  let n = 0;
  for (const stream of opened.streams) {
    for await (const records of stream.read(0)) {
      for (const rec of records) {
        normalizeEntity(rec.entity, ctx, `${rec.locator.table}/${rec.locator.id}`);
        JSON.stringify(redactRecord(rec.raw));
        n++;
      }
    }
  }
  return n;
}

export function openSource(pipeline: string, paths: string[], tableMap: ExtractorOptions['tableMap'] = {}, documentsDir?: string): Promise<OpenedSources> {
  return extractorFor(pipeline).open(paths, { tableMap, documentsDir });
}

/** The error `p` fails with; fails the test when `p` resolves. */
export async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure, but it succeeded');
}

/** What the CLI makes of a refused input: an EtlError, exit 2, one sentence, no stack. */
export function expectBadInput(e: unknown, message: RegExp): void {
  expect(e).toBeInstanceOf(EtlError);
  const err = e as EtlError;
  expect({ code: err.code, exit: err.exitCode, message: err.message }).toEqual({ code: err.code, exit: 2, message: expect.stringMatching(message) });
  expect(err.message).not.toMatch(/\n/);
}
