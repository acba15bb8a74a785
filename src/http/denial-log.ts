/**
 * The one shape of a denial in the logs. Every refusal at a boundary (a
 * failed or rate-limited login, a request the authorizer refused, a token
 * request granted less than it asked for) writes exactly one line through
 * {@link logDenial}, at the surface that refused it, so that "who was
 * refused what, and why" is one query over `msg: "denied"` whatever the
 * surface: `/v2`, `/v2/token`, `/apis` or `/oauth`.
 */
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';

/** The API surfaces that refuse requests. */
export type DenialSurface = 'v2' | 'token' | 'apis' | 'oauth';

export interface Denial {
  readonly surface: DenialSurface;
  /**
   * Who: the principal's name (`system:anonymous` for nobody), or, when
   * authentication failed, the user name presented ('' when there was none,
   * e.g. an unknown token).
   */
  readonly user: string;
  /** The client address (`request.ip`: the peer, or the proxy's forwarded address when trusted). */
  readonly address: string;
  /**
   * What: a registry verb (`pull`, `push`, `manage-bindings`, …), `login`
   * for a refused authentication, or `token` for scopes narrowed at the
   * token endpoint.
   */
  readonly verb: string;
  /** Which object: a repository, `project/<name>`, the refused token scopes, or the request path; absent for registry-wide verbs. */
  readonly resource?: string | undefined;
  /** Why, in words (usually the message the client got). */
  readonly reason: string;
}

/** The longest resource written, so that a hostile URL cannot make a line huge. */
const MAX_RESOURCE = 300;

/** Errors whose denial was logged where it was decided, so a surface's error handler does not log them again. */
const logged = new WeakSet<Error>();

/**
 * Writes one structured denial line (level warn, `msg: "denied"`). Pass the
 * error the refusal is answered with, when there is one, so that
 * {@link denialLogged} knows it.
 */
export function logDenial(log: FastifyBaseLogger, denial: Denial, error?: Error): void {
  const resource = denial.resource === undefined ? undefined : denial.resource.slice(0, MAX_RESOURCE);
  log.warn({ surface: denial.surface, user: denial.user, address: denial.address, verb: denial.verb, resource, reason: denial.reason }, 'denied');
  if (error !== undefined) logged.add(error);
}

/** True when `error`'s denial was already logged by {@link logDenial}. */
export function denialLogged(error: Error): boolean {
  return logged.has(error);
}

/** The path of a request without its query (which may carry secrets), for `resource`. */
export function requestPath(request: FastifyRequest): string {
  return (request.url.split('?', 1)[0] ?? '').slice(0, MAX_RESOURCE);
}
