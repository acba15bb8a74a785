import { createHash } from 'node:crypto';
import { ANONYMOUS, type Principal } from '../authz/authorizer.ts';
import { serviceAccountPrincipal, userPrincipal } from '../authz/principals.ts';
import { parseServiceAccountName } from '../authz/roles.ts';
import type { Metadata } from '../metadata/stores.ts';
import type { Clock } from '../registry/clock.ts';
import { LruCache } from '../registry/lru-cache.ts';
import type { LoginRateLimiter } from './login-rate-limiter.ts';
import { LocalIdentityProvider } from './local-identity-provider.ts';
import { PasswordProviderChain } from './password-providers.ts';
import { RegistryTokenError, type RegistryTokens, type VerifiedRegistryToken } from './registry-tokens.ts';
import { hashSecret, secretKind } from './secret-tokens.ts';

export type AuthenticationMethod = 'anonymous' | 'password' | 'access-token' | 'serviceaccount-token' | 'registry-token';

/** Who a request comes from, and how it proved it. */
export interface Authentication {
  readonly principal: Principal;
  readonly method: AuthenticationMethod;
  /** For a registry token: exactly what the token grants (it, not the bindings, decides /v2 access). */
  readonly registryToken?: VerifiedRegistryToken;
}

/**
 * Why authentication failed. `unavailable`: no password provider vouched and
 * one could not answer (its backend is down); rendered as 503, not counted
 * as a failed login.
 */
export type AuthenticationFailure = 'invalid-credentials' | 'rate-limited' | 'invalid-token' | 'expired-token' | 'malformed' | 'unavailable';

/** Credentials were presented and are not valid. Rendered as 401 (429 when rate-limited) by each API surface. */
export class AuthenticationError extends Error {
  override readonly name = 'AuthenticationError';
  readonly reason: AuthenticationFailure;
  readonly retryAfterSeconds: number | undefined;
  /**
   * Who tried, for the denial log: the user name presented with a password,
   * or the owner of a known but revoked or expired token; undefined when
   * nothing tells (a malformed header, an unknown token).
   */
  readonly user: string | undefined;
  constructor(reason: AuthenticationFailure, message: string, options: { retryAfterSeconds?: number | undefined; user?: string | undefined } = {}) {
    super(message);
    this.reason = reason;
    this.retryAfterSeconds = options.retryAfterSeconds;
    this.user = options.user;
  }
}

export const ANONYMOUS_AUTHENTICATION: Authentication = { principal: ANONYMOUS, method: 'anonymous' };

/** How long a verified password is remembered, so repeated Basic requests do not pay bcrypt each time. */
const PASSWORD_CACHE_MS = 60_000;
/** How long a user's group memberships are reused before being read again. */
const GROUPS_CACHE_MS = 5_000;

/**
 * Turns what a request presents (an Authorization header, or a user name and
 * secret sent to the token endpoint) into an authenticated principal.
 *
 * Secrets accepted: a user's password, checked by the password identity
 * providers in order (the local users table first; the same chain the OAuth
 * login page asks, so an LDAP provider added there serves `podman login`
 * too), an OAuth access token issued by the built-in OAuth server, a
 * service-account token (each recognised by its prefix and looked up by
 * hash), and, in a Bearer header, a registry token. Failed passwords are
 * counted by the rate limiter per user name and per address.
 */
export class Authenticator {
  readonly #metadata: Metadata;
  readonly #tokens: RegistryTokens;
  readonly #limiter: LoginRateLimiter;
  readonly #clock: Clock;
  readonly #passwords = new LruCache<string, { authentication: Authentication; until: number }>({ maxEntries: 10_000 });
  readonly #checking = new Map<string, Promise<Authentication>>();
  readonly #basicHeaders = new LruCache<string, { authentication: Authentication; until: number }>({ maxEntries: 10_000 });
  readonly #groups = new LruCache<string, { groups: string[]; until: number }>({ maxEntries: 10_000 });
  readonly #providers: PasswordProviderChain;

  /**
   * @param deps.providers the password identity providers, asked in order;
   *   default: the local users table alone.
   */
  constructor(deps: { metadata: Metadata; tokens: RegistryTokens; limiter: LoginRateLimiter; clock: Clock; providers?: PasswordProviderChain | undefined }) {
    this.#metadata = deps.metadata;
    this.#tokens = deps.tokens;
    this.#limiter = deps.limiter;
    this.#clock = deps.clock;
    this.#providers = deps.providers ?? new PasswordProviderChain([new LocalIdentityProvider({ users: deps.metadata.users })]);
  }

  /**
   * Authenticates an `Authorization` header: none (anonymous), `Basic`
   * (user name and secret) or `Bearer` (a registry token, or an OAuth access token).
   */
  async fromHeader(header: string | undefined, address: string): Promise<Authentication> {
    if (header === undefined || header.trim() === '') return ANONYMOUS_AUTHENTICATION;
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme === 'basic') {
      // Clients that send Basic on every request (curl, the benchmark) are answered from the header
      // they sent a moment ago: no decoding, hashing or lookups per request.
      const known = this.#basicHeaders.get(header);
      if (known !== undefined && known.until > this.#clock() && !this.#limiter.isLimited(known.authentication.principal.name, address)) {
        return known.authentication;
      }
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) throw new AuthenticationError('malformed', 'Basic credentials must be user:secret');
      const authentication = await this.checkCredentials(decoded.slice(0, colon), decoded.slice(colon + 1), address);
      if (authentication.method === 'password') this.#basicHeaders.set(header, { authentication, until: this.#clock() + PASSWORD_CACHE_MS });
      return authentication;
    }
    if (scheme === 'bearer') {
      const kind = secretKind(value);
      if (kind === 'accessToken' || kind === 'serviceAccount') return this.checkCredentials('', value, address);
      return this.#registryToken(value);
    }
    throw new AuthenticationError('malformed', `unsupported authorization scheme ${JSON.stringify(scheme.slice(0, 20))}`);
  }

  /**
   * Checks a user name and secret (password, access token or service-account token).
   * Only passwords are rate-limited: tokens are 256 random bits, so there is
   * nothing to guess, and a stale token in some client must not lock out
   * everyone behind the same address.
   */
  async checkCredentials(user: string, secret: string, address: string): Promise<Authentication> {
    switch (secretKind(secret)) {
      case 'serviceAccount':
        return this.#serviceAccountToken(secret);
      case 'accessToken':
        return this.#accessToken(secret);
      case 'refreshToken':
        throw new AuthenticationError('invalid-credentials', 'a refresh token is not a credential; exchange it at the token endpoint');
      default:
        break;
    }
    if (this.#limiter.isLimited(user, address)) {
      throw new AuthenticationError('rate-limited', 'too many failed logins: try again later', { retryAfterSeconds: this.#limiter.retryAfterSeconds(user, address), user });
    }
    try {
      return await this.#password(user, secret);
    } catch (error) {
      if (error instanceof AuthenticationError && error.reason !== 'unavailable') this.#limiter.recordFailure(user, address);
      throw error;
    }
  }

  /** A user principal with its current group memberships. */
  async userPrincipal(name: string): Promise<Principal> {
    const now = this.#clock();
    const cached = this.#groups.get(name);
    if (cached !== undefined && cached.until > now) return userPrincipal(name, cached.groups);
    const groups = await this.#metadata.users.groupsOf(name);
    this.#groups.set(name, { groups, until: now + GROUPS_CACHE_MS });
    return userPrincipal(name, groups);
  }

  /** Forgets cached password checks of a user (password changed, user disabled or deleted). */
  forgetUser(name: string): void {
    this.#groups.delete(name);
    // Keys are whole headers; a user change is rare enough to forget them all.
    this.#basicHeaders.deleteWhere(() => true);
    this.#passwords.deleteWhere((key) => key.startsWith(`${name}\u0000`));
  }

  async #password(user: string, password: string): Promise<Authentication> {
    const now = this.#clock();
    const key = `${user}\u0000${createHash('sha256').update(password).digest('hex')}`;
    const cached = this.#passwords.get(key);
    if (cached !== undefined && cached.until > now) return cached.authentication;
    // Concurrent requests with the same new credentials share one bcrypt check
    // (a client opening 64 connections at once would otherwise pay it 64 times).
    let pending = this.#checking.get(key);
    if (pending === undefined) {
      pending = this.#verifyPassword(user, password, key).finally(() => this.#checking.delete(key));
      this.#checking.set(key, pending);
    }
    return pending;
  }

  async #verifyPassword(user: string, password: string, key: string): Promise<Authentication> {
    // The providers take about as long for unknown users as for wrong passwords (the local one compares
    // against a dummy hash), so timing does not tell which users exist.
    const checked = await this.#providers.check(user, password);
    if (checked.outcome === 'unavailable') {
      throw new AuthenticationError('unavailable', 'the identity provider cannot check passwords right now: try again later', { user });
    }
    if (checked.outcome === 'refused') throw new AuthenticationError('invalid-credentials', 'invalid user name or password', { user });
    const name = checked.claims.userName;
    // A user an external provider vouches for may have a row here too; disabling it there disables the login.
    if ((await this.#metadata.users.getUser(name))?.disabled === true) throw new AuthenticationError('invalid-credentials', 'invalid user name or password', { user });
    const authentication: Authentication = { principal: await this.userPrincipal(name), method: 'password' };
    this.#passwords.set(key, { authentication, until: this.#clock() + PASSWORD_CACHE_MS });
    return authentication;
  }

  async #accessToken(secret: string): Promise<Authentication> {
    const record = await this.#metadata.oauthTokens.findTokenByHash(hashSecret(secret));
    const now = this.#clock();
    if (record === undefined || record.kind !== 'access' || record.revokedAt !== null) {
      throw new AuthenticationError('invalid-token', 'the access token is not valid (unknown or revoked)', { user: record?.userName });
    }
    if (record.expiresAt <= now) throw new AuthenticationError('expired-token', 'the access token has expired: log in again', { user: record.userName });
    const user = await this.#metadata.users.getUser(record.userName);
    if (user === undefined || user.disabled) {
      throw new AuthenticationError('invalid-token', 'the access token belongs to a user who no longer exists or is disabled', { user: record.userName });
    }
    return { principal: await this.userPrincipal(record.userName), method: 'access-token' };
  }

  async #serviceAccountToken(secret: string): Promise<Authentication> {
    const record = await this.#metadata.serviceAccounts.findTokenByHash(hashSecret(secret));
    const now = this.#clock();
    if (record === undefined) throw new AuthenticationError('invalid-token', 'the service-account token is not valid (unknown or revoked)');
    const user = serviceAccountPrincipal(record.project, record.account).name;
    if (record.revokedAt !== null) throw new AuthenticationError('invalid-token', 'the service-account token is not valid (unknown or revoked)', { user });
    if (record.expiresAt !== null && record.expiresAt <= now) throw new AuthenticationError('expired-token', 'the service-account token has expired', { user });
    await this.#metadata.serviceAccounts.markTokenUsed(record.id, now);
    return { principal: serviceAccountPrincipal(record.project, record.account), method: 'serviceaccount-token' };
  }

  async #registryToken(token: string): Promise<Authentication> {
    let verified: VerifiedRegistryToken;
    try {
      verified = await this.#tokens.verify(token);
    } catch (error) {
      if (error instanceof RegistryTokenError) {
        throw new AuthenticationError(error.code === 'EXPIRED' ? 'expired-token' : 'invalid-token', error.message);
      }
      throw error;
    }
    return { principal: await this.#principalOf(verified), method: 'registry-token', registryToken: verified };
  }

  async #principalOf(token: VerifiedRegistryToken): Promise<Principal> {
    if (token.kind === 'anonymous') return ANONYMOUS;
    if (token.kind === 'serviceaccount') {
      const parsed = parseServiceAccountName(token.subject);
      if (parsed !== undefined) return serviceAccountPrincipal(parsed.project, parsed.name);
    }
    return this.userPrincipal(token.subject);
  }
}
