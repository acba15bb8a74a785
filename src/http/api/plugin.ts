import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { AccessError } from '../../authz/access-errors.ts';
import type { AccessService } from '../../authz/access-service.ts';
import type { Authorizer } from '../../authz/authorizer.ts';
import { AuthenticationError, type Authentication, type Authenticator } from '../../identity/authenticator.ts';
import { secretKind } from '../../identity/secret-tokens.ts';
import type { ImageStreamService } from '../../imagestreams/image-stream-service.ts';
import type { ImageImporter, PullSecrets } from '../../imagestreams/import-contract.ts';
import type { Metadata } from '../../metadata/stores.ts';
import { denialLogged, logDenial, requestPath } from '../denial-log.ts';
import { identityRoutes } from './identity-routes.ts';
import { signingKeyRoutes } from './signing-key-routes.ts';
import type { SigningKeys } from '../../identity/signing-keys.ts';
import { imageStreamRoutes } from './imagestreams/image-stream-routes.ts';
import { projectRoutes } from './project-routes.ts';
import { selfAccessReviewRoutes } from './self-access-review-routes.ts';
import { router } from './route-kit.ts';
import { ApiError, failureStatus, STATUS_REASONS, type StatusReason } from './status.ts';

/** Where the plugin mounts itself: every route is under this path. */
export const API_PREFIX = '/apis';
/** The API group and version below {@link API_PREFIX}. */
export const API_GROUP_VERSION = '/berth.dev/v1';
/** The largest JSON body accepted (htpasswd imports are the biggest bodies). */
export const MAX_BODY_BYTES = 1024 * 1024;

export interface ApiPluginOptions {
  readonly access: AccessService;
  readonly authorizer: Authorizer;
  readonly authenticator: Authenticator;
  /** Kept for the routes that will need stores directly (image streams, webhooks); access goes through `access`. */
  readonly metadata: Metadata;
  /**
   * The server's external URL (`https://registry.example.com`), for the
   * `WWW-Authenticate` realm; by default the request's own scheme and Host.
   */
  readonly externalUrl?: string | undefined;
  /** Image streams, tags and images (docs/api.md "Image streams"); absent: none of their routes is mounted. */
  readonly imageStreams?: ImageStreamService | undefined;
  /** `POST …/imagestreams/{name}/import`; absent: that route is not mounted. */
  readonly importer?: ImageImporter | undefined;
  /** `…/secrets`; absent: those routes are not mounted. */
  readonly pullSecrets?: PullSecrets | undefined;
  /** `/signingkeys` (list, rotate); absent: not mounted. */
  readonly signingKeys?: SigningKeys | undefined;
}

/** Fastify's own errors (parser, limits) carry a status code; nothing else is trusted to. */
function fastifyStatus(error: FastifyError | Error): number | undefined {
  return 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : undefined;
}

const REASON_BY_CODE: ReadonlyMap<number, StatusReason> = new Map(
  (Object.entries(STATUS_REASONS) as [StatusReason, number][]).filter(([reason]) => reason !== 'Conflict').map(([reason, code]) => [code, reason]),
);

/**
 * The Kubernetes-style resource API as one encapsulated Fastify plugin.
 *
 * Register it WITHOUT a prefix (`app.register(apiPlugin, options)`): it
 * mounts itself under `/apis` (its routes are `/apis/berth.dev/v1/...`), so
 * that its 404 handler, JSON parser, hooks and error handler cover exactly
 * `/apis/*` and nothing else.
 *
 * Authentication: `Authorization` as the Authenticator reads it (none is
 * anonymous), plus `Bearer berth_sa_…` (a service-account token sent as a
 * bearer token). Registry tokens from `/v2/token` are refused here: they
 * carry a /v2 scope, and accepting them would let a token handed to a
 * registry client manage the caller's projects.
 */
export async function apiPlugin(app: FastifyInstance, options: ApiPluginOptions): Promise<void> {
  await app.register(async (scope) => resourceApi(scope, options), { prefix: API_PREFIX });
}

async function resourceApi(app: FastifyInstance, options: ApiPluginOptions): Promise<void> {
  const { access, authorizer, authenticator } = options;
  const authentications = new WeakMap<FastifyRequest, Authentication>();
  const challenge = (request: FastifyRequest): string => {
    const base = options.externalUrl ?? `${request.protocol}://${request.host}`;
    return `Bearer realm="${base.replace(/\/+$/, '')}/oauth/authorize"`;
  };

  // The /v2 plugin removed every parser in its own scope only; this scope
  // gets a JSON parser of its own, with its own size limit, and nothing else.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (_request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (error) {
      done(new ApiError('BadRequest', `the request body is not valid JSON: ${error instanceof Error ? error.message : String(error)}`), undefined);
    }
  });

  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const bearer = header !== undefined && /^bearer\s/i.test(header) ? header.slice(6).trim() : undefined;
    // Service-account tokens are accepted as bearer tokens too (the docs promise it; curl -H makes it the natural form).
    let authentication: Authentication;
    try {
      authentication =
        bearer !== undefined && secretKind(bearer) === 'serviceAccount'
          ? await authenticator.checkCredentials('', bearer, request.ip)
          : await authenticator.fromHeader(header, request.ip);
    } catch (error) {
      if (error instanceof AuthenticationError) {
        const reason = `${error.reason}: ${error.message}`;
        logDenial(request.log, { surface: 'apis', user: error.user ?? '', address: request.ip, verb: 'login', resource: `${request.method} ${requestPath(request)}`, reason }, error);
      }
      throw error;
    }
    if (authentication.method === 'registry-token') {
      const error = new ApiError('Unauthorized', 'a registry token (from /v2/token) is valid only for /v2: use an OAuth access token, a service-account token or a password');
      logDenial(request.log, { surface: 'apis', user: authentication.principal.name, address: request.ip, verb: 'login', resource: `${request.method} ${requestPath(request)}`, reason: error.message }, error);
      throw error;
    }
    authentications.set(request, authentication);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    const answer = toApiError(error);
    if (answer.code >= 500) request.log.error({ err: error, url: request.url }, 'request failed');
    // Refusals decided in a handler (a domain rule, a second authorizer check) are logged here; the
    // route and authentication hooks log their own where they know the verb.
    if ((answer.code === 401 || answer.code === 403) && !denialLogged(error)) {
      const user = authentications.get(request)?.principal.name ?? (error instanceof AuthenticationError ? error.user : undefined) ?? '';
      logDenial(request.log, { surface: 'apis', user, address: request.ip, verb: request.method, resource: requestPath(request), reason: answer.message });
    }
    const headers: Record<string, string> = { ...answer.headers };
    if (answer.code === 401 && headers['www-authenticate'] === undefined) headers['www-authenticate'] = challenge(request);
    return reply.code(answer.code).headers(headers).type('application/json').send(failureStatus(answer.reason, answer.message, answer.details));
  });

  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .type('application/json')
      .send(failureStatus('NotFound', `the server could not find the requested resource (${request.method} ${request.url.split('?', 1)[0]?.slice(0, 300) ?? ''})`)),
  );

  await app.register(
    async (v1) => {
      const route = router(v1, {
        authorizer,
        challenge,
        authenticationOf: (request) => {
          const authentication = authentications.get(request);
          if (authentication === undefined) throw new ApiError('InternalError', 'request reached a route without authentication');
          return authentication;
        },
      });
      projectRoutes(route, access);
      selfAccessReviewRoutes(route, authorizer, access);
      identityRoutes(route, access, authenticator);
      if (options.imageStreams !== undefined) imageStreamRoutes(route, { ...options, imageStreams: options.imageStreams });
      if (options.signingKeys !== undefined) signingKeyRoutes(route, options.signingKeys);
    },
    { prefix: API_GROUP_VERSION },
  );
}

/** Every error as the Status it is rendered as. */
function toApiError(error: FastifyError | Error): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof AccessError) {
    const { kind, name, field } = error.details;
    const causes = error.reason === 'Invalid' ? [{ reason: 'FieldValueInvalid', message: error.message, ...(field === undefined ? {} : { field }) }] : undefined;
    return new ApiError(error.reason, error.message, { kind, name, causes });
  }
  if (error instanceof AuthenticationError) {
    if (error.reason === 'rate-limited') {
      const retry = error.retryAfterSeconds ?? 60;
      return new ApiError('TooManyRequests', error.message, { retryAfterSeconds: retry }, { 'retry-after': String(retry) });
    }
    if (error.reason === 'unavailable') return new ApiError('ServiceUnavailable', error.message);
    return new ApiError('Unauthorized', error.message);
  }
  const status = fastifyStatus(error);
  if (status !== undefined && status >= 400 && status < 500) {
    return new ApiError(REASON_BY_CODE.get(status) ?? 'BadRequest', error.message);
  }
  return new ApiError('InternalError', 'internal error');
}
