/**
 * Helpers for access-control e2e tests: a small client of the resource API
 * (`/apis/berth.dev/v1`) that authenticates as any principal (Basic
 * user:password, Bearer with a service-account or access token, or nobody),
 * direct calls of the registry token endpoint (`/v2/token`), and JWT
 * decoding and tampering for token tests.
 *
 * Built on undici with its own Agent, so a test's CA never leaks into others.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'undici';
import { describeResponse, toResponse } from './registry-http.ts';
import type { Credentials, HttpResponse } from './registry-http.ts';

export const API = '/apis/berth.dev/v1';

/** How a request proves who it is: Basic credentials, a bearer token, or nothing (anonymous). */
export type Auth =
  | { readonly kind: 'basic'; readonly username: string; readonly password: string }
  | { readonly kind: 'bearer'; readonly token: string }
  | { readonly kind: 'anonymous' };

export const ANONYMOUS_AUTH: Auth = { kind: 'anonymous' };

export function basicAuth(credentials: Credentials): Auth {
  return { kind: 'basic', username: credentials.username, password: credentials.password };
}

export function authorizationHeader(auth: Auth): Record<string, string> {
  switch (auth.kind) {
    case 'basic':
      return { authorization: `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}` };
    case 'bearer':
      return { authorization: `Bearer ${auth.token}` };
    case 'anonymous':
      return {};
  }
}


/** A Kubernetes-style Status body (errors of the resource API). */
export interface StatusBody {
  kind: 'Status';
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  code: number;
  details?: { name?: string; kind?: string; retryAfterSeconds?: number };
}

export interface RoleBindingBody {
  kind: 'RoleBinding' | 'ClusterRoleBinding';
  metadata: { name: string; namespace?: string };
  roleRef: { kind: string; name: string };
  subjects: Array<{ kind: string; name: string; namespace?: string }>;
}

export interface ServiceAccountTokenBody {
  kind: 'ServiceAccountToken';
  metadata: { name: string; namespace: string };
  spec: { serviceAccountName: string; expirationTimestamp: string | null };
  status: { token?: string; revoked: boolean };
}

export interface RoleBindingListBody {
  kind: 'RoleBindingList';
  items: RoleBindingBody[];
}

/** Plain HTTP(S) requests against one server, for /apis, /oauth and /v2/token. */
export class HttpClient {
  readonly baseUrl: string;
  readonly #agent: Agent;

  constructor(baseUrl: string, ca?: string) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.#agent = new Agent({ connect: ca ? { ca } : {}, headersTimeout: 30_000 });
  }

  static async create(baseUrl: string, caPath?: string): Promise<HttpClient> {
    return new HttpClient(baseUrl, caPath ? await readFile(caPath, 'utf8') : undefined);
  }

  async request(method: string, path: string, options: { auth?: Auth; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResponse> {
    const headers = { ...authorizationHeader(options.auth ?? ANONYMOUS_AUTH), ...options.headers };
    const res = await request(`${this.baseUrl}${path}`, {
      method: method as 'GET',
      headers,
      body: options.body ?? null,
      dispatcher: this.#agent,
    });
    return toResponse(res.statusCode, res.headers, Buffer.from(await res.body.arrayBuffer()));
  }

  /** A JSON request to the resource API (`path` relative to /apis/berth.dev/v1). */
  async api(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, auth: Auth, body?: unknown): Promise<HttpResponse> {
    return await this.request(method, `${API}${path}`, {
      auth,
      ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    });
  }

  /** GET /v2/token with the given auth and scopes. */
  async registryToken(auth: Auth, scopes: string[], service = 'berth'): Promise<HttpResponse> {
    const query = new URLSearchParams({ service });
    for (const scope of scopes) query.append('scope', scope);
    return await this.request('GET', `/v2/token?${query.toString()}`, { auth });
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }
}

/** Assert an API answer's status, with the whole response in the message. */
export function expectStatus(res: HttpResponse, status: number | number[], what: string): void {
  const statuses = Array.isArray(status) ? status : [status];
  if (!statuses.includes(res.status)) {
    throw new Error(`${what}: expected HTTP ${statuses.join(' or ')}, got ${describeResponse(res)}`);
  }
}

/**
 * The administrator's view of the resource API, for setting a scene up:
 * each helper asserts success and returns the created object.
 */
export class AccessAdmin {
  readonly http: HttpClient;
  readonly auth: Auth;

  constructor(http: HttpClient, auth: Auth) {
    this.http = http;
    this.auth = auth;
  }

  async createUser(name: string, password: string): Promise<void> {
    const res = await this.http.api('POST', '/users', this.auth, { metadata: { name }, spec: { password } });
    expectStatus(res, 201, `create user ${name}`);
  }

  async createProject(name: string): Promise<void> {
    const res = await this.http.api('POST', '/projects', this.auth, { metadata: { name } });
    expectStatus(res, 201, `create project ${name}`);
  }

  async bind(project: string, role: string, subject: { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string }): Promise<RoleBindingBody> {
    const res = await this.http.api('POST', `/namespaces/${project}/rolebindings/${role}/subjects`, this.auth, subject);
    expectStatus(res, [200, 201], `bind ${subject.kind} ${subject.name} to ${role} in ${project}`);
    return res.json<RoleBindingBody>();
  }

  async unbind(project: string, role: string, kind: string, name: string): Promise<void> {
    const res = await this.http.api('DELETE', `/namespaces/${project}/rolebindings/${role}/subjects/${kind}/${encodeURIComponent(name)}`, this.auth);
    expectStatus(res, 200, `unbind ${kind} ${name} from ${role} in ${project}`);
  }

  async roleBindings(project: string): Promise<RoleBindingBody[]> {
    const res = await this.http.api('GET', `/namespaces/${project}/rolebindings`, this.auth);
    expectStatus(res, 200, `list role bindings of ${project}`);
    return res.json<RoleBindingListBody>().items;
  }

  async createServiceAccount(project: string, name: string): Promise<void> {
    const res = await this.http.api('POST', `/namespaces/${project}/serviceaccounts`, this.auth, { metadata: { name } });
    expectStatus(res, 201, `create service account ${project}/${name}`);
  }

  /** A new token of a service account: its id and its secret. */
  async createToken(project: string, account: string, expirationSeconds?: number): Promise<{ id: string; token: string }> {
    const body = expirationSeconds === undefined ? {} : { spec: { expirationSeconds } };
    const res = await this.http.api('POST', `/namespaces/${project}/serviceaccounts/${account}/tokens`, this.auth, body);
    expectStatus(res, 201, `create token for ${project}/${account}`);
    const created = res.json<ServiceAccountTokenBody>();
    const token = created.status.token;
    if (token === undefined || token === '') throw new Error(`token creation answered no status.token: ${describeResponse(res)}`);
    return { id: created.metadata.name, token };
  }

  async revokeToken(project: string, account: string, id: string): Promise<void> {
    const res = await this.http.api('DELETE', `/namespaces/${project}/serviceaccounts/${account}/tokens/${id}`, this.auth);
    expectStatus(res, 200, `revoke token ${id} of ${project}/${account}`);
  }
}

/** The payload of a JWT (no verification). */
export function jwtPayload<T = Record<string, unknown>>(token: string): T {
  const part = token.split('.')[1];
  if (part === undefined) throw new Error(`not a JWT: ${token.slice(0, 40)}…`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as T;
}

/** The header of a JWT (no verification). */
export function jwtHeader<T = Record<string, unknown>>(token: string): T {
  const part = token.split('.')[0];
  if (part === undefined) throw new Error(`not a JWT: ${token.slice(0, 40)}…`);
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as T;
}

/** The same JWT with its payload replaced (the old signature kept, so it no longer matches). */
export function withPayload(token: string, payload: unknown): string {
  const [header, , signature] = token.split('.');
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${signature}`;
}

/** The same JWT with one bit of its signature flipped. */
export function withFlippedSignature(token: string): string {
  const [header, payload, signature] = token.split('.');
  const bytes = Buffer.from(signature ?? '', 'base64url');
  if (bytes.length === 0) throw new Error('JWT without signature');
  bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 0x01;
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** The payload re-signed with `alg: none` (an unsigned JWT). */
export function unsigned(token: string, payload: unknown = jwtPayload(token)): string {
  const header = { ...jwtHeader(token), alg: 'none' };
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`;
}
