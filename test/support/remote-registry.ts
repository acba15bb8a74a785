/**
 * CNCF Distribution (`/usr/bin/docker-registry`) as a REMOTE registry for
 * tests of import and pull-through: anonymous, htpasswd Basic auth, or the
 * Docker token flow (a small token server here signs JWTs that Distribution
 * verifies against its rootcertbundle), over plain HTTP or TLS with a
 * generated CA. Plus raw-HTTP seeding: monolithic blob upload (POST, then PUT
 * with the bytes) and manifest PUT.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createHash, randomBytes, randomUUID, X509Certificate } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import bcrypt from 'bcryptjs';
import { importPKCS8, SignJWT } from 'jose';
import { Agent, request } from 'undici';
import { distributionConfig, freePort, generateTestCa } from './berth-server.ts';

const execFileAsync = promisify(execFile);
const READY_TIMEOUT_MS = 30_000;

export type RemoteAuthMode = 'none' | 'htpasswd' | 'token';

export interface RemoteRegistryOptions {
  /** Default 'none'. */
  auth?: RemoteAuthMode;
  /** Serve HTTPS with a generated CA (default: plain HTTP). */
  tls?: boolean;
  /** Users for htpasswd / token auth (username → password). Default `{ alice: 'wonderland' }`. */
  users?: Record<string, string>;
  /** Lifetime of tokens the token server issues, in seconds (default 300). */
  tokenLifetimeSeconds?: number;
  /** Anonymous token requests get pull access (default true); false makes the registry private. */
  anonymousPull?: boolean;
}

export interface RemoteRegistry {
  /** `http://127.0.0.1:<port>` or `https://…`. */
  readonly url: string;
  /** `127.0.0.1:<port>`, the registry part of an image reference. */
  readonly hostPort: string;
  readonly auth: RemoteAuthMode;
  /** PEM of the CA that signed the server certificate (TLS only). */
  readonly caPem: string | undefined;
  readonly users: Readonly<Record<string, string>>;
  /** Requests the token server answered (token mode), newest last. */
  tokenRequests(): Array<{ scope: string[]; user: string | undefined; status: number }>;
  /** An Authorization header value with push+pull on `repository` (undefined when anonymous). */
  authorization(repository: string): Promise<string | undefined>;
  /** Upload a blob: POST an upload, PUT the bytes with `?digest=`. Returns the digest. */
  pushBlob(repository: string, bytes: Buffer): Promise<string>;
  /** PUT a manifest under a tag or digest. Returns its sha256 digest. */
  pushManifest(repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string>;
  /** Push an image's blobs, then its manifest under `reference`. */
  pushImage(repository: string, reference: string, image: TestImage): Promise<string>;
  /** Push each image by digest, then the index under `reference`. */
  pushIndex(repository: string, reference: string, index: TestIndex): Promise<string>;
  /** Output of docker-registry, for failure messages. */
  outputTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface TestImage {
  readonly config: Buffer;
  readonly layers: Buffer[];
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

export interface TestIndex {
  readonly images: TestImage[];
  readonly manifest: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

export function sha256(bytes: Buffer | string): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

const OCI = {
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar+gzip',
} as const;
const DOCKER = {
  manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  list: 'application/vnd.docker.distribution.manifest.list.v2+json',
  config: 'application/vnd.docker.container.image.v1+json',
  layer: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

/**
 * A tiny image (a config and one or two small layers of seeded bytes; the
 * registry does not look inside layers) in OCI or Docker schema2 format.
 */
export function testImage(seed: string, format: 'oci' | 'docker' = 'oci', platform = { architecture: 'amd64', os: 'linux' }): TestImage {
  const layers = [Buffer.from(`layer one of ${seed}\n`), Buffer.from(`layer two of ${seed}\n${'x'.repeat(seed.length * 7)}`)];
  const config = Buffer.from(JSON.stringify({
    ...platform,
    created: '2026-01-02T03:04:05Z',
    author: `test ${seed}`,
    config: { Env: [`SEED=${seed}`], Labels: { seed } },
    rootfs: { type: 'layers', diff_ids: layers.map((l) => sha256(l)) },
  }));
  const types = format === 'oci' ? OCI : DOCKER;
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: types.manifest,
    config: { mediaType: types.config, digest: sha256(config), size: config.length },
    layers: layers.map((l) => ({ mediaType: types.layer, digest: sha256(l), size: l.length })),
  }));
  return { config, layers, manifest, mediaType: types.manifest, digest: sha256(manifest) };
}

/** An OCI index (or Docker manifest list) over per-platform images. */
export function testIndex(seed: string, format: 'oci' | 'docker' = 'oci'): TestIndex {
  const platforms = [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux' }];
  const images = platforms.map((p) => testImage(`${seed}-${p.architecture}`, format, p));
  const mediaType = format === 'oci' ? OCI.index : DOCKER.list;
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType,
    manifests: images.map((img, i) => ({ mediaType: img.mediaType, digest: img.digest, size: img.manifest.length, platform: platforms[i] })),
  }));
  return { images, manifest, mediaType, digest: sha256(manifest) };
}

function waitForExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

interface TokenServer {
  readonly realm: string;
  readonly certPath: string;
  mint(user: string | undefined, access: Array<{ type: string; name: string; actions: string[] }>): Promise<string>;
  readonly log: Array<{ scope: string[]; user: string | undefined; status: number }>;
  close(): Promise<void>;
}

const TOKEN_SERVICE = 'berth-test-registry';
const TOKEN_ISSUER = 'berth-test-token-issuer';

/**
 * The issuer side of the Docker token flow, as Docker Hub's auth.docker.io:
 * `GET /token?service=…&scope=repository:name:pull,push`, Basic auth
 * optional. Anonymous callers get pull only (or nothing); a wrong password is 401.
 */
async function startTokenServer(dir: string, users: Record<string, string>, lifetimeS: number, anonymousPull: boolean): Promise<TokenServer> {
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  await execFileAsync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath,
    '-days', '2', '-subj', '/CN=berth test token signer']);
  const key = await importPKCS8(await readFile(keyPath, 'utf8'), 'RS256');
  const certDer = Buffer.from(new X509Certificate(await readFile(certPath)).raw).toString('base64');
  const log: TokenServer['log'] = [];
  const mint: TokenServer['mint'] = async (user, access) => {
    const now = Math.floor(Date.now() / 1000);
    return await new SignJWT({ access })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', x5c: [certDer] })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(user ?? '')
      .setAudience(TOKEN_SERVICE)
      .setIssuedAt(now)
      .setNotBefore(now - 5)
      .setExpirationTime(now + lifetimeS)
      .setJti(randomUUID())
      .sign(key);
  };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://token');
      const scopes = url.searchParams.getAll('scope').flatMap((s) => s.split(' ')).filter((s) => s !== '');
      let user: string | undefined;
      const auth = req.headers.authorization;
      if (auth !== undefined) {
        const m = /^Basic (.+)$/i.exec(auth);
        const decoded = m?.[1] === undefined ? '' : Buffer.from(m[1], 'base64').toString('utf8');
        const colon = decoded.indexOf(':');
        const name = decoded.slice(0, colon);
        if (colon < 0 || users[name] === undefined || users[name] !== decoded.slice(colon + 1)) {
          log.push({ scope: scopes, user: name, status: 401 });
          res.writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Basic realm="token"' });
          res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'wrong username or password' }] }));
          return;
        }
        user = name;
      }
      const access = scopes.flatMap((scope) => {
        const m = /^([a-z]+):(.+):([a-z*,]+)$/.exec(scope);
        if (m === null) return [];
        const wanted = (m[3] ?? '').split(',');
        const actions = user !== undefined ? wanted : anonymousPull ? wanted.filter((a) => a === 'pull') : [];
        return actions.length === 0 ? [] : [{ type: m[1] ?? '', name: m[2] ?? '', actions }];
      });
      const token = await mint(user, access);
      log.push({ scope: scopes, user, status: 200 });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ token, access_token: token, expires_in: lifetimeS, issued_at: new Date().toISOString() }));
    })().catch((err: unknown) => {
      res.writeHead(500);
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    certPath,
    mint,
    log,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Start docker-registry on a free port in a temp dir; resolves when `/v2/` answers (200 or 401). */
export async function startRemoteRegistry(options: RemoteRegistryOptions = {}): Promise<RemoteRegistry> {
  const auth = options.auth ?? 'none';
  const users = options.users ?? { alice: 'wonderland' };
  const dir = await mkdtemp(join(tmpdir(), 'berth-remote-registry-'));
  let child: ChildProcess | undefined;
  let tokenServer: TokenServer | undefined;
  let agent: Agent | undefined;
  const output: string[] = [];
  const cleanup = async (): Promise<void> => {
    if (child !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      if (!(await waitForExit(child, 10_000))) {
        child.kill('SIGKILL');
        await waitForExit(child, 5000);
      }
    }
    await tokenServer?.close();
    await agent?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const tls = options.tls === true ? await generateTestCa(join(dir, 'tls')) : undefined;
    const caPem = tls === undefined ? undefined : await readFile(tls.caPath, 'utf8');
    const port = await freePort();
    const lines = distributionConfig({ rootDirectory: join(dir, 'data'), port, secret: 'berth-remote-test-secret', tls });
    if (auth === 'htpasswd') {
      const htpasswd = join(dir, 'htpasswd');
      // Distribution accepts bcrypt only; bcryptjs writes $2b$, which Go's bcrypt reads.
      await writeFile(htpasswd, Object.entries(users).map(([u, p]) => `${u}:${bcrypt.hashSync(p, 5)}`).join('\n') + '\n');
      lines.push('auth:', '  htpasswd:', '    realm: berth-remote-test', `    path: ${htpasswd}`);
    } else if (auth === 'token') {
      tokenServer = await startTokenServer(dir, users, options.tokenLifetimeSeconds ?? 300, options.anonymousPull ?? true);
      lines.push('auth:', '  token:', `    realm: ${tokenServer.realm}`, `    service: ${TOKEN_SERVICE}`,
        `    issuer: ${TOKEN_ISSUER}`, `    rootcertbundle: ${tokenServer.certPath}`);
    }
    const configPath = join(dir, 'config.yml');
    await writeFile(configPath, lines.join('\n') + '\n');
    child = spawn('docker-registry', ['serve', configPath], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = child;
    const collect = (chunk: Buffer): void => {
      output.push(...chunk.toString('utf8').split('\n').filter((l) => l !== ''));
      if (output.length > 2000) output.splice(0, output.length - 2000);
    };
    started.stdout?.on('data', collect);
    started.stderr?.on('data', collect);
    const spawnError = new Promise<never>((_, reject) => started.once('error', reject));
    spawnError.catch(() => undefined);

    const scheme = tls ? 'https' : 'http';
    const url = `${scheme}://127.0.0.1:${port}`;
    agent = new Agent(caPem === undefined ? {} : { connect: { ca: caPem } });
    const dispatcher = agent;
    const deadline = Date.now() + READY_TIMEOUT_MS;
    for (;;) {
      if (started.exitCode !== null || started.signalCode !== null) {
        throw new Error(`docker-registry exited early (code ${started.exitCode})\n${output.slice(-40).join('\n')}`);
      }
      try {
        const res = await Promise.race([request(`${url}/v2/`, { dispatcher }), spawnError]);
        await res.body.dump();
        if (res.statusCode === 200 || res.statusCode === 401) break;
      } catch (err) {
        if ((err as { code?: string }).code === 'ENOENT') throw new Error('docker-registry is not installed (apt-get install docker-registry)');
      }
      if (Date.now() > deadline) throw new Error(`docker-registry did not answer /v2/ within ${READY_TIMEOUT_MS} ms\n${output.slice(-40).join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }

    const authorization = async (repository: string): Promise<string | undefined> => {
      if (auth === 'htpasswd') {
        const [user, password] = Object.entries(users)[0] ?? [];
        return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
      }
      if (auth === 'token' && tokenServer !== undefined) {
        const user = Object.keys(users)[0];
        return `Bearer ${await tokenServer.mint(user, [{ type: 'repository', name: repository, actions: ['pull', 'push'] }])}`;
      }
      return undefined;
    };
    const send = async (method: 'POST' | 'PUT', target: string, repository: string, body: Buffer | undefined, contentType: string): Promise<{ status: number; location: string | undefined; text: string }> => {
      const headers: Record<string, string> = { 'content-type': contentType, 'content-length': String(body?.length ?? 0) };
      const authz = await authorization(repository);
      if (authz !== undefined) headers['authorization'] = authz;
      const res = await request(new URL(target, url), { method, headers, body: body ?? null, dispatcher });
      const text = await res.body.text();
      const location = res.headers['location'];
      return { status: res.statusCode, location: typeof location === 'string' ? location : undefined, text };
    };
    const pushBlob = async (repository: string, bytes: Buffer): Promise<string> => {
      const digest = sha256(bytes);
      const started = await send('POST', `/v2/${repository}/blobs/uploads/`, repository, undefined, 'application/octet-stream');
      if (started.status !== 202 || started.location === undefined) throw new Error(`POST upload to ${repository}: ${started.status} ${started.text}`);
      const target = new URL(started.location, url);
      target.searchParams.set('digest', digest);
      const done = await send('PUT', target.toString(), repository, bytes, 'application/octet-stream');
      if (done.status !== 201) throw new Error(`PUT blob ${digest} to ${repository}: ${done.status} ${done.text}`);
      return digest;
    };
    const pushManifest = async (repository: string, reference: string, bytes: Buffer, mediaType: string): Promise<string> => {
      const res = await send('PUT', `/v2/${repository}/manifests/${reference}`, repository, bytes, mediaType);
      if (res.status !== 201) throw new Error(`PUT manifest ${repository}:${reference}: ${res.status} ${res.text}`);
      return sha256(bytes);
    };
    const pushImage = async (repository: string, reference: string, image: TestImage): Promise<string> => {
      await pushBlob(repository, image.config);
      for (const layer of image.layers) await pushBlob(repository, layer);
      return await pushManifest(repository, reference, image.manifest, image.mediaType);
    };
    const server = tokenServer;
    let stopped = false;
    return {
      url,
      hostPort: `127.0.0.1:${port}`,
      auth,
      caPem,
      users,
      tokenRequests: () => [...(server?.log ?? [])],
      authorization,
      pushBlob,
      pushManifest,
      pushImage,
      pushIndex: async (repository, reference, index) => {
        for (const image of index.images) await pushImage(repository, image.digest, image);
        return await pushManifest(repository, reference, index.manifest, index.mediaType);
      },
      outputTail: (n = 40) => output.slice(-n).join('\n'),
      stop: async () => {
        if (stopped) return;
        stopped = true;
        await cleanup();
      },
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** A random-looking but valid digest that no registry holds. */
export function unknownDigest(): string {
  return `sha256:${randomBytes(32).toString('hex')}`;
}

/** What the fault proxy does with one request. */
export type FaultAction =
  | { readonly kind: 'forward' }
  | { readonly kind: 'status'; readonly status: number; readonly retryAfter?: string }
  /** Destroy the connection without answering (a connection reset). */
  | { readonly kind: 'reset' }
  /** 307 to the proxy's second origin (another port), as a registry redirects blobs to a CDN. */
  | { readonly kind: 'redirect' };

export interface ProxiedRequest {
  readonly origin: 'main' | 'redirect';
  readonly method: string;
  readonly path: string;
  readonly authorization: string | undefined;
}

export interface FaultProxy {
  /** `127.0.0.1:<port>`: point the client here. */
  readonly hostPort: string;
  /** The second origin that redirects go to. */
  readonly redirectHostPort: string;
  /** Every request either origin received, in order. */
  requests(): ProxiedRequest[];
  stop(): Promise<void>;
}

/**
 * Forwards one request to `targetUrl` (same path) and streams the answer
 * back. `authorization`: 'client' passes the client's header on, a string
 * replaces it, undefined sends none.
 */
export async function forwardRequest(req: IncomingMessage, res: ServerResponse, targetUrl: string, dispatcher: Agent, authorization: 'client' | string | undefined): Promise<void> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    if (name === 'host' || name === 'connection' || value === undefined) continue;
    if (name === 'authorization' && authorization !== 'client') continue;
    headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  if (authorization !== undefined && authorization !== 'client') headers['authorization'] = authorization;
  const upstream = await request(new URL(req.url ?? '/', targetUrl), { method: (req.method ?? 'GET') as 'GET', headers, dispatcher });
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding' && name !== 'keep-alive') out[name] = value;
  }
  res.writeHead(upstream.statusCode, out);
  for await (const chunk of upstream.body) res.write(chunk);
  res.end();
}

/**
 * A plain-HTTP proxy in front of a real (plain-HTTP) registry that injects
 * the faults Distribution never produces on its own: 429 with Retry-After,
 * 5xx, connection resets, redirects of blobs to another origin. `decide`
 * sees each request to the main origin; requests to the redirect origin are
 * forwarded with the registry's own authorization, like a pre-signed URL.
 */
export async function startFaultProxy(target: RemoteRegistry, decide: (req: ProxiedRequest, index: number) => FaultAction): Promise<FaultProxy> {
  const log: ProxiedRequest[] = [];
  const dispatcher = new Agent();
  let redirectPort = 0;
  const forward = (req: IncomingMessage, res: ServerResponse, authorization: string | undefined): Promise<void> =>
    forwardRequest(req, res, target.url, dispatcher, authorization);
  const handler = (origin: 'main' | 'redirect') => (req: IncomingMessage, res: ServerResponse): void => {
    void (async () => {
      const entry: ProxiedRequest = { origin, method: req.method ?? 'GET', path: req.url ?? '/', authorization: req.headers.authorization };
      log.push(entry);
      if (origin === 'redirect') {
        const path = new URL(entry.path, 'http://x');
        path.searchParams.delete('signed');
        req.url = `${path.pathname}${path.search}`;
        await forward(req, res, await target.authorization(/^\/v2\/(.+)\/blobs\//.exec(path.pathname)?.[1] ?? ''));
        return;
      }
      const action = decide(entry, log.filter((r) => r.origin === 'main').length - 1);
      if (action.kind === 'reset') {
        req.socket.destroy();
      } else if (action.kind === 'status') {
        res.writeHead(action.status, { 'content-type': 'application/json', ...(action.retryAfter === undefined ? {} : { 'retry-after': action.retryAfter }) });
        res.end(JSON.stringify({ errors: [{ code: action.status === 429 ? 'TOOMANYREQUESTS' : 'UNAVAILABLE', message: 'injected fault' }] }));
      } else if (action.kind === 'redirect') {
        const sep = entry.path.includes('?') ? '&' : '?';
        res.writeHead(307, { location: `http://127.0.0.1:${redirectPort}${entry.path}${sep}signed=1`, 'content-length': '0' });
        res.end();
      } else {
        await forward(req, res, entry.authorization);
      }
    })().catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
  };
  const main = createServer(handler('main'));
  const second = createServer(handler('redirect'));
  const listen = (server: Server): Promise<number> => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
  const mainPort = await listen(main);
  redirectPort = await listen(second);
  return {
    hostPort: `127.0.0.1:${mainPort}`,
    redirectHostPort: `127.0.0.1:${redirectPort}`,
    requests: () => [...log],
    stop: async () => {
      for (const server of [main, second]) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await dispatcher.close();
    },
  };
}
