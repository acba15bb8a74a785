/**
 * How a resource-API route is declared: its method and URL, zod schemas for
 * its params and body, the access it needs, and a handler that receives a
 * principal the authorizer has already allowed.
 *
 * Order per request: the plugin's onRequest authenticates; this route's
 * preHandler validates the params, then asks the authorizer (401 for the
 * anonymous principal, 403 for anyone else); the handler validates the body
 * (after authorization, so that nobody learns a request's shape rules
 * before being allowed to make it) and answers.
 */

import type { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Authorizer, Principal, RegistryVerb } from '../../authz/authorizer.ts';
import type { Authentication } from '../../identity/authenticator.ts';
import { logDenial, requestPath } from '../denial-log.ts';
import { ApiError, type StatusCause, type StatusDetails } from './status.ts';

/** What a route requires of the principal. */
export type AccessRule =
  /** Anybody, the anonymous principal included (the handler filters, e.g. lists of visible projects). */
  | { readonly kind: 'anyone' }
  /** Any authenticated principal. */
  | { readonly kind: 'authenticated'; readonly what: string }
  /**
   * The authorizer must allow `verb` in `project` (registry-wide, i.e. only
   * through a cluster binding, when `project` is absent). `what` completes
   * the denial message "<who> may not <what>".
   */
  | { readonly kind: 'verb'; readonly verb: RegistryVerb; readonly project?: string; readonly what: string; readonly details?: StatusDetails };

/** What a handler gets. */
export interface RouteContext<P, B> {
  readonly request: FastifyRequest;
  readonly reply: FastifyReply;
  readonly authentication: Authentication;
  /** Allowed by the route's access rule. */
  readonly principal: Principal;
  readonly params: P;
  /** The validated body (undefined for routes without a body schema). */
  readonly body: B;
}

/**
 * A handler's answer: a JSON object and its status (200 unless said), or a
 * stream of another media type that the handler goes on writing after it
 * returns (import progress as NDJSON); errors after that are the stream's.
 */
export type Answer =
  | { readonly status?: number; readonly body: object }
  | { readonly status?: number; readonly stream: Readable; readonly contentType: string };

export interface RouteSpec<P, B> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Relative to the plugin's prefix. */
  readonly url: string;
  readonly params: z.ZodType<P>;
  readonly body?: z.ZodType<B>;
  readonly access: (params: P) => AccessRule;
  readonly handle: (context: RouteContext<P, B>) => Promise<Answer>;
}

export interface RouterDeps {
  readonly authorizer: Authorizer;
  /** The request's authentication, as the plugin's onRequest hook resolved it. */
  readonly authenticationOf: (request: FastifyRequest) => Authentication;
  /** The `WWW-Authenticate` value of a 401 answer to this request. */
  readonly challenge: (request: FastifyRequest) => string;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let value = input;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

/** Zod issues as Status causes, fields as dotted paths (`metadata.name`); a missing field is `FieldValueRequired`. */
export function causesOf(error: z.ZodError, input: unknown): StatusCause[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.');
    const reason = issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined ? 'FieldValueRequired' : 'FieldValueInvalid';
    return { reason, message: issue.message, ...(field === '' ? {} : { field }) };
  });
}

function invalid(error: z.ZodError, input: unknown, kind: 'Invalid' | 'BadRequest'): ApiError {
  const causes = causesOf(error, input);
  const summary = causes.map((c) => (c.field === undefined ? c.message : `${c.field}: ${c.message}`)).join('; ');
  return new ApiError(kind, kind === 'Invalid' ? `the request is invalid: ${summary}` : summary, { causes });
}

/** How a denial names the principal. */
export function describePrincipal(principal: Principal): string {
  if (principal.kind === 'serviceaccount') return `service account ${JSON.stringify(principal.name)}`;
  if (principal.kind === 'anonymous') return 'anonymous';
  return `user ${JSON.stringify(principal.name)}`;
}

/** Returns the function that registers one route on `app` with its access check. */
export function router(app: FastifyInstance, deps: RouterDeps) {
  return function route<P, B = undefined>(spec: RouteSpec<P, B>): void {
    const parsedParams = new WeakMap<FastifyRequest, P>();
    const paramsOf = (request: FastifyRequest): P => {
      const cached = parsedParams.get(request);
      if (cached !== undefined) return cached;
      const result = spec.params.safeParse(request.params);
      // Path segments are the client's URL; a bad one is a bad request, not an invalid object.
      if (!result.success) throw invalid(result.error, request.params, 'BadRequest');
      parsedParams.set(request, result.data);
      return result.data;
    };

    app.route({
      method: spec.method,
      url: spec.url,
      preHandler: async (request) => {
        const principal = deps.authenticationOf(request).principal;
        const rule = spec.access(paramsOf(request));
        if (rule.kind === 'anyone') return;
        const allowed =
          rule.kind === 'authenticated'
            ? principal.kind !== 'anonymous'
            : await deps.authorizer.can(principal, rule.verb, rule.project === undefined ? undefined : { project: rule.project });
        if (allowed) return;
        const verb = rule.kind === 'verb' ? rule.verb : 'authenticated';
        const project = rule.kind === 'verb' ? rule.project : undefined;
        const reason =
          principal.kind === 'anonymous'
            ? `authentication required: anonymous users may not ${rule.what}`
            : `${describePrincipal(principal)} may not ${rule.what}`;
        const error =
          principal.kind === 'anonymous'
            ? new ApiError('Unauthorized', reason, undefined, { 'www-authenticate': deps.challenge(request) })
            : new ApiError('Forbidden', reason, rule.kind === 'verb' ? rule.details : undefined);
        const resource = project === undefined ? `${request.method} ${requestPath(request)}` : `project/${project}`;
        logDenial(request.log, { surface: 'apis', user: principal.name, address: request.ip, verb, resource, reason }, error);
        throw error;
      },
      handler: async (request, reply) => {
        let body = undefined as B;
        if (spec.body !== undefined) {
          if (request.body === undefined && !spec.body.safeParse(undefined).success) {
            throw new ApiError('BadRequest', 'this request needs a JSON body (Content-Type: application/json)');
          }
          const result = spec.body.safeParse(request.body);
          if (!result.success) throw invalid(result.error, request.body, 'Invalid');
          body = result.data;
        }
        const authentication = deps.authenticationOf(request);
        const answer = await spec.handle({ request, reply, authentication, principal: authentication.principal, params: paramsOf(request), body });
        if ('stream' in answer) return reply.code(answer.status ?? 200).type(answer.contentType).send(answer.stream);
        return reply.code(answer.status ?? 200).type('application/json').send(answer.body);
      },
    });
  };
}

/** The route-registering function {@link router} returns. */
export type RouteFn = ReturnType<typeof router>;
