/**
 * A TCP proxy on 127.0.0.1 in front of PostgreSQL, to cut etl's connections (RST) or to go
 * silent: a network partition, where nothing is closed and nothing arrives.
 */
import net from 'node:net';

export interface FaultProxy {
  port: number;
  /** Rewrites a postgres:// URL to go through the proxy. */
  via(url: string): string;
  /** Resets every open connection, both sides (a cut cable that the peers notice). */
  cut(): void;
  /** Stops forwarding in both directions without closing anything (bytes are dropped). */
  partition(): void;
  /** Ends a partition: the stuck connections are reset (as a router that lost their state) and new ones forward again. */
  heal(): void;
  close(): Promise<void>;
}

export function startProxy(targetPort: number): Promise<FaultProxy> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      sockets.add(from);
      from.on('data', (d) => void (silent || to.destroyed || to.write(d)));
      from.on('error', () => to.destroy());
      from.on('close', () => {
        sockets.delete(from);
        if (!silent) to.destroy();
      });
    }
  });
  const cut = () => {
    for (const s of sockets) s.resetAndDestroy();
  };
  return new Promise((resolve, reject) => {
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      resolve({
        port,
        via: (url) => {
          const u = new URL(url);
          u.hostname = '127.0.0.1';
          u.port = String(port);
          return u.href;
        },
        cut,
        partition: () => void (silent = true),
        heal() {
          cut();
          silent = false;
        },
        close: () => {
          cut();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
