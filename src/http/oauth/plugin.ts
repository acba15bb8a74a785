/**
 * The built-in OAuth 2 authorization server as one encapsulated Fastify
 * plugin: the authorization endpoint with its login page (authorization
 * code + PKCE S256, RFC 6749 §4.1, RFC 7636), the token endpoint (§5),
 * revocation (RFC 7009), the token request page for `berth login --token`,
 * and the server metadata (RFC 8414).
 *
 * Short-lived state (pending logins, authorization codes, token displays) is
 * kept in memory per process (see ephemeral-store.ts); tokens themselves are
 * stored hashed through OAuthTokenService.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { IdentityClaims, IdentityProvider } from '../../identity/identity-provider.ts';
import { logDenial, requestPath } from '../denial-log.ts';
import { PasswordProviderChain } from '../../identity/password-providers.ts';
import type { LoginRateLimiter } from '../../identity/login-rate-limiter.ts';
import { OAuthError, type IssuedTokens, type OAuthErrorCode, type OAuthTokenService } from '../../identity/oauth-token-service.ts';
import { systemClock, type Clock } from '../../registry/clock.ts';
import { CLI_CLIENT_ID, isRegisteredRedirect, OAUTH_GRANT_TYPES, type OAuthClient, type OAuthGrantType } from './clients.ts';
import { EphemeralStore } from './ephemeral-store.ts';
import { errorPage, loginPage, tokenPage } from './pages.ts';
import { isS256Challenge, verifyS256 } from './pkce.ts';

export { defaultOAuthClients, type OAuthClient } from './clients.ts';

export interface OAuthPluginOptions {
  /** Issues, rotates and revokes the access and refresh tokens. */
  readonly tokens: OAuthTokenService;
  /** Tried in order on each login; only `password` providers are offered until redirect providers are implemented. */
  readonly providers: readonly IdentityProvider[];
  /** Counts failed logins per user name and per client address (shared with the other login paths). */
  readonly limiter: LoginRateLimiter;
  /** The registered clients (see {@link defaultOAuthClients}); any other `client_id` is refused. */
  readonly clients: readonly OAuthClient[];
  /** The server's external URL (`https://registry.example.com:5000`): the `issuer`, and the base of every endpoint URL. */
  readonly issuerUrl: string;
  /** Defaults to the system clock. */
  readonly clock?: Clock;
}

/** Authorization codes live 60 s (RFC 6749 §4.1.2 recommends at most 10 minutes). */
const CODE_TTL_MS = 60_000;
/** A used code is remembered this long so that a replay can revoke what it issued (§4.1.2). */
const USED_CODE_TTL_MS = 10 * 60_000;
/** How long a login page stays usable. */
const PENDING_LOGIN_TTL_MS = 10 * 60_000;
/** How long a token waits to be displayed after the login that issued it (one redirect away). */
const DISPLAY_TTL_MS = 2 * 60_000;
const MAX_PENDING = 10_000;
const BODY_LIMIT = 16 * 1024;
const BROWSER_COOKIE = 'berth_oauth_browser';

/** RFC 6749 §3.3 scope-token, space-separated. */
const SCOPE = /^[\x21\x23-\x5B\x5D-\x7E]+( [\x21\x23-\x5B\x5D-\x7E]+)*$/;

const text = (max: number) => z.string().max(max);
const authorizeQuerySchema = z.object({
  response_type: text(100).optional(),
  client_id: text(200).optional(),
  redirect_uri: text(2000).optional(),
  code_challenge: text(200).optional(),
  code_challenge_method: text(50).optional(),
  state: text(2000).optional(),
  scope: text(1000).optional(),
});
const loginFormSchema = z.object({
  csrf_token: text(200),
  username: text(256),
  password: text(1024),
});
const tokenFormSchema = z.object({
  grant_type: text(200).optional(),
  client_id: text(200).optional(),
  code: text(200).optional(),
  redirect_uri: text(2000).optional(),
  code_verifier: text(200).optional(),
  username: text(256).optional(),
  password: text(1024).optional(),
  refresh_token: text(200).optional(),
  scope: text(1000).optional(),
});
const revokeFormSchema = z.object({
  token: text(200).optional(),
  token_type_hint: text(100).optional(),
  client_id: text(200).optional(),
});
const displayQuerySchema = z.object({ id: text(200).optional() });

/** A login page that has been shown and not yet completed. */
interface PendingLogin {
  readonly purpose: 'authorize' | 'token-request';
  /** The browser cookie value the form must come back with (ties the form to the browser that opened it). */
  readonly browser: string;
  readonly authorization?: {
    readonly client: OAuthClient;
    readonly redirectUri: string;
    readonly codeChallenge: string;
    readonly state: string | undefined;
    readonly scope: string;
  };
}

interface AuthorizationCode {
  readonly clientId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly userName: string;
  readonly scope: string;
  readonly used: boolean;
  /** The tokens issued for it, so that a replay can revoke them. */
  readonly family?: string;
}

interface TokenDisplay {
  readonly browser: string;
  readonly userName: string;
  readonly token: string;
  readonly expiresAt: number;
}

/** A refusal rendered as an HTML page (browser endpoints) rather than as OAuth JSON. */
class OAuthPageError extends Error {
  override readonly name = 'OAuthPageError';
  readonly status: number;
  readonly title: string;
  constructor(status: number, title: string, message: string) {
    super(message);
    this.status = status;
    this.title = title;
  }
}

/** Status of each OAuth error on the token and revocation endpoints (RFC 6749 §5.2). */
function statusOf(error: OAuthError): number {
  if (error.retryAfterSeconds !== undefined) return 429;
  const byCode: Partial<Record<OAuthErrorCode, number>> = { invalid_client: 401, server_error: 500, temporarily_unavailable: 503 };
  return byCode[error.code] ?? 400;
}

function opaqueId(): string {
  return randomBytes(32).toString('base64url');
}

function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Request parameters must not repeat (RFC 6749 §3.1, §3.2): a repeated one
 * is refused rather than guessing which value counts.
 */
function singleValued(input: unknown, where: string): Record<string, string> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object') throw new OAuthError('invalid_request', `${where} must be form parameters`);
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(input)) {
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `parameter ${JSON.stringify(key.slice(0, 50))} must be given once, as a string`);
    out[key] = value;
  }
  return out;
}

function parseWith<T>(schema: z.ZodType<T>, input: unknown, where: string): T {
  const result = schema.safeParse(singleValued(input, where));
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new OAuthError('invalid_request', `${issue?.path.join('.') ?? where}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

/** The endpoints that answer in JSON; the rest are pages for a browser. */
function isJsonEndpoint(request: FastifyRequest): boolean {
  const url = request.routeOptions.url ?? request.url.split('?', 1)[0];
  return url === '/oauth/token' || url === '/oauth/revoke' || url === '/.well-known/oauth-authorization-server';
}

/** Headers every answer of this plugin carries: nothing is cached, framed or leaks a Referer. */
const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  // No scripts at all; inline styles only. No form-action: the login form's
  // redirect to the client's (loopback) redirect_uri would be blocked by it.
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
} as const;

/**
 * Registers the OAuth server under `/oauth` and its metadata under
 * `/.well-known/oauth-authorization-server`. Encapsulated: its own body
 * parsers (form and JSON, 16 KiB), hooks and error handler.
 */
export async function oauthPlugin(app: FastifyInstance, options: OAuthPluginOptions): Promise<void> {
  const { tokens, limiter } = options;
  const clock = options.clock ?? systemClock;
  const issuer = options.issuerUrl.replace(/\/+$/, '');
  const secureCookie = issuer.startsWith('https:');
  const clients = new Map(options.clients.map((c) => [c.id, c]));
  const chain = new PasswordProviderChain(options.providers);
  const passwordProviders = chain.providers;
  const pending = new EphemeralStore<PendingLogin>({ clock, maxEntries: MAX_PENDING });
  const codes = new EphemeralStore<AuthorizationCode>({ clock, maxEntries: MAX_PENDING });
  const displays = new EphemeralStore<TokenDisplay>({ clock, maxEntries: MAX_PENDING });

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    const params = new URLSearchParams(String(body));
    const out: Record<string, string | string[]> = {};
    for (const [key, value] of params) {
      const seen = out[key];
      out[key] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
    }
    done(null, out);
  });
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_request, body, done) => {
    try {
      done(null, JSON.parse(String(body)) as unknown);
    } catch {
      done(new OAuthError('invalid_request', 'the body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', async (_request, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (isJsonEndpoint(request)) {
      let oauth: OAuthError;
      let status: number;
      if (error instanceof OAuthError) {
        oauth = error;
        status = statusOf(error);
      } else {
        // Fastify's own refusals (body too large, unsupported media type) keep their status.
        status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
        if (status >= 500) request.log.error({ err: error }, 'oauth request failed');
        oauth = status >= 500 ? new OAuthError('server_error', 'internal error') : new OAuthError('invalid_request', error.message);
        if (status >= 500) status = 500;
      }
      if (oauth.retryAfterSeconds !== undefined) reply.header('retry-after', String(oauth.retryAfterSeconds));
      if (oauth.code === 'invalid_client' && request.headers.authorization !== undefined) reply.header('www-authenticate', 'Basic realm="berth"');
      return reply.code(status).type('application/json').send({ error: oauth.code, error_description: oauth.message });
    }
    let page: OAuthPageError;
    if (error instanceof OAuthPageError) page = error;
    else if (error instanceof OAuthError) page = new OAuthPageError(400, 'Invalid request', error.message);
    else {
      const status = 'statusCode' in error && typeof error.statusCode === 'number' ? error.statusCode : 500;
      if (status >= 500) request.log.error({ err: error }, 'oauth page failed');
      page = status >= 500 ? new OAuthPageError(500, 'Something went wrong', 'The server could not complete the sign-in.') : new OAuthPageError(status, 'Invalid request', error.message);
    }
    return reply.code(page.status).type('text/html; charset=utf-8').send(errorPage(page.title, page.message));
  });

  /** The browser's binding cookie: reused when present, so several tabs can log in at once. */
  const browserId = (request: FastifyRequest, reply: FastifyReply): string => {
    const existing = cookieValue(request, BROWSER_COOKIE);
    if (existing !== undefined && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
    const id = opaqueId();
    reply.header('set-cookie', `${BROWSER_COOKIE}=${id}; Path=/oauth; HttpOnly; SameSite=Lax; Max-Age=${PENDING_LOGIN_TTL_MS / 1000}${secureCookie ? '; Secure' : ''}`);
    return id;
  };

  const html = (reply: FastifyReply, status: number, body: string) => reply.code(status).type('text/html; charset=utf-8').send(body);

  const showLogin = (reply: FastifyReply, csrfToken: string, login: PendingLogin, extra: { status?: number; error?: string; username?: string } = {}) => {
    if (passwordProviders.length === 0) throw new OAuthPageError(503, 'Sign-in unavailable', 'No password identity provider is configured on this server.');
    const action = login.purpose === 'authorize' ? '/oauth/authorize' : '/oauth/token/request';
    return html(reply, extra.status ?? 200, loginPage({
      action,
      csrfToken,
      providers: passwordProviders.map((p) => p.displayName),
      ...(login.authorization === undefined ? {} : { clientName: login.authorization.client.displayName }),
      ...(extra.error === undefined ? {} : { error: extra.error }),
      ...(extra.username === undefined ? {} : { username: extra.username }),
    }));
  };

  /**
   * Asks the password providers in order (the same chain as Basic
   * credentials on /v2 and /apis). `undefined` means refused by all; if none
   * vouched and one could not answer, the caller is told to retry instead of
   * being counted as a failed login.
   */
  const authenticate = async (request: FastifyRequest, username: string, password: string): Promise<IdentityClaims | 'unavailable' | undefined> => {
    const checked = await chain.check(username, password);
    if (checked.outcome === 'accepted') return checked.claims;
    if (checked.outcome === 'refused') return undefined;
    for (const error of checked.errors) request.log.error({ err: error, provider: error.provider }, 'identity provider unavailable');
    return 'unavailable';
  };

  const redirectWith = (reply: FastifyReply, redirectUri: string, params: Record<string, string | undefined>) => {
    const url = new URL(redirectUri);
    for (const [key, value] of Object.entries(params)) if (value !== undefined) url.searchParams.set(key, value);
    // RFC 9207: the issuer in the response lets a client that talks to several servers detect mix-up.
    url.searchParams.set('iss', issuer);
    return reply.code(302).header('location', url.toString()).send();
  };

  // --- authorization endpoint (RFC 6749 §4.1.1) ---------------------------

  app.get('/oauth/authorize', async (request, reply) => {
    let query: z.infer<typeof authorizeQuerySchema>;
    try {
      query = parseWith(authorizeQuerySchema, request.query, 'query');
    } catch (error) {
      throw new OAuthPageError(400, 'Invalid request', error instanceof Error ? error.message : 'invalid query');
    }
    // Until client and redirect URI are known good, errors are pages: redirecting
    // to an unchecked URI would make this an open redirector (§4.1.2.1).
    const client = query.client_id === undefined ? undefined : clients.get(query.client_id);
    if (client === undefined) throw new OAuthPageError(400, 'Unknown application', `There is no OAuth client ${JSON.stringify(query.client_id ?? '')} on this server.`);
    if (query.redirect_uri === undefined || !isRegisteredRedirect(client, query.redirect_uri)) {
      request.log.warn({ client: client.id, redirectUri: query.redirect_uri?.slice(0, 300) }, 'authorization refused: unregistered redirect_uri');
      throw new OAuthPageError(400, 'Invalid redirect URI', `The redirect URI is not registered for ${client.displayName}.`);
    }
    const redirectUri = query.redirect_uri;
    const fail = (error: OAuthErrorCode, description: string) => {
      request.log.warn({ client: client.id, error, reason: description }, 'authorization refused');
      return redirectWith(reply, redirectUri, { error, error_description: description, state: query.state });
    };
    if (query.response_type !== 'code') return fail('unsupported_response_type', 'response_type must be code');
    if (!client.grantTypes.includes('authorization_code')) return fail('unauthorized_client', 'this client may not use the authorization code grant');
    if (query.code_challenge === undefined) return fail('invalid_request', 'code_challenge is required (PKCE, S256)');
    if (query.code_challenge_method !== 'S256') return fail('invalid_request', 'code_challenge_method must be S256');
    if (!isS256Challenge(query.code_challenge)) return fail('invalid_request', 'code_challenge must be 43 base64url characters');
    const scope = query.scope ?? '';
    if (scope !== '' && !SCOPE.test(scope)) return fail('invalid_scope', 'scope is malformed');

    const login: PendingLogin = {
      purpose: 'authorize',
      browser: browserId(request, reply),
      authorization: { client, redirectUri, codeChallenge: query.code_challenge, state: query.state, scope },
    };
    const csrfToken = opaqueId();
    pending.set(csrfToken, login, PENDING_LOGIN_TTL_MS);
    return showLogin(reply, csrfToken, login);
  });

  /** The login form's POST, for both the authorization endpoint and the token request page. */
  const submitLogin = async (request: FastifyRequest, reply: FastifyReply, purpose: PendingLogin['purpose']) => {
    let form: z.infer<typeof loginFormSchema>;
    try {
      form = parseWith(loginFormSchema, request.body, 'form');
    } catch (error) {
      throw new OAuthPageError(400, 'Invalid request', error instanceof Error ? error.message : 'invalid form');
    }
    const login = pending.get(form.csrf_token);
    if (login === undefined || login.purpose !== purpose) {
      throw new OAuthPageError(400, 'Sign-in expired', 'This sign-in page has expired or was already used.');
    }
    const browser = cookieValue(request, BROWSER_COOKIE);
    if (browser === undefined || !sameSecret(browser, login.browser)) {
      logDenial(request.log, { surface: 'oauth', user: form.username, address: request.ip, verb: 'login', resource: requestPath(request), reason: 'the sign-in form was not opened in this browser' });
      throw new OAuthPageError(403, 'Sign-in refused', 'This sign-in form was not opened in this browser. Start again.');
    }
    const client = login.authorization?.client.id ?? CLI_CLIENT_ID;
    const address = request.ip;
    if (limiter.isLimited(form.username, address)) {
      const retryAfter = limiter.retryAfterSeconds(form.username, address);
      logDenial(request.log, { surface: 'oauth', user: form.username, address, verb: 'login', resource: `client ${client}`, reason: `rate-limited: too many failed logins, retry in ${retryAfter} s` });
      reply.header('retry-after', String(retryAfter));
      return showLogin(reply, form.csrf_token, login, { status: 429, username: form.username, error: `Too many failed sign-ins. Try again in ${retryAfter} seconds.` });
    }
    const claims = await authenticate(request, form.username, form.password);
    if (claims === 'unavailable') {
      return showLogin(reply, form.csrf_token, login, { status: 503, username: form.username, error: 'Sign-in is unavailable right now. Try again later.' });
    }
    if (claims === undefined) {
      limiter.recordFailure(form.username, address);
      logDenial(request.log, { surface: 'oauth', user: form.username, address, verb: 'login', resource: `client ${client}`, reason: 'invalid-credentials: invalid user name or password' });
      return showLogin(reply, form.csrf_token, login, { username: form.username, error: 'Invalid user name or password.' });
    }
    pending.delete(form.csrf_token);

    if (login.authorization !== undefined) {
      const auth = login.authorization;
      const code = opaqueId();
      codes.set(sha256(code), {
        clientId: auth.client.id, redirectUri: auth.redirectUri, codeChallenge: auth.codeChallenge, userName: claims.userName, scope: auth.scope, used: false,
      }, CODE_TTL_MS);
      request.log.info({ user: claims.userName, client }, 'authorization code issued');
      return redirectWith(reply, auth.redirectUri, { code, state: auth.state });
    }
    const issued = await tokens.issueAccessToken(claims.userName, CLI_CLIENT_ID, '');
    const displayId = opaqueId();
    displays.set(displayId, { browser: login.browser, userName: claims.userName, token: issued.accessToken, expiresAt: issued.expiresAt }, DISPLAY_TTL_MS);
    request.log.info({ user: claims.userName, client }, 'access token issued for display');
    // POST-redirect-GET: the token is rendered by a GET that a reload or the
    // back button cannot repeat, and neither URL carries the token itself.
    return reply.code(303).header('location', `/oauth/token/display?id=${displayId}`).send();
  };

  app.post('/oauth/authorize', async (request, reply) => submitLogin(request, reply, 'authorize'));

  // --- token request page (`berth login --token`) --------------------------

  app.get('/oauth/token/request', async (request, reply) => {
    const login: PendingLogin = { purpose: 'token-request', browser: browserId(request, reply) };
    const csrfToken = opaqueId();
    pending.set(csrfToken, login, PENDING_LOGIN_TTL_MS);
    return showLogin(reply, csrfToken, login);
  });

  app.post('/oauth/token/request', async (request, reply) => submitLogin(request, reply, 'token-request'));

  app.get('/oauth/token/display', async (request, reply) => {
    const query = parseWith(displayQuerySchema, request.query, 'query');
    const display = query.id === undefined ? undefined : displays.take(query.id);
    const browser = cookieValue(request, BROWSER_COOKIE);
    if (display === undefined || browser === undefined || !sameSecret(browser, display.browser)) {
      throw new OAuthPageError(404, 'Token no longer available', 'This token was already shown, or the page expired. Request a new token.');
    }
    return html(reply, 200, tokenPage({ userName: display.userName, token: display.token, serverUrl: issuer, expiresAt: display.expiresAt }));
  });

  // --- token endpoint (RFC 6749 §3.2, §5) ----------------------------------

  /** client_id from the form, or from HTTP Basic with an empty secret (§2.3.1); public clients only. */
  const clientOf = (request: FastifyRequest, formClientId: string | undefined): OAuthClient => {
    let clientId = formClientId;
    const header = request.headers.authorization;
    if (header !== undefined && /^basic /i.test(header)) {
      const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      let basicId: string;
      try {
        basicId = decodeURIComponent((colon === -1 ? decoded : decoded.slice(0, colon)).replace(/\+/g, ' '));
      } catch {
        throw new OAuthError('invalid_request', 'malformed client_id in the Authorization header');
      }
      if (clientId !== undefined && clientId !== basicId) throw new OAuthError('invalid_request', 'client_id differs from the Authorization header');
      clientId = basicId;
    }
    if (clientId === undefined || clientId === '') throw new OAuthError('invalid_request', 'client_id is required');
    const client = clients.get(clientId);
    if (client === undefined) throw new OAuthError('invalid_client', 'unknown client');
    return client;
  };

  const required = (value: string | undefined, name: string): string => {
    if (value === undefined || value === '') throw new OAuthError('invalid_request', `${name} is required`);
    return value;
  };

  const exchangeCode = async (client: OAuthClient, form: z.infer<typeof tokenFormSchema>): Promise<IssuedTokens> => {
    const codeHash = sha256(required(form.code, 'code'));
    const redirectUri = required(form.redirect_uri, 'redirect_uri');
    const verifier = required(form.code_verifier, 'code_verifier');
    const entry = codes.get(codeHash);
    if (entry === undefined) throw new OAuthError('invalid_grant', 'the authorization code is unknown or expired');
    if (entry.used) {
      // §4.1.2: a code used twice may have been stolen; revoke what it issued.
      codes.delete(codeHash);
      if (entry.family !== undefined) await tokens.revokeFamily(entry.family);
      throw new OAuthError('invalid_grant', 'the authorization code was already used');
    }
    // Marked used before any await, so concurrent requests cannot both redeem it;
    // a failed attempt uses it up too (one guess at the verifier per code).
    codes.set(codeHash, { ...entry, used: true }, USED_CODE_TTL_MS);
    if (entry.clientId !== client.id) throw new OAuthError('invalid_grant', 'the authorization code was issued to another client');
    if (entry.redirectUri !== redirectUri) throw new OAuthError('invalid_grant', 'redirect_uri differs from the authorization request');
    if (!verifyS256(verifier, entry.codeChallenge)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge');
    const issued = await tokens.issue(entry.userName, client.id, entry.scope);
    codes.set(codeHash, { ...entry, used: true, family: issued.family }, USED_CODE_TTL_MS);
    return issued;
  };

  const passwordGrant = async (request: FastifyRequest, client: OAuthClient, form: z.infer<typeof tokenFormSchema>): Promise<IssuedTokens> => {
    const username = required(form.username, 'username');
    const password = required(form.password, 'password');
    const scope = form.scope ?? '';
    if (scope !== '' && !SCOPE.test(scope)) throw new OAuthError('invalid_scope', 'scope is malformed');
    const address = request.ip;
    if (limiter.isLimited(username, address)) {
      throw new OAuthError('temporarily_unavailable', 'too many failed logins: try again later', { retryAfterSeconds: limiter.retryAfterSeconds(username, address) });
    }
    const claims = await authenticate(request, username, password);
    if (claims === 'unavailable') throw new OAuthError('temporarily_unavailable', 'the identity provider is unavailable: try again later');
    if (claims === undefined) {
      limiter.recordFailure(username, address);
      throw new OAuthError('invalid_grant', 'invalid user name or password');
    }
    return tokens.issue(claims.userName, client.id, scope);
  };

  app.post('/oauth/token', async (request, reply) => {
    let grant: string | undefined;
    let clientId: string | undefined;
    let user: string | undefined;
    try {
      const form = parseWith(tokenFormSchema, request.body, 'body');
      grant = form.grant_type;
      user = form.username;
      const client = clientOf(request, form.client_id);
      clientId = client.id;
      const grantType = required(form.grant_type, 'grant_type');
      if (!(OAUTH_GRANT_TYPES as readonly string[]).includes(grantType)) throw new OAuthError('unsupported_grant_type', `grant_type ${JSON.stringify(grantType.slice(0, 50))} is not supported`);
      if (!client.grantTypes.includes(grantType as OAuthGrantType)) throw new OAuthError('unauthorized_client', `this client may not use the ${grantType} grant`);
      let issued: IssuedTokens;
      if (grantType === 'authorization_code') issued = await exchangeCode(client, form);
      else if (grantType === 'password') issued = await passwordGrant(request, client, form);
      // §6: a `scope` on refresh may only narrow; the family keeps its scopes, so it is ignored.
      else issued = await tokens.refresh(required(form.refresh_token, 'refresh_token'), client.id);
      request.log.info({ user: issued.userName, client: client.id, grant: grantType }, 'tokens issued');
      return reply.code(200).type('application/json').send({
        access_token: issued.accessToken,
        token_type: issued.tokenType,
        expires_in: issued.expiresIn,
        refresh_token: issued.refreshToken,
        ...(issued.scope === '' ? {} : { scope: issued.scope }),
      });
    } catch (error) {
      // Logged once here, where grant, client and user are known; the error handler renders it.
      if (error instanceof OAuthError) {
        logDenial(request.log, { surface: 'oauth', user: user ?? '', address: request.ip, verb: 'token', resource: `grant_type=${grant ?? ''} client ${clientId ?? ''}`, reason: `${error.code}: ${error.message}` });
      }
      throw error;
    }
  });

  // --- revocation (RFC 7009) -----------------------------------------------

  app.post('/oauth/revoke', async (request, reply) => {
    const form = parseWith(revokeFormSchema, request.body, 'body');
    // Public clients only: a client_id, when given, must be known, but holding
    // the token is what authorises revoking it (§2.1 for public clients).
    if (form.client_id !== undefined && !clients.has(form.client_id)) throw new OAuthError('invalid_client', 'unknown client');
    const token = required(form.token, 'token');
    const revoked = await tokens.revoke(token);
    if (revoked) request.log.info({ client: form.client_id }, 'token revoked');
    // §2.2: 200 whether or not the token was known.
    return reply.code(200).send();
  });

  // --- server metadata (RFC 8414) ------------------------------------------

  app.get('/.well-known/oauth-authorization-server', async (_request, reply) => {
    reply.removeHeader('pragma');
    return reply.code(200).header('cache-control', 'public, max-age=3600').type('application/json').send({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: [...OAUTH_GRANT_TYPES],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      revocation_endpoint_auth_methods_supported: ['none'],
      authorization_response_iss_parameter_supported: true,
    });
  });
}
