/**
 * A tiny HTTP client for OCI Distribution protocol tests: raw requests with
 * full access to status, headers and body, plus helpers that push blobs
 * (monolithic, POST+PUT, chunked) and manifests the way real clients do.
 * Built on undici with its own Agent, so a test's CA never leaks into others.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

export interface HttpResponse {
  status: number;
  /** Lower-cased header names; repeated headers joined with ", " (except set-cookie). */
  headers: Record<string, string>;
  body: Buffer;
  text(): string;
  json<T = unknown>(): T;
  /** The `code` of each entry in an OCI error body (empty if the body is not one). */
  errorCodes(): string[];
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | string | Readable;
  /** Abort the request when this signal fires. */
  signal?: AbortSignal;
}

export interface OciErrorBody {
  errors: Array<{ code: string; message?: string; detail?: unknown }>;
}

export function digestOf(data: Buffer | string, algorithm: 'sha256' | 'sha512' = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(data).digest('hex')}`;
}

/** A response as the test helpers hand it out (shared by every HTTP helper of the e2e suites). */
export function toResponse(status: number, rawHeaders: Record<string, string | string[] | undefined>, body: Buffer): HttpResponse {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(rawHeaders)) {
    if (value === undefined) continue;
    headers[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return {
    status,
    headers,
    body,
    text: () => body.toString('utf8'),
    json: <T>() => JSON.parse(body.toString('utf8')) as T,
    errorCodes: () => {
      try {
        const parsed = JSON.parse(body.toString('utf8')) as Partial<OciErrorBody>;
        return Array.isArray(parsed.errors) ? parsed.errors.map((e) => String(e.code)) : [];
      } catch {
        return [];
      }
    },
  };
}

/** Describe a response for assertion messages. */
export function describeResponse(res: HttpResponse): string {
  const body = res.body.length > 600 ? `${res.body.subarray(0, 600).toString('utf8')}…` : res.text();
  return `HTTP ${res.status} ${JSON.stringify(res.headers)} ${body}`;
}

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/**
 * The token scopes a request needs, read off its path the way real clients
 * know them before they ask (repository from the URL, `from` of a mount, the
 * catalog); every action is asked for, the token endpoint grants what is allowed.
 */
function scopesFor(url: URL): string[] {
  const path = url.pathname;
  if (path === '/v2/_catalog') return ['registry:catalog:*'];
  // Greedy, anchored on the endpoint's own suffix, like the server's router: names may contain "tags" or "blobs".
  const m = /^\/v2\/(.+)\/(?:blobs\/uploads\/?[^/]*|blobs\/[^/]+|manifests\/[^/]+|tags\/list|referrers\/[^/]+)$/.exec(path);
  if (!m) return [];
  const scopes = [`repository:${m[1]}:pull,push,delete`];
  const from = url.searchParams.get('from');
  if (from) scopes.push(`repository:${from}:pull`);
  return scopes;
}

export class RegistryClient {
  readonly baseUrl: string;
  readonly #agent: Agent;
  readonly #credentials: Credentials | undefined;
  readonly #tokens = new Map<string, { token: string; until: number }>();

  /**
   * `baseUrl` like `https://127.0.0.1:5000`; `ca` is the PEM text of the CA
   * to trust. A response whose headers take longer than `headersTimeoutMs`
   * (default 30 s) fails the request, so one hung request fails one test
   * rather than a whole suite.
   */
  constructor(baseUrl: string, ca?: string, options: { headersTimeoutMs?: number; credentials?: Credentials | undefined } = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#credentials = options.credentials;
    this.#agent = new Agent({
      connect: ca ? { ca } : {},
      // Long streaming uploads: never time out a body in progress.
      bodyTimeout: 0,
      headersTimeout: options.headersTimeoutMs ?? 30_000,
    });
  }

  static async create(baseUrl: string, caPath?: string, options: { headersTimeoutMs?: number; credentials?: Credentials | undefined } = {}): Promise<RegistryClient> {
    return new RegistryClient(baseUrl, caPath ? await readFile(caPath, 'utf8') : undefined, options);
  }

  /** An absolute URL for a path, or a Location header value (absolute or relative). */
  resolve(pathOrUrl: string): string {
    return new URL(pathOrUrl, `${this.baseUrl}/`).toString();
  }

  /**
   * With credentials, a registry token for the scopes (Docker token flow:
   * the realm and service come from the registry's Bearer challenge), cached
   * until shortly before it expires; undefined when the registry asks for none.
   */
  async #bearer(url: URL): Promise<string | undefined> {
    if (this.#credentials === undefined) return undefined;
    const scopes = scopesFor(url);
    const key = scopes.join(' ');
    const cached = this.#tokens.get(key);
    if (cached !== undefined && cached.until > Date.now()) return cached.token;
    const probe = await request(this.resolve('/v2/'), { method: 'GET', dispatcher: this.#agent });
    await probe.body.dump();
    const challenge = String(probe.headers['www-authenticate'] ?? '');
    if (probe.statusCode !== 401 || !/^Bearer /i.test(challenge)) return undefined;
    const realm = /realm="([^"]+)"/.exec(challenge)?.[1];
    const service = /service="([^"]+)"/.exec(challenge)?.[1];
    if (realm === undefined) throw new Error(`Bearer challenge without realm: ${challenge}`);
    const tokenUrl = new URL(realm);
    if (service !== undefined) tokenUrl.searchParams.set('service', service);
    for (const scope of scopes) tokenUrl.searchParams.append('scope', scope);
    const basic = Buffer.from(`${this.#credentials.username}:${this.#credentials.password}`).toString('base64');
    const res = await request(tokenUrl, { method: 'GET', headers: { authorization: `Basic ${basic}` }, dispatcher: this.#agent });
    const body = Buffer.from(await res.body.arrayBuffer()).toString('utf8');
    if (res.statusCode !== 200) throw new Error(`token endpoint answered ${res.statusCode}: ${body}`);
    const parsed = JSON.parse(body) as { token: string; expires_in?: number };
    this.#tokens.set(key, { token: parsed.token, until: Date.now() + ((parsed.expires_in ?? 60) - 10) * 1000 });
    return parsed.token;
  }

  async request(method: string, pathOrUrl: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = new URL(this.resolve(pathOrUrl));
    const headers = { ...options.headers };
    if (headers['authorization'] === undefined) {
      const bearer = await this.#bearer(url);
      if (bearer !== undefined) headers['authorization'] = `Bearer ${bearer}`;
    }
    const res = await request(url, {
      method: method as 'GET',
      headers,
      body: options.body ?? null,
      dispatcher: this.#agent,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const body = Buffer.from(await res.body.arrayBuffer());
    return toResponse(res.statusCode, res.headers, body);
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  // -------------------------------------------------------------------------
  // blobs

  /** Single-request monolithic upload: `POST /v2/<name>/blobs/uploads/?digest=`. */
  async postBlob(repo: string, data: Buffer, digest = digestOf(data)): Promise<HttpResponse> {
    return await this.request('POST', `/v2/${repo}/blobs/uploads/?digest=${encodeURIComponent(digest)}`, {
      headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
      body: data,
    });
  }

  /** Open an upload session; returns the response (202 + Location expected). */
  async startUpload(repo: string, query = ''): Promise<HttpResponse> {
    return await this.request('POST', `/v2/${repo}/blobs/uploads/${query}`, { headers: { 'content-length': '0' } });
  }

  /** Open an upload session and return its Location, asserting 202. */
  async openUpload(repo: string): Promise<string> {
    const res = await this.startUpload(repo);
    if (res.status !== 202 || !res.headers['location']) {
      throw new Error(`POST /v2/${repo}/blobs/uploads/: expected 202 with Location, got ${describeResponse(res)}`);
    }
    return res.headers['location'];
  }

  /** PATCH one chunk at `offset` to an upload location. */
  async patchChunk(location: string, chunk: Buffer, offset: number): Promise<HttpResponse> {
    return await this.request('PATCH', location, {
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(chunk.length),
        'content-range': `${offset}-${offset + chunk.length - 1}`,
      },
      body: chunk,
    });
  }

  /** Close an upload with `PUT <location>?digest=`, optionally carrying the last bytes. */
  async finishUpload(location: string, digest: string, last?: Buffer | Readable, lastLength?: number): Promise<HttpResponse> {
    const url = new URL(this.resolve(location));
    url.searchParams.set('digest', digest);
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream' };
    if (Buffer.isBuffer(last)) headers['content-length'] = String(last.length);
    else if (last && lastLength !== undefined) headers['content-length'] = String(lastLength);
    else if (!last) headers['content-length'] = '0';
    return await this.request('PUT', url.toString(), { headers, ...(last ? { body: last } : {}) });
  }

  /** POST then PUT with the whole blob; returns the PUT response. */
  async pushBlobPostPut(repo: string, data: Buffer, digest = digestOf(data)): Promise<HttpResponse> {
    const location = await this.openUpload(repo);
    return await this.finishUpload(location, digest, data);
  }

  /**
   * Chunked upload: POST, PATCH in `chunkSize` pieces (following each
   * Location), then an empty PUT. Returns the PUT response.
   */
  async pushBlobChunked(repo: string, data: Buffer, chunkSize: number, digest = digestOf(data)): Promise<HttpResponse> {
    let location = await this.openUpload(repo);
    for (let offset = 0; offset < data.length; offset += chunkSize) {
      const res = await this.patchChunk(location, data.subarray(offset, offset + chunkSize), offset);
      if (res.status !== 202 || !res.headers['location']) {
        throw new Error(`PATCH chunk at ${offset}: expected 202 with Location, got ${describeResponse(res)}`);
      }
      location = res.headers['location'];
    }
    return await this.finishUpload(location, digest);
  }

  /** Push a blob (single POST, falling back to POST+PUT if the registry answers 202), asserting 201. */
  async pushBlob(repo: string, data: Buffer): Promise<string> {
    const digest = digestOf(data);
    let res = await this.postBlob(repo, data, digest);
    if (res.status === 202 && res.headers['location']) res = await this.finishUpload(res.headers['location'], digest, data);
    if (res.status !== 201) throw new Error(`pushing blob ${digest} to ${repo}: ${describeResponse(res)}`);
    return digest;
  }

  async headBlob(repo: string, digest: string): Promise<HttpResponse> {
    return await this.request('HEAD', `/v2/${repo}/blobs/${digest}`);
  }

  async getBlob(repo: string, digest: string, headers: Record<string, string> = {}): Promise<HttpResponse> {
    return await this.request('GET', `/v2/${repo}/blobs/${digest}`, { headers });
  }

  // -------------------------------------------------------------------------
  // manifests

  async putManifest(repo: string, reference: string, body: Buffer | string, mediaType: string): Promise<HttpResponse> {
    const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body);
    return await this.request('PUT', `/v2/${repo}/manifests/${reference}`, {
      headers: { 'content-type': mediaType, 'content-length': String(bytes.length) },
      body: bytes,
    });
  }

  /** Push a manifest, asserting 201; returns its digest. */
  async pushManifest(repo: string, reference: string, body: Buffer | string, mediaType: string): Promise<string> {
    const res = await this.putManifest(repo, reference, body, mediaType);
    if (res.status !== 201) throw new Error(`PUT manifest ${repo}:${reference}: ${describeResponse(res)}`);
    return digestOf(body);
  }

  async getManifest(repo: string, reference: string, accept?: string): Promise<HttpResponse> {
    return await this.request('GET', `/v2/${repo}/manifests/${reference}`, {
      headers: accept ? { accept } : {},
    });
  }
}

/** A minimal OCI image in memory: config + layers pushed as blobs, and its manifest bytes. */
export interface MemoryImage {
  config: Buffer;
  layers: Buffer[];
  manifest: Buffer;
  digest: string;
  mediaType: string;
}

/** Build (not push) a small OCI image manifest over the given blobs. */
export function buildManifest(config: Buffer, layers: Buffer[], extra: Record<string, unknown> = {}, configMediaType = 'application/vnd.oci.image.config.v1+json'): MemoryImage {
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: configMediaType, digest: digestOf(config), size: config.length },
      layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: digestOf(l), size: l.length })),
      ...extra,
    }),
  );
  return { config, layers, manifest, digest: digestOf(manifest), mediaType: 'application/vnd.oci.image.manifest.v1+json' };
}

/** Push the blobs and then the manifest of a MemoryImage under `reference`. */
export async function pushImage(client: RegistryClient, repo: string, reference: string, image: MemoryImage): Promise<string> {
  await client.pushBlob(repo, image.config);
  for (const layer of image.layers) await client.pushBlob(repo, layer);
  return await client.pushManifest(repo, reference, image.manifest, image.mediaType);
}

/**
 * A request whose path goes on the wire exactly as given (no URL
 * normalization of `..` or `//`), for malformed-name tests.
 */
export async function rawRequest(
  baseUrl: string,
  method: string,
  path: string,
  options: { ca?: string; headers?: Record<string, string>; body?: Buffer } = {},
): Promise<HttpResponse> {
  const base = new URL(baseUrl);
  const send = base.protocol === 'https:' ? httpsRequest : httpRequest;
  return await new Promise<HttpResponse>((resolveRes, reject) => {
    const req = send(
      {
        host: base.hostname,
        port: base.port,
        method,
        path,
        headers: { ...options.headers, ...(options.body ? { 'content-length': String(options.body.length) } : {}) },
        ...(options.ca ? { ca: options.ca } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolveRes(toResponse(res.statusCode ?? 0, res.headers, Buffer.concat(chunks))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}
