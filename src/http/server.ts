import { createServer as createPlainServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Server } from 'node:http';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from '../registry/registry.ts';
import type { DistributionAccess } from './distribution/access-control.ts';
import { distributionPlugin } from './distribution/plugin.ts';
import type { ListingLimits } from './distribution/listing-handlers.ts';
import { tokenPlugin, type TokenPluginOptions } from './token/plugin.ts';

export interface HttpServerOptions {
  readonly logger: Logger;
  /** PEM certificate and key; plain HTTP when absent. */
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  readonly logRequests: boolean;
  readonly registry: Registry;
  readonly access: DistributionAccess;
  readonly limits: ListingLimits;
  readonly token: TokenPluginOptions;
  /** More API surfaces (resource API, OAuth server), each registered as its own encapsulated plugin. */
  readonly surfaces?: ReadonlyArray<(app: FastifyInstance) => Promise<void>>;
}

/** Builds the Fastify app with every API surface registered as its own plugin. */
export async function createHttpServer(options: HttpServerOptions): Promise<FastifyInstance> {
  const tls = options.tls;
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // The onResponse hook below writes the one line per request; Fastify's own two are off.
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 4096 },
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    serverFactory: (handler) => {
      const server = (tls === undefined
        ? createPlainServer(handler)
        : createHttpsServer({ cert: tls.cert, key: tls.key }, handler)) as Server;
      // Fastify applies its timeouts only to servers it creates itself. Blob transfers
      // can take as long as they take (no request timeout), but a connection that
      // sends or reads nothing for five minutes is dropped, so idle clients cannot
      // pin sockets and upload files forever.
      server.keepAliveTimeout = 75_000;
      server.requestTimeout = 0;
      server.headersTimeout = 60_000;
      server.timeout = 300_000;
      return server;
    },
  });

  if (options.logRequests) {
    // One line per request, at the boundary, with the registry's fields.
    app.addHook('onResponse', async (request, reply) => {
      const v2 = request.v2;
      request.log.info({
        method: request.method,
        url: request.url,
        statusCode: reply.statusCode,
        repository: v2?.repository?.name,
        digest: v2?.log.digest,
        reference: v2?.log.reference,
        bytes: v2?.log.bytes ?? numberHeader(reply.getHeader('content-length')),
        durationMs: Math.round(reply.elapsedTime * 100) / 100,
        remoteAddress: request.ip,
      }, 'request');
    });
  }

  await app.register(tokenPlugin, options.token);
  await app.register(distributionPlugin, { registry: options.registry, access: options.access, limits: options.limits });
  for (const surface of options.surfaces ?? []) await app.register(surface);
  return app;
}

function numberHeader(value: string | number | string[] | undefined): number | undefined {
  if (value === undefined || Array.isArray(value)) return undefined;
  const n = Number(value);
  return Number.isFinite(n) ? n : undefined;
}
