/**
 * Access and refresh tokens of the built-in OAuth 2 server.
 *
 * Tokens are opaque (`berth_at_…`, `berth_rt_…`, see secret-tokens.ts); only
 * their SHA-256 is stored. Every token issued from one login shares a
 * `family` id. Refresh tokens rotate: a refresh revokes the presented token
 * and issues a new pair in the same family. A rotated (revoked) refresh
 * token presented again means two parties hold it (RFC 6819 §5.2.2.3,
 * OAuth 2.1 §4.3.1), so the whole family is revoked and the request fails.
 * Revoked tokens stay in the table until they expire, which is what makes
 * that detection work; `sweepExpired` deletes them afterwards.
 *
 * Access tokens are checked by identity/authenticator.ts (prefix, hash
 * lookup, kind, revocation, expiry); this service only issues and revokes.
 */

import { randomUUID } from 'node:crypto';
import type { Metadata, OAuthTokenRecord } from '../metadata/stores.ts';
import type { Clock } from '../registry/clock.ts';
import { hashSecret, newSecret, secretKind } from './secret-tokens.ts';

/** Error codes of RFC 6749 §4.1.2.1 and §5.2 (and RFC 7009 §2.2.1), as the wire writes them. */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'unsupported_token_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable';

/**
 * An OAuth request that must be refused with one of the standard error
 * codes. `message` is the `error_description`: safe to show the client
 * (never says whether a user exists).
 */
export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly code: OAuthErrorCode;
  /** Seconds the client should wait (rate limiting), sent as Retry-After. */
  readonly retryAfterSeconds: number | undefined;
  constructor(code: OAuthErrorCode, message: string, options?: { retryAfterSeconds?: number; cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }
}

/** What a token response carries (RFC 6749 §5.1), in camelCase. */
export interface IssuedTokens {
  /** `berth_at_…`, the secret sent as `Authorization: Bearer`. */
  readonly accessToken: string;
  /** `berth_rt_…`, single use: each refresh returns a new one. */
  readonly refreshToken: string;
  /** Lifetime of the access token in seconds. */
  readonly expiresIn: number;
  readonly tokenType: 'Bearer';
  /** The granted scopes, space-separated ('' when none were asked for). */
  readonly scope: string;
  /** The login's family id: revoking it revokes every token of this login (used on authorization-code replay). */
  readonly family: string;
  /** Whom the tokens were issued to (after a refresh: the refresh token's user). */
  readonly userName: string;
}

/** An access token without a refresh token (the token request page). */
export interface IssuedAccessToken {
  /** The secret, shown to the user once. */
  readonly accessToken: string;
  /** Lifetime in seconds. */
  readonly expiresIn: number;
  readonly tokenType: 'Bearer';
  /** Space-separated scopes ('' for none). */
  readonly scope: string;
  /** When it expires, ms since the epoch. */
  readonly expiresAt: number;
}

export interface OAuthTokenServiceOptions {
  readonly metadata: Metadata;
  readonly clock: Clock;
  /** Access-token lifetime; default one day. */
  readonly accessTokenSeconds?: number;
  /**
   * Refresh-token lifetime; default 30 days. Counted from each rotation, so
   * a login that is refreshed at least this often stays alive (sliding window).
   */
  readonly refreshTokenSeconds?: number;
}

/** Normalises scopes to the space-separated form stored and sent. */
function scopeString(scopes: readonly string[] | string): string {
  const list = typeof scopes === 'string' ? scopes.split(' ') : scopes;
  return [...new Set(list.filter((s) => s !== ''))].join(' ');
}

/** Issues, rotates and revokes OAuth tokens; see the module comment for the rules. */
export class OAuthTokenService {
  readonly #metadata: Metadata;
  readonly #clock: Clock;
  /** Access-token lifetime in seconds. */
  readonly accessTokenSeconds: number;
  /** Refresh-token lifetime in seconds. */
  readonly refreshTokenSeconds: number;

  constructor(options: OAuthTokenServiceOptions) {
    this.#metadata = options.metadata;
    this.#clock = options.clock;
    this.accessTokenSeconds = options.accessTokenSeconds ?? 86_400;
    this.refreshTokenSeconds = options.refreshTokenSeconds ?? 30 * 86_400;
    if (!(this.accessTokenSeconds > 0) || !(this.refreshTokenSeconds > 0)) throw new RangeError('token lifetimes must be positive');
  }

  /**
   * Issues an access and a refresh token for a user who has just proved who
   * they are, as one new family. The caller has authenticated the user and
   * checked the client.
   */
  async issue(userName: string, clientId: string, scopes: readonly string[] | string): Promise<IssuedTokens> {
    const family = randomUUID();
    const scope = scopeString(scopes);
    const tokens = await this.#metadata.withTransaction((tx) => this.#putPair(tx.oauthTokens, userName, clientId, scope, family));
    return { ...tokens, family, userName };
  }

  /**
   * Issues a lone access token (no refresh token): what the token request
   * page shows for pasting into `berth login --token`.
   */
  async issueAccessToken(userName: string, clientId: string, scopes: readonly string[] | string): Promise<IssuedAccessToken> {
    const now = this.#clock();
    const access = newSecret('accessToken');
    const expiresAt = now + this.accessTokenSeconds * 1000;
    const scope = scopeString(scopes);
    await this.#metadata.oauthTokens.putToken({
      hash: access.hash, kind: 'access', userName, clientId, scopes: scope, createdAt: now, expiresAt, revokedAt: null, family: randomUUID(),
    });
    return { accessToken: access.secret, expiresIn: this.accessTokenSeconds, tokenType: 'Bearer', scope, expiresAt };
  }

  /**
   * Exchanges a refresh token for a new pair (rotation). The presented token
   * is revoked; the new pair keeps its family, user and scopes.
   * @throws OAuthError invalid_grant when the token is unknown, not a refresh
   *   token, expired, issued to another client, belongs to a user who no
   *   longer exists or is disabled, or was already used (then the whole
   *   family is revoked first).
   */
  async refresh(refreshToken: string, clientId: string): Promise<IssuedTokens> {
    if (secretKind(refreshToken) !== 'refreshToken') throw new OAuthError('invalid_grant', 'not a refresh token');
    const hash = hashSecret(refreshToken);
    const record = await this.#metadata.oauthTokens.findTokenByHash(hash);
    const now = this.#clock();
    if (record === undefined || record.kind !== 'refresh') throw new OAuthError('invalid_grant', 'the refresh token is not valid');
    if (record.revokedAt !== null) return this.#reused(record, now);
    if (record.clientId !== clientId) throw new OAuthError('invalid_grant', 'the refresh token was issued to another client');
    if (record.expiresAt <= now) throw new OAuthError('invalid_grant', 'the refresh token has expired: log in again');
    const user = await this.#metadata.users.getUser(record.userName);
    if (user === undefined || user.disabled) throw new OAuthError('invalid_grant', 'the user of this refresh token no longer exists or is disabled');

    const rotated = await this.#metadata.withTransaction(async (tx) => {
      // The conditional revoke is the compare-and-set: of two concurrent
      // refreshes of one token exactly one sees `true`; the other is reuse.
      if (!(await tx.oauthTokens.revokeToken(hash, now))) return undefined;
      return this.#putPair(tx.oauthTokens, record.userName, record.clientId, record.scopes, record.family);
    });
    if (rotated === undefined) return this.#reused(record, now);
    return { ...rotated, family: record.family, userName: record.userName };
  }

  /**
   * Revokes a token (RFC 7009): an access token alone, or a refresh token
   * with its whole family (the access tokens issued from the same login too,
   * as §2.1 suggests). Holding a token is enough to revoke it. Unknown or
   * already revoked tokens are a no-op.
   * @returns true when something was revoked (for logging).
   */
  async revoke(token: string): Promise<boolean> {
    const kind = secretKind(token);
    if (kind !== 'accessToken' && kind !== 'refreshToken') return false;
    const hash = hashSecret(token);
    const record = await this.#metadata.oauthTokens.findTokenByHash(hash);
    if (record === undefined) return false;
    const now = this.#clock();
    if (record.kind === 'refresh') return (await this.#metadata.oauthTokens.revokeFamily(record.family, now)) > 0;
    return this.#metadata.oauthTokens.revokeToken(hash, now);
  }

  /** Revokes every token of one login (see {@link IssuedTokens.family}); returns how many. */
  async revokeFamily(family: string): Promise<number> {
    return this.#metadata.oauthTokens.revokeFamily(family, this.#clock());
  }

  /** Revokes every token of a user (logout everywhere, user disabled or deleted); returns how many. */
  async revokeAllForUser(userName: string): Promise<number> {
    return this.#metadata.oauthTokens.revokeAllForUser(userName, this.#clock());
  }

  /**
   * Deletes expired tokens (revoked or not); returns how many. Safe at any
   * time: an expired refresh token is refused whether it is there or not.
   */
  async sweepExpired(): Promise<number> {
    return this.#metadata.oauthTokens.deleteExpired(this.#clock());
  }

  async #reused(record: OAuthTokenRecord, now: number): Promise<never> {
    await this.#metadata.oauthTokens.revokeFamily(record.family, now);
    throw new OAuthError('invalid_grant', 'the refresh token was already used: every token of this login is revoked, log in again');
  }

  async #putPair(
    store: Metadata['oauthTokens'], userName: string, clientId: string, scope: string, family: string,
  ): Promise<Omit<IssuedTokens, 'family' | 'userName'>> {
    const now = this.#clock();
    const access = newSecret('accessToken');
    const refresh = newSecret('refreshToken');
    const common = { userName, clientId, scopes: scope, createdAt: now, revokedAt: null, family } as const;
    await store.putToken({ ...common, hash: access.hash, kind: 'access', expiresAt: now + this.accessTokenSeconds * 1000 });
    await store.putToken({ ...common, hash: refresh.hash, kind: 'refresh', expiresAt: now + this.refreshTokenSeconds * 1000 });
    return { accessToken: access.secret, refreshToken: refresh.secret, expiresIn: this.accessTokenSeconds, tokenType: 'Bearer', scope };
  }
}
