/**
 * A client for other registries that speak the OCI Distribution API: Docker
 * Hub, quay.io, GHCR, CNCF Distribution, another Berth. Used by image-stream
 * import (tags and manifests) and by pull-through (blob streams).
 *
 * One client talks to one registry host. It handles the Docker token flow
 * (Bearer challenge → token from the realm, cached per scope until expiry),
 * Basic auth, bounded retries with backoff on 429/5xx/connection resets
 * (honouring Retry-After), redirects (credentials never follow to another
 * host), size caps, and verifies every digest it is given or told.
 */
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import type { Dispatcher } from 'undici';
import { MEDIA_TYPES } from '../oci/media-types.ts';
import { computeDigest, digestAlgorithm, DigestVerifier, verifyDigest } from './digest-verify.ts';
import { RemoteRegistryError } from './remote-errors.ts';
import type { RemoteErrorReason } from './remote-errors.ts';
import { registryApiHost } from './registry-reference.ts';
import { parseWwwAuthenticate } from './www-authenticate.ts';

/** What `getManifest` asks for unless told otherwise: both image formats and both index formats. */
export const DEFAULT_MANIFEST_ACCEPT: readonly string[] = [
  MEDIA_TYPES.ociManifest,
  MEDIA_TYPES.ociIndex,
  MEDIA_TYPES.dockerManifest,
  MEDIA_TYPES.dockerManifestList,
];

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_USER_AGENT = 'berth/0.1 (remote-registry-client)';
const MAX_REDIRECTS = 5;
const MAX_TAG_PAGES = 10_000;
/** Tag list pages and token responses are JSON we hold in memory: cap them too. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
/** Error bodies are read only this far, for the OCI error code. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;
/** A token is used until this long before it expires (clock skew, request time). */
const TOKEN_EXPIRY_MARGIN_MS = 10_000;
/** The Docker token spec's default lifetime when `expires_in` is absent. */
const DEFAULT_TOKEN_LIFETIME_S = 60;

export interface RemoteCredentials {
  readonly username: string;
  readonly password: string;
}

export interface RemoteClientOptions {
  /**
   * The registry as written in an image reference: `quay.io`,
   * `localhost:5000`, `docker.io` (whose API is registry-1.docker.io).
   */
  readonly registry: string;
  /** Sent as Basic auth to a Basic challenge, or to the token realm of a Bearer challenge; anonymous otherwise. */
  readonly credentials?: RemoteCredentials | undefined;
  /** PEM of a CA to trust in addition to the system roots (a private registry's CA). */
  readonly ca?: string | undefined;
  /** Plain HTTP instead of HTTPS (a registry without TLS). */
  readonly insecure?: boolean | undefined;
  readonly userAgent?: string | undefined;
  /** Connect, response-headers and body-idle timeout per request, in ms. Default 30 s. */
  readonly timeoutMs?: number | undefined;
  /** Manifests larger than this fail with `too-large`. Default 4 MiB. */
  readonly maxManifestBytes?: number | undefined;
  /** Retries after the first attempt on 429, 5xx and connection resets. Default 3. */
  readonly maxRetries?: number | undefined;
  /** First backoff delay; doubles per retry, with jitter. Default 250 ms. */
  readonly retryBaseDelayMs?: number | undefined;
  /** Upper bound of any one wait, including a server's Retry-After. Default 10 s. */
  readonly maxRetryDelayMs?: number | undefined;
}

export interface RemoteManifest {
  /** The digest of `bytes`, verified: the requested digest, else Docker-Content-Digest, else sha256 of the bytes. */
  readonly digest: string;
  /** The media type declared in the manifest, else the Content-Type; inferred from the shape when neither says. */
  readonly mediaType: string;
  /** The manifest exactly as served (digests are over these bytes). */
  readonly bytes: Buffer;
}

export interface RemoteManifestHead {
  /** Docker-Content-Digest (or the requested digest); undefined when a registry sends none for a tag. */
  readonly digest: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
}

export interface RemoteBlobStream {
  /** Content-Length, when the registry sent one. */
  readonly size: number | undefined;
  /**
   * The blob's bytes. Errors with RemoteRegistryError('invalid-response')
   * at the end if they do not match the digest (or the expected size): treat
   * nothing as verified before 'end'. Destroy it to abandon the download.
   */
  readonly stream: DigestVerifier;
}

export interface PingResult {
  /** How the registry asked to be authenticated: not at all, Basic, or the Docker token flow. */
  readonly authScheme: 'none' | 'basic' | 'bearer';
  /** `Docker-Distribution-API-Version`, when sent (`registry/2.0`). */
  readonly apiVersion: string | undefined;
}

type Challenge =
  | { readonly kind: 'bearer'; readonly realm: string; readonly service: string | undefined }
  | { readonly kind: 'basic' };

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

interface SendOptions {
  readonly method: 'GET' | 'HEAD';
  readonly url: URL;
  /** The token scope the request needs (`repository:name:pull`); '' for none (the /v2/ ping). */
  readonly scope: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** What is being fetched, for error messages (`manifest ns/app:1`). */
  readonly what: string;
}

/** Network error codes after which the request is retried (the connection broke, not refused). */
const RETRYABLE_NETWORK_CODES: ReadonlySet<string> = new Set([
  'ECONNRESET', 'EPIPE', 'ECONNABORTED', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED',
]);

const TLS_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH', 'EPROTO',
]);

function errorCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

function isTlsCode(code: string): boolean {
  return TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || code.startsWith('ERR_OSSL_');
}

function header(headers: Dispatcher.ResponseData['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

function headerList(headers: Dispatcher.ResponseData['headers'], name: string): string[] {
  const v = headers[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

/** `https://host/path` without query or userinfo, for error messages (queries may carry signed tokens). */
function safeUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/** Retry-After as a delay in ms (delta-seconds or HTTP-date), undefined when absent or unparseable. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The `rel="next"` target of a Link header (RFC 8288), undefined when there is none. */
export function parseNextLink(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  for (const part of value.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (m === null) continue;
    const params = m[2] ?? '';
    if (/;\s*rel\s*=\s*"?(?:[^";]*\s)?next(?:\s[^";]*)?"?\s*(?:;|$)/i.test(params)) return m[1];
  }
  return undefined;
}

function mediaTypeOf(contentType: string | undefined): string | undefined {
  const t = contentType?.split(';')[0]?.trim().toLowerCase();
  return t === undefined || t === '' ? undefined : t;
}

/** Content types that say nothing about which manifest format a body is. */
const GENERIC_CONTENT_TYPES: ReadonlySet<string> = new Set(['application/json', 'text/plain', 'application/octet-stream']);

export class RemoteRegistryClient {
  /** The registry as given (`docker.io`). */
  readonly registry: string;
  /** `https://registry-1.docker.io`: where requests go. */
  readonly baseUrl: URL;
  readonly #credentials: RemoteCredentials | undefined;
  readonly #insecure: boolean;
  readonly #userAgent: string;
  readonly #maxManifestBytes: number;
  readonly #maxRetries: number;
  readonly #retryBaseDelayMs: number;
  readonly #maxRetryDelayMs: number;
  readonly #agent: Agent;
  /** What the registry asked for last; used up front on later requests, so each scope costs one 401 at most once. */
  #challenge: Challenge | undefined;
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(options: RemoteClientOptions) {
    this.registry = options.registry;
    this.#insecure = options.insecure ?? false;
    this.baseUrl = new URL(`${this.#insecure ? 'http' : 'https'}://${registryApiHost(options.registry)}/`);
    this.#credentials = options.credentials;
    this.#userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    this.#maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.#maxRetries = options.maxRetries ?? 3;
    this.#retryBaseDelayMs = options.retryBaseDelayMs ?? 250;
    this.#maxRetryDelayMs = options.maxRetryDelayMs ?? 10_000;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#agent = new Agent({
      // A private CA is added to the system roots, not put in their place: blobs
      // are often redirected to public object storage or a CDN.
      connect: { timeout, ...(options.ca === undefined ? {} : { ca: [...rootCertificates, options.ca] }) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }

  /** Close idle connections; the client cannot be used afterwards. */
  async close(): Promise<void> {
    await this.#agent.close();
  }

  /**
   * `GET /v2/`, authenticating as a pull would (so wrong credentials fail here
   * with `unauthorized`, as `docker login` does).
   */
  async ping(): Promise<PingResult> {
    const res = await this.#send({ method: 'GET', url: new URL('/v2/', this.baseUrl), scope: '', what: 'registry API' });
    await res.body.dump();
    const apiVersion = header(res.headers, 'docker-distribution-api-version');
    return { authScheme: this.#challenge?.kind ?? 'none', apiVersion };
  }

  /**
   * Every tag of a repository, following `Link: <…>; rel="next"` pages.
   * `pageSize` is sent as `n` (the registry may cap it); without it the
   * registry chooses. Order is the registry's (lexical on Distribution).
   */
  async listTags(repository: string, options: { pageSize?: number } = {}): Promise<string[]> {
    const scope = pullScope(repository);
    let url: URL | undefined = new URL(`/v2/${repository}/tags/list`, this.baseUrl);
    if (options.pageSize !== undefined) url.searchParams.set('n', String(options.pageSize));
    const tags: string[] = [];
    const seen = new Set<string>();
    for (let page = 0; url !== undefined; page++) {
      if (page >= MAX_TAG_PAGES || seen.has(url.href)) {
        throw this.#error('invalid-response', `tag list of ${repository} does not end (page ${page}, ${safeUrl(url)})`, { url });
      }
      seen.add(url.href);
      const res = await this.#send({ method: 'GET', url, scope, what: `tags of ${repository}`, headers: { accept: 'application/json' } });
      const body = await this.#readJson(res, url, `tag list of ${repository}`);
      const list = (body as { tags?: unknown }).tags;
      if (list !== null && list !== undefined && !(Array.isArray(list) && list.every((t) => typeof t === 'string'))) {
        throw this.#error('invalid-response', `tag list of ${repository} is not {"tags": [string]}`, { url });
      }
      if (Array.isArray(list)) tags.push(...(list as string[]));
      const next = parseNextLink(header(res.headers, 'link'));
      url = next === undefined ? undefined : new URL(next, url);
    }
    return tags;
  }

  /**
   * A manifest or index by tag or digest. The bytes are checked against the
   * requested digest and against Docker-Content-Digest; a mismatch is
   * `invalid-response`. Larger than `maxManifestBytes` is `too-large`.
   * The returned media type may be outside `accept` if the registry ignores
   * it (schema1 registries do): callers check.
   */
  async getManifest(repository: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<RemoteManifest> {
    const url = this.#manifestUrl(repository, reference);
    const what = `manifest ${repository}:${reference}`;
    const res = await this.#send({ method: 'GET', url, scope: pullScope(repository), what, headers: { accept: accept.join(', ') } });
    const bytes = await this.#readCapped(res, url, this.#maxManifestBytes, what);
    const claimed = header(res.headers, 'docker-content-digest')?.trim();
    const requested = reference.includes(':') ? reference : undefined;
    try {
      if (requested !== undefined) verifyDigest(bytes, requested);
      if (claimed !== undefined && claimed !== '' && claimed !== requested) verifyDigest(bytes, claimed);
    } catch (err) {
      throw this.#rethrow(err, url, `${what}: `);
    }
    const digest = requested ?? (claimed !== undefined && claimed !== '' ? claimed : computeDigest('sha256', bytes));
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw this.#error('invalid-response', `${what} is not JSON`, { url });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw this.#error('invalid-response', `${what} is not a JSON object`, { url });
    }
    const mediaType = manifestMediaType(parsed as Record<string, unknown>, mediaTypeOf(header(res.headers, 'content-type')));
    if (mediaType === undefined) throw this.#error('invalid-response', `${what} has no recognisable media type`, { url });
    return { digest, mediaType, bytes };
  }

  /**
   * `HEAD` of a manifest: its digest without the body, the cheap way to see
   * whether a tag moved (Docker Hub does not count HEADs against pull limits).
   */
  async headManifest(repository: string, reference: string, accept: readonly string[] = DEFAULT_MANIFEST_ACCEPT): Promise<RemoteManifestHead> {
    const url = this.#manifestUrl(repository, reference);
    const what = `manifest ${repository}:${reference}`;
    const res = await this.#send({ method: 'HEAD', url, scope: pullScope(repository), what, headers: { accept: accept.join(', ') } });
    await res.body.dump();
    const claimed = header(res.headers, 'docker-content-digest')?.trim() || undefined;
    const requested = reference.includes(':') ? reference : undefined;
    if (requested !== undefined && claimed !== undefined && claimed !== requested && digestAlgorithmOrUndefined(claimed) === digestAlgorithmOrUndefined(requested)) {
      throw this.#error('invalid-response', `${what}: the registry says its digest is ${claimed}`, { url });
    }
    const length = header(res.headers, 'content-length');
    return {
      digest: requested ?? claimed,
      mediaType: mediaTypeOf(header(res.headers, 'content-type')),
      size: length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined,
    };
  }

  /**
   * A small blob (an image config) in memory, verified against its digest.
   * More than `maxBytes` is `too-large` (checked on Content-Length and while reading).
   */
  async getBlob(repository: string, digest: string, maxBytes: number): Promise<Buffer> {
    const url = this.#blobUrl(repository, digest);
    const what = `blob ${digest} of ${repository}`;
    const res = await this.#send({ method: 'GET', url, scope: pullScope(repository), what });
    const bytes = await this.#readCapped(res, url, maxBytes, what);
    try {
      verifyDigest(bytes, digest);
    } catch (err) {
      throw this.#rethrow(err, url, `${what}: `);
    }
    return bytes;
  }

  /**
   * A blob as a stream that verifies as it goes (for pull-through): it
   * errors at the end when the digest (or `expectedSize`) does not match.
   * Retries happen only before the first byte; a break mid-stream errors the
   * stream with `unreachable`.
   */
  async openBlob(repository: string, digest: string, options: { expectedSize?: number } = {}): Promise<RemoteBlobStream> {
    try {
      digestAlgorithm(digest);
    } catch (err) {
      throw this.#rethrow(err, undefined, '');
    }
    const url = this.#blobUrl(repository, digest);
    const res = await this.#send({ method: 'GET', url, scope: pullScope(repository), what: `blob ${digest} of ${repository}` });
    const length = header(res.headers, 'content-length');
    const size = length !== undefined && /^\d+$/.test(length) ? Number(length) : undefined;
    if (size !== undefined && options.expectedSize !== undefined && size !== options.expectedSize) {
      discard(res.body);
      throw this.#error('invalid-response', `blob ${digest} of ${repository} is ${size} bytes, expected ${options.expectedSize}`, { url });
    }
    const verifier = new DigestVerifier(digest, { expectedSize: options.expectedSize ?? size });
    const body = res.body;
    body.on('error', (err) => verifier.destroy(this.#networkError(err, url)));
    verifier.on('close', () => {
      if (!body.readableEnded) discard(body);
    });
    body.pipe(verifier);
    return { size, stream: verifier };
  }

  // ---------------------------------------------------------------------------
  // requests

  #manifestUrl(repository: string, reference: string): URL {
    return new URL(`/v2/${repository}/manifests/${encodeURIComponent(reference)}`, this.baseUrl);
  }

  #blobUrl(repository: string, digest: string): URL {
    return new URL(`/v2/${repository}/blobs/${encodeURIComponent(digest)}`, this.baseUrl);
  }

  /**
   * One logical request: authentication, redirects and retries. Resolves with
   * a 2xx response whose body the caller must consume or dump; any other
   * outcome is a RemoteRegistryError.
   */
  async #send(options: SendOptions): Promise<Dispatcher.ResponseData> {
    return await this.#withRetries(options.url, async () => {
      let res = await this.#authorizedRequest(options, false);
      if (res.statusCode === 401 && this.#sameOrigin(res.url)) {
        const renewed = await this.#handleChallenge(res.response, options);
        if (renewed) res = await this.#authorizedRequest(options, true);
      }
      return res.response;
    }, options.what);
  }

  /** Runs `attempt` until it yields a response that is neither 429 nor a retryable 5xx, or retries run out. */
  async #withRetries(url: URL, attempt: () => Promise<Dispatcher.ResponseData>, what: string): Promise<Dispatcher.ResponseData> {
    for (let n = 0; ; n++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await attempt();
      } catch (err) {
        if (err instanceof RemoteRegistryError) throw err;
        const code = errorCode(err);
        if (code !== undefined && RETRYABLE_NETWORK_CODES.has(code) && n < this.#maxRetries) {
          await sleep(this.#backoff(n));
          continue;
        }
        throw this.#networkError(err, url);
      }
      const status = res.statusCode;
      if (status >= 200 && status < 300) return res;
      const retryable = status === 429 || (status >= 500 && status !== 501 && status !== 505);
      if (retryable && n < this.#maxRetries) {
        const retryAfter = parseRetryAfter(header(res.headers, 'retry-after'));
        await res.body.dump().catch(() => undefined);
        await sleep(Math.min(retryAfter ?? this.#backoff(n), this.#maxRetryDelayMs));
        continue;
      }
      throw await this.#statusError(res, url, what);
    }
  }

  #backoff(attempt: number): number {
    const full = Math.min(this.#retryBaseDelayMs * 2 ** attempt, this.#maxRetryDelayMs);
    return full / 2 + Math.random() * (full / 2);
  }

  /** Sends with whatever authorization is known for the scope; follows redirects. */
  async #authorizedRequest(options: SendOptions, afterChallenge: boolean): Promise<{ response: Dispatcher.ResponseData; statusCode: number; url: URL }> {
    const authorization = await this.#authorizationFor(options.scope);
    const res = await this.#followRedirects(options.method, options.url, { ...options.headers }, authorization);
    if (res.response.statusCode === 401 && afterChallenge) {
      // Authenticated as the registry asked and still refused.
      throw await this.#statusError(res.response, res.url, options.what);
    }
    return { response: res.response, statusCode: res.response.statusCode, url: res.url };
  }

  async #followRedirects(
    method: 'GET' | 'HEAD',
    start: URL,
    headers: Record<string, string>,
    authorization: string | undefined,
  ): Promise<{ response: Dispatcher.ResponseData; url: URL }> {
    let url = start;
    for (let hop = 0; ; hop++) {
      const sendHeaders: Record<string, string> = { 'user-agent': this.#userAgent, ...headers };
      // Credentials go to the registry only: a redirect to object storage or a CDN carries its own signature.
      if (authorization !== undefined && this.#sameOrigin(url)) sendHeaders['authorization'] = authorization;
      const response = await request(url, { method, headers: sendHeaders, dispatcher: this.#agent });
      const location = header(response.headers, 'location');
      if (![301, 302, 303, 307, 308].includes(response.statusCode) || location === undefined) return { response, url };
      await response.body.dump();
      if (hop >= MAX_REDIRECTS) throw this.#error('invalid-response', `more than ${MAX_REDIRECTS} redirects from ${safeUrl(start)}`, { url });
      const next = new URL(location, url);
      if (next.protocol !== 'https:' && !(next.protocol === 'http:' && (this.#insecure || url.protocol === 'http:'))) {
        throw this.#error('invalid-response', `refusing a redirect from ${safeUrl(url)} to ${next.protocol} ${safeUrl(next)}`, { url });
      }
      url = next;
    }
  }

  #sameOrigin(url: URL): boolean {
    return url.origin === this.baseUrl.origin;
  }

  /**
   * Learns from a 401 how to authenticate. Returns true when the request
   * should be sent again (with the new token or Basic credentials); throws
   * `unauthorized` when nothing we have can satisfy the challenge.
   */
  async #handleChallenge(res: Dispatcher.ResponseData, options: SendOptions): Promise<boolean> {
    const challenges = parseWwwAuthenticate(headerList(res.headers, 'www-authenticate'));
    const bearer = challenges.find((c) => c.scheme === 'bearer');
    const realm = bearer?.params['realm'];
    if (bearer !== undefined && realm !== undefined && realm !== '') {
      await res.body.dump();
      this.#challenge = { kind: 'bearer', realm, service: bearer.params['service'] };
      this.#tokens.delete(options.scope);
      return true;
    }
    if (challenges.some((c) => c.scheme === 'basic') && this.#credentials !== undefined) {
      await res.body.dump();
      this.#challenge = { kind: 'basic' };
      return true;
    }
    throw await this.#statusError(res, options.url, options.what);
  }

  async #authorizationFor(scope: string): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (challenge === undefined) return undefined;
    if (challenge.kind === 'basic') return this.#credentials === undefined ? undefined : `Basic ${basic(this.#credentials)}`;
    let pending = this.#tokens.get(scope);
    if (pending !== undefined) {
      const cached = await pending.catch(() => undefined);
      if (cached !== undefined && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
      if (this.#tokens.get(scope) === pending) this.#tokens.delete(scope);
    }
    pending = this.#tokens.get(scope) ?? this.#fetchToken(challenge, scope);
    this.#tokens.set(scope, pending);
    try {
      return `Bearer ${(await pending).token}`;
    } catch (err) {
      if (this.#tokens.get(scope) === pending) this.#tokens.delete(scope);
      throw err;
    }
  }

  /** The Docker token flow: `GET realm?service=…&scope=…`, with Basic credentials when we have them. */
  async #fetchToken(challenge: { realm: string; service: string | undefined }, scope: string): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(challenge.realm);
    } catch {
      throw this.#error('invalid-response', `token realm ${JSON.stringify(challenge.realm)} is not a URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw this.#error('invalid-response', `token realm ${JSON.stringify(challenge.realm)} is not http(s)`);
    }
    if (challenge.service !== undefined) url.searchParams.set('service', challenge.service);
    if (scope !== '') url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { 'user-agent': this.#userAgent, accept: 'application/json' };
    if (this.#credentials !== undefined) headers['authorization'] = `Basic ${basic(this.#credentials)}`;
    const res = await this.#withRetries(url, async () => await request(url, { method: 'GET', headers, dispatcher: this.#agent }), 'a registry token');
    const body = await this.#readJson(res, url, 'token response');
    const fields = body as { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    const token = typeof fields.token === 'string' && fields.token !== '' ? fields.token
      : typeof fields.access_token === 'string' && fields.access_token !== '' ? fields.access_token : undefined;
    if (token === undefined) throw this.#error('invalid-response', 'token response has no token', { url });
    const lifetimeS = typeof fields.expires_in === 'number' && fields.expires_in > 0 ? fields.expires_in : DEFAULT_TOKEN_LIFETIME_S;
    // Expiry from our own clock: issued_at is the server's, and clocks differ.
    const margin = Math.min(TOKEN_EXPIRY_MARGIN_MS, (lifetimeS * 1000) / 2);
    return { token, expiresAt: Date.now() + lifetimeS * 1000 - margin };
  }

  // ---------------------------------------------------------------------------
  // bodies and errors

  async #readCapped(res: Dispatcher.ResponseData, url: URL, maxBytes: number, what: string): Promise<Buffer> {
    const length = header(res.headers, 'content-length');
    if (length !== undefined && /^\d+$/.test(length) && Number(length) > maxBytes) {
      discard(res.body);
      throw this.#error('too-large', `${what} is ${length} bytes, more than the limit of ${maxBytes}`, { url });
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        const buf = chunk as Buffer;
        total += buf.length;
        if (total > maxBytes) {
          discard(res.body);
          throw this.#error('too-large', `${what} is more than the limit of ${maxBytes} bytes`, { url });
        }
        chunks.push(buf);
      }
    } catch (err) {
      throw this.#rethrow(err, url, `${what}: `);
    }
    return Buffer.concat(chunks, total);
  }

  async #readJson(res: Dispatcher.ResponseData, url: URL, what: string): Promise<object> {
    const bytes = await this.#readCapped(res, url, MAX_JSON_BYTES, what);
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw this.#error('invalid-response', `${what} is not JSON`, { url });
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw this.#error('invalid-response', `${what} is not a JSON object`, { url });
    }
    return parsed;
  }

  async #statusError(res: Dispatcher.ResponseData, url: URL, what: string): Promise<RemoteRegistryError> {
    const status = res.statusCode;
    let code: string | undefined;
    let detail = '';
    try {
      const bytes = await this.#readCapped(res, url, MAX_ERROR_BODY_BYTES, 'error body');
      const body = JSON.parse(bytes.toString('utf8')) as { errors?: Array<{ code?: unknown; message?: unknown }> };
      const first = body.errors?.[0];
      if (typeof first?.code === 'string') code = first.code;
      if (typeof first?.message === 'string') detail = `: ${first.message}`;
    } catch {
      discard(res.body);
    }
    let reason: RemoteErrorReason;
    if (status === 401 || status === 403) reason = 'unauthorized';
    else if (status === 404) reason = 'not-found';
    else if (status === 429) reason = 'rate-limited';
    else if (status >= 500) reason = 'unreachable';
    else reason = 'invalid-response';
    const message = reason === 'unauthorized' ? `${this.registry} refused access to ${what} (HTTP ${status}${code ? ` ${code}` : ''})${detail}`
      : reason === 'not-found' ? `${what} not found on ${this.registry}${detail}`
      : `${this.registry} answered HTTP ${status}${code ? ` ${code}` : ''} for ${what}${detail}`;
    return this.#error(reason, message, { url, status, code });
  }

  #networkError(err: unknown, url: URL): RemoteRegistryError {
    if (err instanceof RemoteRegistryError) return err;
    const code = errorCode(err);
    const message = err instanceof Error ? err.message : String(err);
    if (code !== undefined && isTlsCode(code)) {
      return this.#error('tls', `TLS with ${url.host} failed (${code}): ${message}`, { url, code, cause: err });
    }
    return this.#error('unreachable', `cannot reach ${url.host}${code ? ` (${code})` : ''}: ${message}`, { url, code, cause: err });
  }

  /** Adds the registry and URL to an error from a helper; wraps network errors. */
  #rethrow(err: unknown, url: URL | undefined, prefix: string): RemoteRegistryError {
    if (err instanceof RemoteRegistryError) {
      if (err.registry !== undefined) return err;
      return this.#error(err.reason, `${prefix}${err.message}`, { url, status: err.status, code: err.code, cause: err });
    }
    return this.#networkError(err, url ?? this.baseUrl);
  }

  #error(reason: RemoteErrorReason, message: string, details: { url?: URL | undefined; status?: number | undefined; code?: string | undefined; cause?: unknown } = {}): RemoteRegistryError {
    return new RemoteRegistryError(reason, message, {
      registry: this.registry,
      url: details.url === undefined ? undefined : safeUrl(details.url),
      status: details.status,
      code: details.code,
      cause: details.cause,
    });
  }
}

/** Abandon a response body: undici reports the abort as an 'error', which nobody needs to hear. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.destroy();
}

function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

function basic(credentials: RemoteCredentials): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64');
}

function digestAlgorithmOrUndefined(digest: string): string | undefined {
  return /^([a-z0-9]+)[+._:-]/.exec(digest)?.[1];
}

/**
 * The manifest's own `mediaType` (covered by the digest, unlike a header)
 * when present, else a specific Content-Type, else inferred from the shape
 * (OCI manifests and indexes may omit the field).
 */
export function manifestMediaType(manifest: Record<string, unknown>, contentType: string | undefined): string | undefined {
  const declared = manifest['mediaType'];
  if (typeof declared === 'string' && declared !== '') return declared;
  if (contentType !== undefined && !GENERIC_CONTENT_TYPES.has(contentType)) return contentType;
  if (manifest['schemaVersion'] === 1) return 'signatures' in manifest ? MEDIA_TYPES.dockerSchema1Signed : MEDIA_TYPES.dockerSchema1;
  if (manifest['schemaVersion'] === 2) {
    if (Array.isArray(manifest['manifests'])) return MEDIA_TYPES.ociIndex;
    if (manifest['config'] !== null && typeof manifest['config'] === 'object') return MEDIA_TYPES.ociManifest;
  }
  return undefined;
}
