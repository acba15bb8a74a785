import { parse as parseQueryString } from 'node:querystring';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Authorizer } from '../../authz/authorizer.ts';
import { ANONYMOUS_AUTHENTICATION, AuthenticationError, type Authentication, type Authenticator } from '../../identity/authenticator.ts';
import { RegistryTokenError, type AccessEntry, type RegistryTokens } from '../../identity/registry-tokens.ts';
import type { SigningKeys } from '../../identity/signing-keys.ts';
import { OciError } from '../../oci/errors.ts';
import { logDenial } from '../denial-log.ts';

/** Exchanges a refresh token (the OAuth server's) for the user it belongs to, rotating it. */
export interface RefreshTokenExchange {
  /** Returns the user and a new refresh token; throws when the token is unknown, revoked, expired or reused. */
  exchange(refreshToken: string, clientId: string): Promise<{ userName: string; refreshToken: string }>;
  /** Issues a refresh token for a user who just proved who they are (docker's `offline_token`). */
  issueRefreshToken(userName: string, clientId: string): Promise<string>;
}

export interface TokenPluginOptions {
  readonly tokens: RegistryTokens;
  readonly keys: SigningKeys;
  readonly authenticator: Authenticator;
  readonly authorizer: Authorizer;
  readonly service: string;
  /** Refresh tokens for `grant_type=refresh_token` and `offline_token`; without it those are refused. */
  readonly refresh?: RefreshTokenExchange | undefined;
}

type Params = Record<string, string | string[] | undefined>;

function first(params: Params, name: string): string | undefined {
  const value = params[name];
  return Array.isArray(value) ? value[0] : value;
}

/** `scope` may be repeated, and each value may hold several space-separated scopes. */
function scopes(params: Params): string[] {
  const value = params['scope'];
  const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return list.flatMap((s) => s.split(' ')).filter((s) => s !== '');
}

/** What a token request asked for, for the denial log: its scopes (or, for a POST without any, its grant). */
function askedFor(request: FastifyRequest): string | undefined {
  const params = (request.method === 'POST' ? (request.body ?? {}) : request.query) as Params;
  const asked = scopes(params);
  if (asked.length > 0) return asked.join(' ');
  const grant = first(params, 'grant_type');
  return grant === undefined ? undefined : `grant_type=${grant.slice(0, 30)}`;
}

/** Refused token entries as scope strings (`repository:team/app:push`). */
function scopeStrings(entries: readonly AccessEntry[]): string {
  return entries.map((e) => `${e.type}:${e.name}:${e.actions.join(',')}`).join(' ');
}

/**
 * The Docker Registry v2 token endpoint (distribution "Token Authentication
 * Specification" and "OAuth2 Token Authentication"): `GET /v2/token` with
 * Basic credentials or none, `POST /v2/token` with the OAuth2 form that
 * docker and podman send, and the signing keys as JWKS.
 */
export async function tokenPlugin(app: FastifyInstance, options: TokenPluginOptions): Promise<void> {
  const { tokens, authenticator, authorizer, service } = options;

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    done(null, parseQueryString(String(body)));
  });

  app.setErrorHandler((error: Error, request, reply) => {
    if (error instanceof OciError) {
      return reply.code(error.status).send({ errors: [{ code: error.code, message: error.message }] });
    }
    if (error instanceof AuthenticationError) {
      logDenial(request.log, { surface: 'token', user: error.user ?? '', address: request.ip, verb: 'login', resource: askedFor(request), reason: `${error.reason}: ${error.message}` });
      if (error.reason === 'rate-limited') {
        reply.header('retry-after', String(error.retryAfterSeconds ?? 60));
        return reply.code(429).send({ errors: [{ code: 'TOOMANYREQUESTS', message: error.message }] });
      }
      if (error.reason === 'unavailable') return reply.code(503).send({ errors: [{ code: 'UNAVAILABLE', message: error.message }] });
      return reply.code(401).header('www-authenticate', 'Basic realm="berth"').send({ errors: [{ code: 'UNAUTHORIZED', message: error.message }] });
    }
    if (error instanceof RegistryTokenError) {
      return reply.code(400).send({ errors: [{ code: 'DENIED', message: error.message }] });
    }
    const status = 'statusCode' in error && typeof error.statusCode === 'number' && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) request.log.error({ err: error }, 'token request failed');
    return reply.code(status).send({ errors: [{ code: status === 500 ? 'UNKNOWN' : 'UNSUPPORTED', message: status === 500 ? 'internal error' : error.message }] });
  });

  const checkService = (params: Params) => {
    const asked = first(params, 'service');
    if (asked !== undefined && asked !== service) throw new OciError('DENIED', `this token service is for ${JSON.stringify(service)}, not ${JSON.stringify(asked.slice(0, 100))}`, { status: 400 });
  };

  const answer = async (request: FastifyRequest, reply: FastifyReply, authentication: Authentication, params: Params, refreshToken: string | undefined) => {
    const issued = await tokens.issue(authentication.principal, scopes(params), authorizer);
    // The token is still issued (the spec narrows rather than refuses); what was narrowed away is a denial.
    if (issued.refused.length > 0) {
      const granted = issued.access.length === 0 ? 'nothing' : scopeStrings(issued.access);
      logDenial(request.log, {
        surface: 'token',
        user: authentication.principal.name,
        address: request.ip,
        verb: 'token',
        resource: scopeStrings(issued.refused),
        reason: `scope narrowed: not allowed by the role bindings (granted ${granted})`,
      });
    }
    return reply.header('cache-control', 'no-store').send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt,
      ...(refreshToken === undefined ? {} : { refresh_token: refreshToken }),
    });
  };

  app.get('/v2/token', async (request: FastifyRequest, reply) => {
    const params = request.query as Params;
    checkService(params);
    const authentication = await authenticator.fromHeader(request.headers.authorization, request.ip);
    let refreshToken: string | undefined;
    const clientId = first(params, 'client_id') ?? 'docker';
    if (first(params, 'offline_token') === 'true' && authentication.principal.kind === 'user' && options.refresh !== undefined) {
      refreshToken = await options.refresh.issueRefreshToken(authentication.principal.name, clientId);
    }
    return answer(request, reply, authentication, params, refreshToken);
  });

  app.post('/v2/token', async (request: FastifyRequest, reply) => {
    const params = (request.body ?? {}) as Params;
    checkService(params);
    const grant = first(params, 'grant_type');
    const clientId = first(params, 'client_id') ?? 'docker';
    let authentication: Authentication = ANONYMOUS_AUTHENTICATION;
    let refreshToken: string | undefined;
    if (grant === 'password') {
      const username = first(params, 'username') ?? '';
      authentication = await authenticator.checkCredentials(username, first(params, 'password') ?? '', request.ip);
      if (first(params, 'access_type') === 'offline' && authentication.principal.kind === 'user' && options.refresh !== undefined) {
        refreshToken = await options.refresh.issueRefreshToken(authentication.principal.name, clientId);
      }
    } else if (grant === 'refresh_token') {
      if (options.refresh === undefined) throw new OciError('UNSUPPORTED', 'refresh tokens are not enabled', { status: 400 });
      const presented = first(params, 'refresh_token') ?? '';
      const exchanged = await options.refresh.exchange(presented, clientId).catch((error: unknown) => {
        throw new AuthenticationError('invalid-token', `refresh token refused: ${(error as Error).message}`);
      });
      authentication = { principal: await authenticator.userPrincipal(exchanged.userName), method: 'access-token' };
      refreshToken = exchanged.refreshToken;
    } else {
      throw new OciError('UNSUPPORTED', `unsupported grant_type ${JSON.stringify(String(grant).slice(0, 50))}: use password or refresh_token`, { status: 400 });
    }
    return answer(request, reply, authentication, params, refreshToken);
  });

  app.get('/v2/token/jwks', async (_request, reply) => reply.header('cache-control', 'max-age=60').send(await options.keys.jwks()));
}
