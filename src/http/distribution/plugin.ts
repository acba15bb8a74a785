import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryVerb } from '../../authz/authorizer.ts';
import type { DistributionAccess } from './access-control.ts';
import { OciError } from '../../oci/errors.ts';
import { parseRepositoryName, type RepositoryName } from '../../oci/names.ts';
import type { Registry } from '../../registry/registry.ts';
import { blobHandlers } from './blob-handlers.ts';
import { listingHandlers, type ListingLimits } from './listing-handlers.ts';
import { manifestHandlers } from './manifest-handlers.ts';
import { queryParam, v2Context, type V2Context } from './request-context.ts';
import { uploadHandlers } from './upload-handlers.ts';
import { matchV2Route, ROUTE_METHODS, type V2Route } from './v2-route.ts';

export interface DistributionPluginOptions {
  readonly registry: Registry;
  readonly access: DistributionAccess;
  readonly limits: ListingLimits;
}

const API_VERSION_HEADER = { 'docker-distribution-api-version': 'registry/2.0' } as const;

function isClientAbort(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || error.message === 'aborted';
}

/**
 * Route parts that are not names arrive percent-encoded from some clients
 * (`sha256%3A...`); names are left encoded, so that `%2F` can never make a
 * second path component and fails the name grammar instead.
 */
function decodeRoute(route: V2Route): V2Route {
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new OciError('UNSUPPORTED', `malformed percent-encoding in ${JSON.stringify(part.slice(0, 100))}`, { status: 400 });
    }
  };
  switch (route.kind) {
    case 'upload':
      return { ...route, id: decode(route.id) };
    case 'blob':
    case 'referrers':
      return { ...route, digest: decode(route.digest) };
    case 'manifest':
      return { ...route, reference: decode(route.reference) };
    default:
      return route;
  }
}

/** The verb the authorizer is asked about for a route and method. */
function verbOf(route: V2Route, method: string): RegistryVerb {
  if (route.kind === 'catalog') return 'catalog';
  if (method === 'DELETE') return route.kind === 'upload' ? 'push' : 'delete';
  if (method === 'GET' || method === 'HEAD') return route.kind === 'upload' ? 'push' : 'pull';
  return 'push';
}

function renderError(reply: FastifyReply, error: OciError): FastifyReply {
  return reply.code(error.status).headers(API_VERSION_HEADER).type('application/json').send({
    errors: [{ code: error.code, message: error.message, ...(error.detail === undefined ? {} : { detail: error.detail }) }],
  });
}

/** Errors that are not the registry's own (a client that hung up, a Fastify parser error) in OCI form. */
function toOciError(error: FastifyError | Error): OciError {
  if (error instanceof OciError) return error;
  if (isClientAbort(error)) return new OciError('BLOB_UPLOAD_INVALID', 'the client closed the connection before the body was complete');
  const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
  if (status === 413) return new OciError('SIZE_INVALID', error.message, { status });
  if (status >= 400 && status < 500) return new OciError('UNSUPPORTED', error.message, { status });
  return new OciError('UNKNOWN', 'internal error', { status: 500 });
}

/**
 * The OCI Distribution API under /v2 as one encapsulated Fastify plugin:
 * its own body handling (raw streams), hooks, error handler and routes.
 */
export async function distributionPlugin(app: FastifyInstance, options: DistributionPluginOptions): Promise<void> {
  const { registry, access } = options;
  const blobs = blobHandlers(registry);
  const uploads = uploadHandlers(registry);
  const manifests = manifestHandlers(registry);
  const canPull = async (request: FastifyRequest, name: string) => access.allows(v2Context(request).authentication, 'pull', parseRepositoryName(name));
  const listing = listingHandlers(registry, options.limits, {
    scope: async (request) => access.catalogScope(v2Context(request).authentication),
    visible: async (request, name) => access.visible(v2Context(request).authentication, parseRepositoryName(name)),
  });

  // Bodies are streamed by the handlers themselves (blobs can be gigabytes); never parsed here.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, undefined));
  app.decorateRequest('v2', null);

  app.addHook('onRequest', async (request, reply) => {
    reply.headers(API_VERSION_HEADER);
    const path = request.url.split('?', 1)[0] ?? '';
    const route = matchV2Route(path.replace(/^\/v2\/?/, ''));
    if (route === undefined) throw new OciError('NAME_UNKNOWN', `no /v2 endpoint at ${path.slice(0, 300)}`, { status: 404 });
    if (!ROUTE_METHODS[route.kind].includes(request.method)) {
      reply.header('allow', ROUTE_METHODS[route.kind].join(', '));
      throw new OciError('UNSUPPORTED', `${request.method} is not supported on this endpoint`);
    }
    const decoded = decodeRoute(route);
    const repository: RepositoryName | undefined = 'name' in decoded ? parseRepositoryName(decoded.name) : undefined;
    const requestedName = 'name' in decoded ? decoded.name : undefined;
    const authentication = await access.authenticate(request, reply);
    const context: V2Context = { route: decoded, repository, requestedName, authentication, principal: authentication.principal, mountSourceReadable: false, log: {} };
    request.v2 = context;
  });

  app.addHook('preHandler', async (request, reply) => {
    const context = v2Context(request);
    if (context.route.kind === 'base') return access.requireAuthenticated(request, reply, context.authentication);
    const verb = verbOf(context.route, request.method);
    const repository = context.repository;
    if (!(await access.allows(context.authentication, verb, repository))) {
      throw await access.denial(request, reply, context.authentication, verb, repository);
    }
    if (verb === 'push' && repository !== undefined) await access.beforePush(request, context.authentication, repository);
    const from = context.route.kind === 'uploads' ? queryParam(request, 'from') : undefined;
    // A source that is not a valid name is one we cannot mount from: the spec's answer is a normal session.
    if (from !== undefined) context.mountSourceReadable = await canPull(request, from).catch(() => false);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const oci = toOciError(error);
    if (oci.status >= 500) request.log.error({ err: error }, 'request failed');
    else if (isClientAbort(error)) request.log.info({ reason: error.message }, 'client went away');
    // A HEAD answer carries no body: the status and headers are the whole answer.
    if (request.method === 'HEAD') return reply.code(oci.status).headers(API_VERSION_HEADER).send();
    return renderError(reply, oci);
  });

  app.setNotFoundHandler((request, reply) => renderError(reply, new OciError('NAME_UNKNOWN', `no /v2 endpoint at ${request.url.slice(0, 300)}`, { status: 404 })));

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const route = v2Context(request).route;
    const method = request.method;
    switch (route.kind) {
      case 'base':
        return reply.code(200).type('application/json').send('{}');
      case 'catalog':
        return listing.catalog(request, reply);
      case 'tags':
        return listing.tags(request, reply);
      case 'referrers':
        return listing.referrers(request, reply, route.digest);
      case 'uploads':
        return uploads.start(request, reply);
      case 'upload':
        if (method === 'GET') return uploads.status(request, reply, route.id);
        if (method === 'PATCH') return uploads.patch(request, reply, route.id);
        if (method === 'PUT') return uploads.complete(request, reply, route.id);
        return uploads.cancel(request, reply, route.id);
      case 'blob':
        if (method === 'HEAD') return blobs.head(request, reply, route.digest);
        if (method === 'GET') return blobs.get(request, reply, route.digest);
        return blobs.delete(request, reply, route.digest);
      case 'manifest':
        if (method === 'HEAD') return manifests.head(request, reply, route.reference);
        if (method === 'GET') return manifests.get(request, reply, route.reference);
        if (method === 'PUT') return manifests.put(request, reply, route.reference);
        return manifests.delete(request, reply, route.reference);
    }
  };

  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
  app.route({ method: [...methods], url: '/v2', handler, exposeHeadRoute: false });
  app.route({ method: [...methods], url: '/v2/*', handler, exposeHeadRoute: false });
}
