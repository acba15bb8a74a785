/**
 * What the image-stream API tests share: the resource API plugin wired with
 * the real authorizer, authenticator and a bootstrapped cluster admin; calls
 * through `inject` with their assertions; polling; and a proxy in front of a
 * remote registry that holds manifest requests (a slow remote, or one the
 * test releases when it is ready).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { Agent } from 'undici';
import { AccessService } from '../../src/authz/access-service.ts';
import { RbacAuthorizer } from '../../src/authz/rbac-authorizer.ts';
import { apiPlugin } from '../../src/http/api/plugin.ts';
import { Authenticator } from '../../src/identity/authenticator.ts';
import { LoginRateLimiter } from '../../src/identity/login-rate-limiter.ts';
import { RegistryTokens } from '../../src/identity/registry-tokens.ts';
import { SecretBox } from '../../src/identity/secret-box.ts';
import { SigningKeys } from '../../src/identity/signing-keys.ts';
import type { ImageStreamService } from '../../src/imagestreams/image-stream-service.ts';
import type { ImageImporter, PullSecrets } from '../../src/imagestreams/import-contract.ts';
import type { KyselyMetadata } from '../../src/metadata/open-metadata.ts';
import type { Clock } from '../../src/registry/clock.ts';
import { forwardRequest } from './remote-registry.ts';

/** The resource API's prefix. */
export const V1 = '/apis/berth.dev/v1';

/** A JSON answer, with the fields the tests read most. */
export type Json = Record<string, unknown> & { items?: Json[]; metadata?: Json; status?: Json; spec?: Json; image?: Json };

export interface Answer {
  readonly res: LightMyRequestResponse;
  readonly json: Json;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

export interface ImageStreamApiOptions {
  readonly metadata: KyselyMetadata;
  readonly imageStreams: ImageStreamService;
  readonly clock: Clock;
  /** Host (and port) of pull specs, as the ImageStreamService was given it. */
  readonly pullSpecHost: string;
  readonly importer?: ImageImporter | undefined;
  readonly pullSecrets?: PullSecrets | undefined;
  /** Runs on the Fastify instance before the plugin registers (e.g. an onRoute hook). */
  readonly beforeRegister?: ((app: FastifyInstance) => void) | undefined;
}

export interface ImageStreamApi {
  readonly app: FastifyInstance;
  /** `Basic` credentials of the bootstrapped cluster admin. */
  readonly admin: string;
  /**
   * One call below /apis/berth.dev/v1 (`path` without a leading '/'; with
   * one, as is). Each from its own client address, so that the login rate
   * limiter never counts the tests' calls together.
   */
  call(method: Method, path: string, options?: { readonly auth?: string | undefined; readonly body?: unknown; readonly headers?: Readonly<Record<string, string>> }): Promise<Answer>;
}

let calls = 0;

/** The resource API plugin on a fresh Fastify instance, with self-provisioning on and a cluster admin bootstrapped. */
export async function startImageStreamApi(options: ImageStreamApiOptions): Promise<ImageStreamApi> {
  const { metadata, clock } = options;
  const authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: true, clock, cacheTtlMs: 0 });
  const keys = new SigningKeys({ store: metadata.signingKeys, box: new SecretBox(randomBytes(32)), clock });
  const tokens = new RegistryTokens({ keys, issuer: 'https://registry.test/v2/token', service: 'registry.test', clock });
  const authenticator = new Authenticator({ metadata, tokens, limiter: new LoginRateLimiter({ maxFailures: 50, clock }), clock });
  const access = new AccessService({ metadata, authorizer, clock, selfProvisioning: true });
  const boot = await access.bootstrapAdmin({});
  assert.ok(boot.created && boot.generatedPassword !== undefined);
  const admin = basic('admin', boot.generatedPassword);
  const app = Fastify();
  options.beforeRegister?.(app);
  await app.register(apiPlugin, {
    access,
    authorizer,
    authenticator,
    metadata,
    externalUrl: `https://${options.pullSpecHost}`,
    imageStreams: options.imageStreams,
    ...(options.importer === undefined ? {} : { importer: options.importer }),
    ...(options.pullSecrets === undefined ? {} : { pullSecrets: options.pullSecrets }),
  });
  await app.ready();
  const call: ImageStreamApi['call'] = async (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.auth !== undefined) headers['authorization'] = o.auth;
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    calls++;
    const res = await app.inject({
      method,
      remoteAddress: `10.9.${Math.floor(calls / 250) % 250}.${calls % 250}`,
      url: path.startsWith('/') ? path : `${V1}/${path}`,
      headers,
      ...(o.body === undefined ? {} : { payload: JSON.stringify(o.body) }),
    });
    return { res, json: res.body === '' ? {} : (JSON.parse(res.body) as Json) };
  };
  return { app, admin, call };
}

/** The answer's JSON, after checking its status code. */
export function ok(answer: Answer, code = 200): Json {
  assert.equal(answer.res.statusCode, code, answer.res.body);
  return answer.json;
}

/** A Kubernetes Status failure with this code and reason (and a message matching `message`). */
export function assertStatus(answer: Answer, code: number, reason: string, message?: RegExp): void {
  assert.equal(answer.res.statusCode, code, answer.res.body);
  assert.equal(answer.json['kind'], 'Status');
  assert.equal(answer.json['status'], 'Failure');
  assert.equal(answer.json['reason'], reason);
  assert.equal(answer.json['code'], code);
  if (message !== undefined) assert.match(String(answer.json['message']), message);
}

/** Polls `fn` until it returns something other than undefined. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 20_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export interface RegistryProxy {
  /** `127.0.0.1:port`, plain HTTP. */
  readonly hostPort: string;
  stop(): Promise<void>;
}

/**
 * A plain-HTTP proxy to `target` that forwards each manifest request only
 * once `hold(url)` has settled; every other request at once.
 */
export async function startManifestProxy(target: { readonly url: string }, hold: (url: string) => Promise<void>): Promise<RegistryProxy> {
  const dispatcher = new Agent();
  const server = createServer((req, res) => {
    void (async () => {
      if (/\/manifests\//.test(req.url ?? '')) await hold(req.url ?? '');
      await forwardRequest(req, res, target.url, dispatcher, 'client');
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(502);
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    hostPort: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await dispatcher.close();
    },
  };
}

/** A slow remote: each manifest request waits `delayMs`. */
export function startDelayProxy(target: { readonly url: string }, delayMs: number): Promise<RegistryProxy> {
  return startManifestProxy(target, () => sleep(delayMs));
}

/** A remote whose manifests wait until the test calls `release()` (requests after it pass at once). */
export async function startHeldProxy(target: { readonly url: string }): Promise<RegistryProxy & { release(): void; readonly held: () => number }> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  let held = 0;
  const proxy = await startManifestProxy(target, async () => {
    held++;
    await released;
  });
  return {
    ...proxy,
    release,
    held: () => held,
    // Never leave a request hanging: stopping releases what is held.
    stop: async () => {
      release();
      await proxy.stop();
    },
  };
}
