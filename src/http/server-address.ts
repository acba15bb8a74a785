import { createServer } from 'node:net';
import type { BerthConfig } from '../config/load-config.ts';
import { parseListen } from '../config/load-config.ts';

export interface ServerAddress {
  readonly host: string;
  /** The port to bind (a `listen` port of 0 already resolved to a free one). */
  readonly port: number;
  /** `<scheme>://<host>:<port>` as bound. */
  readonly boundUrl: string;
  /** Where clients reach the server: `externalUrl`, else the bound URL with `localhost` for a wildcard host. */
  readonly externalUrl: string;
}

/** A port the OS considers free on `host` right now. */
function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Decides the address before the server is built: OAuth redirects and image
 * pull specs name the external URL, so a port of 0 cannot wait for `listen`.
 */
export async function resolveAddress(config: BerthConfig, tls: boolean): Promise<ServerAddress> {
  const listen = parseListen(config.listen);
  const port = listen.port === 0 ? await freePort(listen.host) : listen.port;
  const scheme = tls ? 'https' : 'http';
  const bracketed = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  const wildcard = listen.host === '0.0.0.0' || listen.host === '::';
  return {
    host: listen.host,
    port,
    boundUrl: `${scheme}://${bracketed}:${port}`,
    externalUrl: (config.externalUrl ?? `${scheme}://${wildcard ? 'localhost' : bracketed}:${port}`).replace(/\/+$/, ''),
  };
}
