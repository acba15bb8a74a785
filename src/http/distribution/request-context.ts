import type { FastifyRequest } from 'fastify';
import type { Principal } from '../../authz/authorizer.ts';
import type { Authentication } from '../../identity/authenticator.ts';
import { OciError } from '../../oci/errors.ts';
import type { RepositoryName } from '../../oci/names.ts';
import type { V2Route } from './v2-route.ts';

/** What the /v2 hooks found out about a request before its handler runs. */
export interface V2Context {
  readonly route: V2Route;
  /** The validated, normalised repository of the route, when it has one. */
  readonly repository: RepositoryName | undefined;
  /**
   * The repository name as the client wrote it (`alpine` rather than
   * `library/alpine`), echoed in Location, Link and listings so that clients
   * follow URLs in the namespace their credentials were scoped to.
   */
  readonly requestedName: string | undefined;
  readonly authentication: Authentication;
  /** `authentication.principal`, the one every decision is about. */
  readonly principal: Principal;
  /** For a mount request: whether the principal may pull from the source repository. */
  mountSourceReadable: boolean;
  /** Extra fields for the one request log line. */
  readonly log: { digest?: string; reference?: string; bytes?: number };
}

declare module 'fastify' {
  interface FastifyRequest {
    v2: V2Context | null;
  }
}

export function v2Context(request: FastifyRequest): V2Context {
  if (request.v2 === null) throw new OciError('UNKNOWN', 'request reached a /v2 handler without its context');
  return request.v2;
}

/** The name to echo back to the client (see `V2Context.requestedName`). */
export function echoName(context: V2Context): string {
  return context.requestedName ?? requireRepository(context).name;
}

export function requireRepository(context: V2Context): RepositoryName {
  if (context.repository === undefined) throw new OciError('NAME_INVALID', 'this endpoint needs a repository name');
  return context.repository;
}

/** One query parameter as a string; repeated parameters are refused rather than guessed at. */
export function queryParam(request: FastifyRequest, name: string): string | undefined {
  const query = request.query as Record<string, string | string[] | undefined>;
  const value = query[name];
  if (Array.isArray(value)) throw new OciError('UNSUPPORTED', `query parameter ${name} given more than once`, { status: 400 });
  return value;
}

/** `n` of tags/list and _catalog: a non-negative integer, capped at `max`. */
export function pageSize(request: FastifyRequest, max: number): number {
  const text = queryParam(request, 'n');
  if (text === undefined || text === '') return max;
  if (!/^\d+$/.test(text)) throw new OciError('PAGINATION_NUMBER_INVALID', `n must be a non-negative integer, not ${JSON.stringify(text.slice(0, 50))}`);
  return Math.min(Number(text), max);
}

/** True when the request carries a body (a length above zero, or chunked transfer encoding). */
export function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return request.headers['transfer-encoding'] !== undefined;
}
