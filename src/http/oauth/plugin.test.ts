import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { LocalIdentityProvider } from '../../identity/local-identity-provider.ts';
import { LoginRateLimiter } from '../../identity/login-rate-limiter.ts';
import { OAuthTokenService } from '../../identity/oauth-token-service.ts';
import { hashPassword } from '../../identity/passwords.ts';
import { hashSecret } from '../../identity/secret-tokens.ts';
import { openMetadata } from '../../metadata/open-metadata.ts';
import type { Metadata } from '../../metadata/stores.ts';
import { s256Challenge } from './pkce.ts';
import { defaultOAuthClients, oauthPlugin } from './plugin.ts';

const ISSUER = 'https://registry.test:5000';
const CALLBACK = 'http://127.0.0.1:49152/callback';

interface Running {
  readonly base: string;
  readonly app: FastifyInstance;
}

async function start(metadata: Metadata, maxFailures = 100): Promise<Running> {
  const app = Fastify();
  await app.register(oauthPlugin, {
    tokens: new OAuthTokenService({ metadata, clock: Date.now }),
    providers: [new LocalIdentityProvider({ users: metadata.users })],
    limiter: new LoginRateLimiter({ maxFailures }),
    clients: defaultOAuthClients(ISSUER),
    issuerUrl: ISSUER,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return { base: address, app };
}

function form(fields: Record<string, string>): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(fields).toString(), redirect: 'manual' };
}

function cookieOf(response: Response): string {
  const cookie = response.headers.getSetCookie()[0];
  assert.ok(cookie !== undefined, 'the login page sets the browser cookie');
  return cookie.split(';', 1)[0] ?? '';
}

function csrfOf(html: string): string {
  const match = /name="csrf_token" value="([^"]+)"/.exec(html);
  assert.ok(match?.[1] !== undefined, 'the login page has a csrf_token field');
  return match[1];
}

function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(48).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier) };
}

function authorizeUrl(base: string, params: Record<string, string>): string {
  return `${base}/oauth/authorize?${new URLSearchParams(params).toString()}`;
}

/** Opens a login page; returns what a browser keeps of it. */
async function openLogin(url: string): Promise<{ csrf: string; cookie: string; html: string }> {
  const page = await fetch(url, { redirect: 'manual' });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  const html = await page.text();
  return { csrf: csrfOf(html), cookie: cookieOf(page), html };
}

async function submit(base: string, action: string, login: { csrf: string; cookie: string }, username: string, password: string): Promise<Response> {
  const init = form({ csrf_token: login.csrf, username, password });
  return fetch(`${base}${action}`, { ...init, headers: { ...(init.headers as Record<string, string>), cookie: login.cookie } });
}

/** The whole browser half of the code flow: authorize page, credentials, redirect with a code. */
async function authorize(base: string, username: string, password: string, challenge: string, redirectUri = CALLBACK): Promise<URL> {
  const login = await openLogin(authorizeUrl(base, {
    response_type: 'code', client_id: 'berth-cli', redirect_uri: redirectUri, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1',
  }));
  const answer = await submit(base, '/oauth/authorize', login, username, password);
  assert.equal(answer.status, 302, await answer.clone().text());
  const location = new URL(answer.headers.get('location') ?? '');
  assert.equal(`${location.origin}${location.pathname}`, redirectUri);
  assert.equal(location.searchParams.get('state'), 'st-1');
  assert.equal(location.searchParams.get('iss'), ISSUER);
  return location;
}

async function token(base: string, fields: Record<string, string>): Promise<{ status: number; body: Record<string, unknown>; response: Response }> {
  const response = await fetch(`${base}/oauth/token`, form(fields));
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, response };
}

describe('OAuth plugin', () => {
  let metadata: Metadata;
  let server: Running;
  let base: string;

  before(async () => {
    metadata = await openMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    const now = Date.now();
    await metadata.users.createUser({ name: 'alice', passwordHash: await hashPassword('alice-secret', 4), createdAt: now, disabled: false });
    await metadata.users.createUser({ name: 'mallory', passwordHash: await hashPassword('mallory-secret', 4), createdAt: now, disabled: true });
    await metadata.users.createUser({ name: 'carol', passwordHash: await hashPassword('carol-secret', 4), createdAt: now, disabled: false });
    server = await start(metadata);
    base = server.base;
  });
  after(async () => {
    await server.app.close();
    await metadata.close();
  });

  it('runs the authorization-code flow with PKCE to tokens', async () => {
    const { verifier, challenge } = pkce();
    const login = await openLogin(authorizeUrl(base, {
      response_type: 'code', client_id: 'berth-cli', redirect_uri: CALLBACK, code_challenge: challenge, code_challenge_method: 'S256', state: 'st-1',
    }));
    assert.match(login.html, /<label for="username">/);
    assert.match(login.html, /<label for="password">/);
    assert.match(login.html, /the berth command/);
    const location = await authorize(base, 'alice', 'alice-secret', challenge);
    const code = location.searchParams.get('code') ?? '';
    const answer = await token(base, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'berth-cli' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.equal(answer.response.headers.get('cache-control'), 'no-store');
    assert.equal(answer.body['token_type'], 'Bearer');
    assert.equal(answer.body['expires_in'], 86400);
    assert.match(String(answer.body['access_token']), /^berth_at_/);
    assert.match(String(answer.body['refresh_token']), /^berth_rt_/);
    const stored = await metadata.oauthTokens.findTokenByHash(hashSecret(String(answer.body['access_token'])));
    assert.equal(stored?.userName, 'alice');
    assert.equal(stored?.clientId, 'berth-cli');
  });

  it('accepts localhost and any loopback port for berth-cli', async () => {
    const { verifier, challenge } = pkce();
    const redirect = 'http://localhost:61000/callback';
    const location = await authorize(base, 'alice', 'alice-secret', challenge, redirect);
    const answer = await token(base, { grant_type: 'authorization_code', code: location.searchParams.get('code') ?? '', redirect_uri: redirect, code_verifier: verifier, client_id: 'berth-cli' });
    assert.equal(answer.status, 200);
  });

  it('refuses a wrong code_verifier, and the code is used up', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize(base, 'alice', 'alice-secret', challenge)).searchParams.get('code') ?? '';
    const wrong = await token(base, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: pkce().verifier, client_id: 'berth-cli' });
    assert.equal(wrong.status, 400);
    assert.equal(wrong.body['error'], 'invalid_grant');
    assert.equal(typeof wrong.body['error_description'], 'string');
    const retry = await token(base, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'berth-cli' });
    assert.equal(retry.body['error'], 'invalid_grant');
  });

  it('refuses a replayed code and revokes what the first use issued', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize(base, 'alice', 'alice-secret', challenge)).searchParams.get('code') ?? '';
    const fields = { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'berth-cli' };
    const first = await token(base, fields);
    assert.equal(first.status, 200);
    const replay = await token(base, fields);
    assert.equal(replay.status, 400);
    assert.equal(replay.body['error'], 'invalid_grant');
    const stored = await metadata.oauthTokens.findTokenByHash(hashSecret(String(first.body['access_token'])));
    assert.notEqual(stored?.revokedAt, null);
  });

  it('refuses a redirect_uri or client that differs at the token endpoint', async () => {
    const { verifier, challenge } = pkce();
    const code = (await authorize(base, 'alice', 'alice-secret', challenge)).searchParams.get('code') ?? '';
    const other = await token(base, { grant_type: 'authorization_code', code, redirect_uri: 'http://127.0.0.1:49153/callback', code_verifier: verifier, client_id: 'berth-cli' });
    assert.equal(other.body['error'], 'invalid_grant');
    const unknown = await token(base, { grant_type: 'authorization_code', code, redirect_uri: CALLBACK, code_verifier: verifier, client_id: 'nobody' });
    assert.equal(unknown.status, 401);
    assert.equal(unknown.body['error'], 'invalid_client');
  });

  it('shows an error page, never a redirect, for an unknown redirect_uri or client', async () => {
    const { challenge } = pkce();
    for (const [client, redirect] of [
      ['berth-cli', 'https://evil.example/callback'],
      ['berth-cli', 'http://127.0.0.1:49152/other'],
      ['berth-cli', 'http://127.0.0.1:49152/callback#frag'],
      ['berth-console', 'http://127.0.0.1:49152/callback'],
      ['nobody', CALLBACK],
    ] as const) {
      const page = await fetch(authorizeUrl(base, { response_type: 'code', client_id: client, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
      assert.equal(page.status, 400, `${client} ${redirect}`);
      assert.equal(page.headers.get('location'), null);
      assert.match(await page.text(), /role="alert"/);
    }
    const console = await fetch(authorizeUrl(base, { response_type: 'code', client_id: 'berth-console', redirect_uri: `${ISSUER}/console/callback`, code_challenge: challenge, code_challenge_method: 'S256' }), { redirect: 'manual' });
    assert.equal(console.status, 200);
  });

  it('redirects with an error when PKCE is missing or not S256', async () => {
    for (const params of [{}, { code_challenge: pkce().challenge, code_challenge_method: 'plain' }] as Record<string, string>[]) {
      const answer = await fetch(authorizeUrl(base, { response_type: 'code', client_id: 'berth-cli', redirect_uri: CALLBACK, state: 's', ...params }), { redirect: 'manual' });
      assert.equal(answer.status, 302);
      const location = new URL(answer.headers.get('location') ?? '');
      assert.equal(location.searchParams.get('error'), 'invalid_request');
      assert.equal(location.searchParams.get('state'), 's');
    }
  });

  it('shows the page again with an error for a wrong password, and refuses a form from another browser', async () => {
    const login = await openLogin(authorizeUrl(base, { response_type: 'code', client_id: 'berth-cli', redirect_uri: CALLBACK, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const wrong = await submit(base, '/oauth/authorize', login, 'carol', 'nope');
    assert.equal(wrong.status, 200);
    const html = await wrong.text();
    assert.match(html, /role="alert"[^>]*>Invalid user name or password/);
    assert.match(html, /value="carol"/);
    const foreign = await submit(base, '/oauth/authorize', { csrf: login.csrf, cookie: 'berth_oauth_browser=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }, 'carol', 'carol-secret');
    assert.equal(foreign.status, 403);
    const bogus = await submit(base, '/oauth/authorize', { csrf: 'made-up', cookie: login.cookie }, 'carol', 'carol-secret');
    assert.equal(bogus.status, 400);
    // The pending login survives the failures: the right password still works.
    const right = await submit(base, '/oauth/authorize', login, 'carol', 'carol-secret');
    assert.equal(right.status, 302);
  });

  it('refuses a disabled user on the login page and in the password grant', async () => {
    const login = await openLogin(authorizeUrl(base, { response_type: 'code', client_id: 'berth-cli', redirect_uri: CALLBACK, code_challenge: pkce().challenge, code_challenge_method: 'S256' }));
    const page = await submit(base, '/oauth/authorize', login, 'mallory', 'mallory-secret');
    assert.equal(page.status, 200);
    assert.match(await page.text(), /Invalid user name or password/);
    const grant = await token(base, { grant_type: 'password', username: 'mallory', password: 'mallory-secret', client_id: 'berth-cli' });
    assert.equal(grant.status, 400);
    assert.equal(grant.body['error'], 'invalid_grant');
  });

  it('issues tokens for the password grant, only to clients allowed to use it', async () => {
    const ok = await token(base, { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'berth-cli', scope: 'user:full' });
    assert.equal(ok.status, 200);
    assert.equal(ok.body['scope'], 'user:full');
    const bad = await token(base, { grant_type: 'password', username: 'alice', password: 'wrong', client_id: 'berth-cli' });
    assert.equal(bad.body['error'], 'invalid_grant');
    const console = await token(base, { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'berth-console' });
    assert.equal(console.body['error'], 'unauthorized_client');
    const unsupported = await token(base, { grant_type: 'client_credentials', client_id: 'berth-cli' });
    assert.equal(unsupported.body['error'], 'unsupported_grant_type');
    const repeated = await fetch(`${base}/oauth/token`, { ...form({}), body: 'grant_type=password&grant_type=refresh_token&client_id=berth-cli' });
    assert.equal(repeated.status, 400);
    assert.equal(((await repeated.json()) as Record<string, unknown>)['error'], 'invalid_request');
    const json = await fetch(`${base}/oauth/token`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'berth-cli' }),
    });
    assert.equal(json.status, 200);
    const huge = await fetch(`${base}/oauth/token`, { ...form({}), body: `grant_type=password&x=${'a'.repeat(20_000)}` });
    assert.equal(huge.status, 413);
    assert.equal(((await huge.json()) as Record<string, unknown>)['error'], 'invalid_request');
  });

  it('rotates refresh tokens and detects reuse over HTTP', async () => {
    const first = await token(base, { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'berth-cli' });
    const refresh1 = String(first.body['refresh_token']);
    const second = await token(base, { grant_type: 'refresh_token', refresh_token: refresh1, client_id: 'berth-cli' });
    assert.equal(second.status, 200);
    const refresh2 = String(second.body['refresh_token']);
    assert.notEqual(refresh2, refresh1);
    const reuse = await token(base, { grant_type: 'refresh_token', refresh_token: refresh1, client_id: 'berth-cli' });
    assert.equal(reuse.status, 400);
    assert.equal(reuse.body['error'], 'invalid_grant');
    const afterReuse = await token(base, { grant_type: 'refresh_token', refresh_token: refresh2, client_id: 'berth-cli' });
    assert.equal(afterReuse.body['error'], 'invalid_grant');
    const access2 = await metadata.oauthTokens.findTokenByHash(hashSecret(String(second.body['access_token'])));
    assert.notEqual(access2?.revokedAt, null);
  });

  it('revokes tokens (RFC 7009), unknown ones included', async () => {
    const issued = await token(base, { grant_type: 'password', username: 'alice', password: 'alice-secret', client_id: 'berth-cli' });
    const access = String(issued.body['access_token']);
    const answer = await fetch(`${base}/oauth/revoke`, form({ token: access, token_type_hint: 'access_token' }));
    assert.equal(answer.status, 200);
    const stored = await metadata.oauthTokens.findTokenByHash(hashSecret(access));
    assert.notEqual(stored?.revokedAt, null);
    const unknown = await fetch(`${base}/oauth/revoke`, form({ token: 'berth_at_never-issued' }));
    assert.equal(unknown.status, 200);
    const missing = await fetch(`${base}/oauth/revoke`, form({}));
    assert.equal(missing.status, 400);
    assert.equal(((await missing.json()) as Record<string, unknown>)['error'], 'invalid_request');
    // Revoking the refresh token ends the whole login.
    const refresh = String(issued.body['refresh_token']);
    assert.equal((await fetch(`${base}/oauth/revoke`, form({ token: refresh }))).status, 200);
    const again = await token(base, { grant_type: 'refresh_token', refresh_token: refresh, client_id: 'berth-cli' });
    assert.equal(again.body['error'], 'invalid_grant');
  });

  it('shows a newly issued token on the token request page, once', async () => {
    const login = await openLogin(`${base}/oauth/token/request`);
    assert.match(login.html, /action="\/oauth\/token\/request"/);
    const answer = await submit(base, '/oauth/token/request', login, 'alice', 'alice-secret');
    assert.equal(answer.status, 303);
    const location = answer.headers.get('location') ?? '';
    assert.match(location, /^\/oauth\/token\/display\?id=/);
    assert.doesNotMatch(location, /berth_at_/);
    const display = await fetch(`${base}${location}`, { headers: { cookie: login.cookie } });
    assert.equal(display.status, 200);
    assert.equal(display.headers.get('cache-control'), 'no-store');
    const html = await display.text();
    const match = /berth login --token=(berth_at_[A-Za-z0-9_-]+) https:\/\/registry\.test:5000/.exec(html);
    assert.ok(match?.[1] !== undefined, html);
    const stored = await metadata.oauthTokens.findTokenByHash(hashSecret(match[1]));
    assert.equal(stored?.kind, 'access');
    assert.equal(stored?.userName, 'alice');
    const twice = await fetch(`${base}${location}`, { headers: { cookie: login.cookie } });
    assert.equal(twice.status, 404);
  });

  it('publishes its metadata (RFC 8414)', async () => {
    const answer = await fetch(`${base}/.well-known/oauth-authorization-server`);
    assert.equal(answer.status, 200);
    const body = (await answer.json()) as Record<string, unknown>;
    assert.equal(body['issuer'], ISSUER);
    assert.equal(body['token_endpoint'], `${ISSUER}/oauth/token`);
    assert.equal(body['authorization_endpoint'], `${ISSUER}/oauth/authorize`);
    assert.equal(body['revocation_endpoint'], `${ISSUER}/oauth/revoke`);
    assert.deepEqual(body['code_challenge_methods_supported'], ['S256']);
  });

  it('rate-limits failed logins with a 429 page and a 429 token answer', async () => {
    const limited = await start(metadata, 3);
    try {
      const login = await openLogin(`${limited.base}/oauth/token/request`);
      for (let i = 0; i < 3; i++) assert.equal((await submit(limited.base, '/oauth/token/request', login, 'carol', `wrong-${i}`)).status, 200);
      const refused = await submit(limited.base, '/oauth/token/request', login, 'carol', 'carol-secret');
      assert.equal(refused.status, 429);
      assert.ok(Number(refused.headers.get('retry-after')) > 0);
      assert.match(await refused.text(), /Too many failed sign-ins/);
      const grant = await fetch(`${limited.base}/oauth/token`, form({ grant_type: 'password', username: 'carol', password: 'carol-secret', client_id: 'berth-cli' }));
      assert.equal(grant.status, 429);
      assert.ok(Number(grant.headers.get('retry-after')) > 0);
      assert.equal(((await grant.json()) as Record<string, unknown>)['error'], 'temporarily_unavailable');
    } finally {
      await limited.app.close();
    }
  });
});
