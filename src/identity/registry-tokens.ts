/**
 * Docker Registry v2 bearer tokens (distribution's "Token Authentication
 * Specification" and "Token Authentication Implementation"): a JWT signed
 * ES256 with `iss`, `sub`, `aud` (the service), `exp`, `nbf`, `iat`, `jti`,
 * and an `access` claim listing what the bearer may do:
 *
 *   { "type": "repository", "name": "project/app", "actions": ["pull", "push"] }
 *   { "type": "registry", "name": "catalog", "actions": ["*"] }
 *
 * `issue` grants the requested scope intersected with what the authorizer
 * allows now; `verify` checks signature, issuer, audience and times, and
 * caches the result per token string until the token expires, so a client
 * that sends the same token with every request is verified once.
 */

import { randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Authorizer, Principal, RegistryVerb } from '../authz/authorizer.ts';
import { parseRepositoryName } from '../oci/names.ts';
import { OciError } from '../oci/errors.ts';
import { LruCache } from '../registry/lru-cache.ts';
import { systemClock, type Clock } from '../registry/clock.ts';
import { SIGNING_ALGORITHM, type SigningKeys } from './signing-keys.ts';

export const DEFAULT_TOKEN_LIFETIME_SECONDS = 300;
const DEFAULT_CACHE_ENTRIES = 10_000;

/** Repository actions a token can carry, and the verb the authorizer is asked for each. */
const REPOSITORY_ACTIONS = { pull: 'pull', push: 'push', delete: 'delete' } as const satisfies Record<string, RegistryVerb>;
type RepositoryAction = keyof typeof REPOSITORY_ACTIONS;
const ALL_REPOSITORY_ACTIONS = Object.keys(REPOSITORY_ACTIONS) as RepositoryAction[];

/** One entry of a token's `access` claim. */
export interface AccessEntry {
  readonly type: 'repository' | 'registry';
  /** A normalised repository name (`library/alpine` for `alpine`), or `catalog`. */
  readonly name: string;
  readonly actions: readonly string[];
}

/** A requested scope, parsed. */
export interface RequestedScope {
  readonly type: string;
  /** The resource class in `repository(plugin):…`, if any (accepted and otherwise ignored). */
  readonly resourceClass: string | undefined;
  readonly name: string;
  readonly actions: readonly string[];
}

export type RegistryTokenErrorCode = 'INVALID_SCOPE' | 'EXPIRED' | 'INVALID_TOKEN';

/** A scope that cannot be parsed, or a token that is not (or no longer) valid. */
export class RegistryTokenError extends Error {
  override readonly name = 'RegistryTokenError';
  readonly code: RegistryTokenErrorCode;
  constructor(code: RegistryTokenErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * Parses one scope: `type[(class)]:name:action[,action…]`. The name is what
 * lies between the first and the last ':' (a name may itself hold ':').
 *
 * @throws RegistryTokenError INVALID_SCOPE
 */
export function parseScope(scope: string): RequestedScope {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) throw new RegistryTokenError('INVALID_SCOPE', `invalid scope ${JSON.stringify(scope)}: expected type:name:actions`);
  const typePart = scope.slice(0, first);
  const match = /^([a-z0-9]+)(?:\(([a-z0-9]+)\))?$/.exec(typePart);
  if (match === null) throw new RegistryTokenError('INVALID_SCOPE', `invalid scope type ${JSON.stringify(typePart)}`);
  const name = scope.slice(first + 1, last);
  if (name === '') throw new RegistryTokenError('INVALID_SCOPE', `invalid scope ${JSON.stringify(scope)}: empty name`);
  const actions = scope.slice(last + 1).split(',').filter((a) => a !== '');
  return { type: match[1] ?? '', resourceClass: match[2], name, actions };
}

/** A verified token: who it was issued to and what it grants. */
export interface VerifiedRegistryToken {
  /** The principal name (`sub`). */
  readonly subject: string;
  /** The principal kind the token was issued to. */
  readonly kind: Principal['kind'];
  readonly access: readonly AccessEntry[];
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** An issued token, with what the token endpoint answers next to it. */
export interface IssuedRegistryToken {
  readonly token: string;
  readonly expiresIn: number;
  /** RFC 3339 time of issue. */
  readonly issuedAt: string;
  readonly access: readonly AccessEntry[];
  /**
   * What was asked for and not granted (the authorizer refused it), per
   * resource, for the denial log. Unknown resource types, unknown actions
   * and impossible repository names are not listed: they are ignored, as
   * the spec says, not refused.
   */
  readonly refused: readonly AccessEntry[];
}

export interface RegistryTokensOptions {
  readonly keys: SigningKeys;
  /** `iss`: the token service's name (its URL). */
  readonly issuer: string;
  /** `aud`: the registry service name clients are told in the Bearer challenge. */
  readonly service: string;
  readonly lifetimeSeconds?: number;
  readonly clock?: Clock;
  /** Bound on the verified-token cache. */
  readonly cacheEntries?: number;
}

interface CachedToken {
  readonly kid: string;
  readonly verified: VerifiedRegistryToken;
}

const PRINCIPAL_KINDS: ReadonlySet<string> = new Set(['anonymous', 'user', 'serviceaccount']);

function parseAccess(value: unknown): AccessEntry[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: AccessEntry[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { type, name, actions } = entry as Record<string, unknown>;
    if ((type !== 'repository' && type !== 'registry') || typeof name !== 'string') return undefined;
    if (!Array.isArray(actions) || !actions.every((a): a is string => typeof a === 'string')) return undefined;
    out.push({ type, name, actions });
  }
  return out;
}

/** Issues and verifies registry tokens. */
export class RegistryTokens {
  readonly #keys: SigningKeys;
  readonly #issuer: string;
  readonly #service: string;
  readonly #lifetime: number;
  readonly #clock: Clock;
  readonly #cache: LruCache<string, CachedToken>;

  constructor(options: RegistryTokensOptions) {
    this.#keys = options.keys;
    this.#issuer = options.issuer;
    this.#service = options.service;
    this.#lifetime = options.lifetimeSeconds ?? DEFAULT_TOKEN_LIFETIME_SECONDS;
    this.#clock = options.clock ?? systemClock;
    this.#cache = new LruCache({ maxEntries: options.cacheEntries ?? DEFAULT_CACHE_ENTRIES });
  }

  /**
   * Issues a token for `principal` granting, of each requested scope, the
   * actions `authorizer` allows (pull→pull, push→push, delete→delete, `*`→all
   * of those allowed; `registry:catalog:*` when the catalog is allowed).
   * Unknown resource types and actions are granted nothing, silently, as the
   * spec says; entries left with no action are omitted. Scope strings may
   * hold several space-separated scopes.
   *
   * @throws RegistryTokenError INVALID_SCOPE for a malformed scope or repository name.
   */
  async issue(principal: Principal, requestedScopes: readonly string[], authorizer: Authorizer): Promise<IssuedRegistryToken> {
    const wanted = new Map<string, { type: AccessEntry['type']; name: string; project: string; actions: Set<string> }>();
    for (const scope of requestedScopes.flatMap((s) => s.split(/\s+/)).filter((s) => s !== '')) {
      const parsed = parseScope(scope);
      let type: AccessEntry['type'];
      let name: string;
      let project = '';
      if (parsed.type === 'repository') {
        try {
          ({ name, project } = parseRepositoryName(parsed.name));
        } catch (error) {
          // A repository that cannot exist is granted nothing, like an unknown one: clients
          // ask for scopes of names the registry will refuse anyway, and get the registry's error then.
          if (error instanceof OciError) continue;
          throw error;
        }
        type = 'repository';
      } else if (parsed.type === 'registry' && parsed.name === 'catalog') {
        type = 'registry';
        name = 'catalog';
      } else {
        continue;
      }
      const key = `${type}:${name}`;
      const entry = wanted.get(key) ?? { type, name, project, actions: new Set<string>() };
      for (const action of parsed.actions) entry.actions.add(action);
      wanted.set(key, entry);
    }

    const access: AccessEntry[] = [];
    const refused: AccessEntry[] = [];
    for (const entry of wanted.values()) {
      if (entry.type === 'registry') {
        if (!entry.actions.has('*')) continue;
        if (await authorizer.can(principal, 'catalog')) access.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        else refused.push({ type: 'registry', name: 'catalog', actions: ['*'] });
        continue;
      }
      const candidates = ALL_REPOSITORY_ACTIONS.filter((a) => entry.actions.has(a) || entry.actions.has('*'));
      const granted: string[] = [];
      const denied: string[] = [];
      for (const action of candidates) {
        if (await authorizer.can(principal, REPOSITORY_ACTIONS[action], { project: entry.project, repository: entry.name })) granted.push(action);
        else denied.push(action);
      }
      if (granted.length > 0) access.push({ type: 'repository', name: entry.name, actions: granted });
      if (denied.length > 0) refused.push({ type: 'repository', name: entry.name, actions: denied });
    }

    const { kid, privateKey } = await this.#keys.signingKey();
    const now = Math.floor(this.#clock() / 1000);
    const token = await new SignJWT({ access, kind: principal.kind })
      .setProtectedHeader({ alg: SIGNING_ALGORITHM, kid, typ: 'JWT' })
      .setIssuer(this.#issuer)
      .setSubject(principal.name)
      .setAudience(this.#service)
      .setIssuedAt(now)
      .setNotBefore(now)
      .setExpirationTime(now + this.#lifetime)
      .setJti(randomUUID())
      .sign(privateKey);
    return { token, expiresIn: this.#lifetime, issuedAt: new Date(now * 1000).toISOString(), access, refused };
  }

  /**
   * Verifies a token: ES256 signature by an active key, `iss`, `aud`, `exp`
   * and `nbf`. The result is cached per token string until the token expires
   * (or its key is retired), so repeated requests cost a map lookup.
   *
   * @throws RegistryTokenError EXPIRED, or INVALID_TOKEN for anything else wrong.
   */
  async verify(token: string): Promise<VerifiedRegistryToken> {
    const now = this.#clock();
    const cached = this.#cache.get(token);
    if (cached !== undefined) {
      if (cached.verified.expiresAt <= now) {
        this.#cache.delete(token);
        throw new RegistryTokenError('EXPIRED', 'token expired');
      }
      if (this.#keys.isActive(cached.kid)) return cached.verified;
      this.#cache.delete(token);
    }

    let kid: string;
    try {
      const header = decodeProtectedHeader(token);
      if (typeof header.kid !== 'string') throw new RegistryTokenError('INVALID_TOKEN', 'token has no kid');
      kid = header.kid;
    } catch (error) {
      if (error instanceof RegistryTokenError) throw error;
      throw new RegistryTokenError('INVALID_TOKEN', 'malformed token', { cause: error });
    }
    const key = await this.#keys.verificationKey(kid);
    if (key === undefined) throw new RegistryTokenError('INVALID_TOKEN', 'token signed by an unknown or retired key');

    let payload;
    try {
      ({ payload } = await jwtVerify(token, key, {
        issuer: this.#issuer,
        audience: this.#service,
        algorithms: [SIGNING_ALGORITHM],
        currentDate: new Date(now),
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof joseErrors.JWTExpired) throw new RegistryTokenError('EXPIRED', 'token expired', { cause: error });
      throw new RegistryTokenError('INVALID_TOKEN', `token refused: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
    const access = parseAccess(payload.access);
    const kind = payload.kind;
    if (access === undefined || typeof kind !== 'string' || !PRINCIPAL_KINDS.has(kind) || payload.sub === undefined || payload.exp === undefined) {
      throw new RegistryTokenError('INVALID_TOKEN', 'token claims are malformed');
    }
    const verified: VerifiedRegistryToken = {
      subject: payload.sub,
      kind: kind as Principal['kind'],
      access,
      expiresAt: payload.exp * 1000,
    };
    this.#cache.set(token, { kid, verified });
    return verified;
  }
}

/** True when a verified token grants `action` on a repository (`*` grants every action). */
export function grants(token: VerifiedRegistryToken, repository: string, action: string): boolean {
  return token.access.some((a) => a.type === 'repository' && a.name === repository && (a.actions.includes(action) || a.actions.includes('*')));
}
