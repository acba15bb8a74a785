/**
 * Pull secrets: per-project credentials for private remote registries, given
 * as a docker/podman `auth.json` (`kubernetes.io/dockerconfigjson`), stored
 * sealed by the secret box and opened only to authenticate an import or a
 * pull-through fetch. What the API shows (PullSecretView) never holds them.
 */

import type { Metadata, PullSecretRecord } from '../metadata/stores.ts';
import type { Clock } from '../registry/clock.ts';
import type { SecretBox } from '../identity/secret-box.ts';
import type { PullSecrets, PullSecretView } from './import-contract.ts';

export const PULL_SECRET_ERROR_CODES = {
  /** The auth.json (or the secret's name) is not acceptable; the message says what is wrong. */
  INVALID: { status: 422, reason: 'Invalid' },
  NOT_FOUND: { status: 404, reason: 'NotFound' },
  ALREADY_EXISTS: { status: 409, reason: 'AlreadyExists' },
} as const;

export type PullSecretErrorCode = keyof typeof PULL_SECRET_ERROR_CODES;

/** A pull-secret operation refused; the resource API renders it as a Kubernetes Status. */
export class PullSecretError extends Error {
  override readonly name = 'PullSecretError';
  readonly code: PullSecretErrorCode;
  /** HTTP status the API answers with. */
  readonly status: number;
  /** Kubernetes Status `reason`. */
  readonly reason: (typeof PULL_SECRET_ERROR_CODES)[PullSecretErrorCode]['reason'];
  constructor(code: PullSecretErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = PULL_SECRET_ERROR_CODES[code].status;
    this.reason = PULL_SECRET_ERROR_CODES[code].reason;
  }
}

export const PULL_SECRET_TYPE = 'kubernetes.io/dockerconfigjson' as const;

/** An auth.json larger than this is refused: real ones are well under a KiB per registry. */
export const MAX_AUTH_JSON_BYTES = 64 * 1024;

/** Names a Kubernetes Secret may have (DNS-1123 subdomain). */
const SECRET_NAME = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;
const MAX_SECRET_NAME = 253;

/** `host[:port]` as an image reference's registry part (distribution/reference), lower-cased by the caller. */
const REGISTRY_HOST = /^(?:(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])(?:\.(?:[a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9]))*|\[[a-f0-9:]+\])(?::[0-9]{1,5})?$/;

/** Every name Docker Hub's credentials are filed under; all of them mean `docker.io`. */
const DOCKER_HUB_ALIASES: ReadonlySet<string> = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']);

/** Credentials for one registry. */
export interface RegistryCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * A registry host as credentials are matched on it: lower-cased, Docker
 * Hub's aliases folded into `docker.io`. Undefined when it is not a host.
 */
export function normalizeRegistryHost(host: string): string | undefined {
  const lower = host.trim().toLowerCase();
  if (!REGISTRY_HOST.test(lower)) return undefined;
  return DOCKER_HUB_ALIASES.has(lower) ? 'docker.io' : lower;
}

function invalid(message: string): PullSecretError {
  return new PullSecretError('INVALID', `invalid auth.json: ${message}`);
}

function quote(text: string): string {
  return JSON.stringify(text.length > 100 ? `${text.slice(0, 100)}…` : text);
}

/**
 * The host an `auths` key names. Docker writes Docker Hub as
 * `https://index.docker.io/v1/`, so a URL's path is dropped; a bare key with
 * a path (podman's per-repository entries, `quay.io/org/app`) is refused
 * rather than silently widened to the whole registry.
 */
function hostOfKey(key: string): string {
  let hostPart = key.trim();
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(hostPart);
  if (scheme !== null) {
    const protocol = (scheme[1] ?? '').toLowerCase();
    if (protocol !== 'https' && protocol !== 'http') throw invalid(`auths key ${quote(key)}: only http(s) URLs or bare hosts name a registry`);
    hostPart = hostPart.slice(scheme[0].length).split('/')[0] ?? '';
  } else if (hostPart.includes('/')) {
    throw invalid(`auths key ${quote(key)}: per-repository entries are not supported; use the registry host (${quote(hostPart.split('/')[0] ?? '')})`);
  }
  const host = normalizeRegistryHost(hostPart);
  if (host === undefined) throw invalid(`auths key ${quote(key)} is not a registry host (host or host:port)`);
  return host;
}

function credentialsOfEntry(key: string, entry: unknown): RegistryCredentials {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw invalid(`auths[${quote(key)}] must be an object`);
  const fields = entry as Record<string, unknown>;
  const auth = fields['auth'];
  if (auth !== undefined && auth !== '') {
    if (typeof auth !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(auth)) throw invalid(`auths[${quote(key)}].auth must be base64 of "username:password"`);
    const decoded = Buffer.from(auth, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0) throw invalid(`auths[${quote(key)}].auth does not decode to "username:password"`);
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }
  const username = fields['username'];
  const password = fields['password'];
  if (typeof username === 'string' && username !== '' && typeof password === 'string') return { username, password };
  if (typeof fields['identitytoken'] === 'string' || typeof fields['registrytoken'] === 'string') {
    throw invalid(`auths[${quote(key)}] holds an identity/registry token; only "auth" or "username"/"password" are supported`);
  }
  throw invalid(`auths[${quote(key)}] has neither "auth" nor "username" and "password"`);
}

/**
 * Validates an auth.json and returns its credentials by normalised host.
 * @throws PullSecretError INVALID naming what is wrong (never echoing a password).
 */
export function parseAuthJson(text: string): Map<string, RegistryCredentials> {
  if (Buffer.byteLength(text, 'utf8') > MAX_AUTH_JSON_BYTES) throw invalid(`larger than ${MAX_AUTH_JSON_BYTES} bytes`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    // The parser's message may quote the document, which holds credentials.
    throw invalid('not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('must be a JSON object');
  const auths = (body as Record<string, unknown>)['auths'];
  if (typeof auths !== 'object' || auths === null || Array.isArray(auths)) throw invalid('has no "auths" object');
  const out = new Map<string, RegistryCredentials>();
  for (const [key, entry] of Object.entries(auths)) {
    const host = hostOfKey(key);
    const credentials = credentialsOfEntry(key, entry);
    const previous = out.get(host);
    if (previous !== undefined && (previous.username !== credentials.username || previous.password !== credentials.password)) {
      throw invalid(`two auths entries with different credentials name the same registry ${quote(host)}`);
    }
    out.set(host, credentials);
  }
  if (out.size === 0) throw invalid('"auths" is empty');
  return out;
}

function sealContext(project: string, name: string): string {
  return `pull-secret:${project}/${name}`;
}

function toView(record: PullSecretRecord): PullSecretView {
  return { project: record.project, name: record.name, type: record.type, registries: [...record.registries], createdAt: record.createdAt };
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * PullSecrets on the metadata store and the secret box. Authorization
 * (manage-imagestreams on the project) is the caller's; so is checking that
 * the project exists.
 */
export class PullSecretService implements PullSecrets {
  readonly #metadata: Metadata;
  readonly #box: SecretBox;
  readonly #clock: Clock;

  constructor(deps: { metadata: Metadata; secretBox: SecretBox; clock: Clock }) {
    this.#metadata = deps.metadata;
    this.#box = deps.secretBox;
    this.#clock = deps.clock;
  }

  /** @throws PullSecretError INVALID (name or auth.json), ALREADY_EXISTS */
  async create(project: string, name: string, dockerConfigJson: string): Promise<PullSecretView> {
    if (name.length > MAX_SECRET_NAME || !SECRET_NAME.test(name)) {
      throw new PullSecretError('INVALID', `invalid secret name ${quote(name)}: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit`);
    }
    const registries = [...parseAuthJson(dockerConfigJson).keys()].sort(byteOrder);
    const record: PullSecretRecord = {
      project,
      name,
      type: PULL_SECRET_TYPE,
      registries,
      sealed: this.#box.seal(dockerConfigJson, sealContext(project, name)),
      createdAt: this.#clock(),
    };
    if (!(await this.#metadata.pullSecrets.createSecret(record))) {
      throw new PullSecretError('ALREADY_EXISTS', `secret ${project}/${name} already exists: delete it first to replace it`);
    }
    return toView(record);
  }

  async list(project: string): Promise<PullSecretView[]> {
    return (await this.#metadata.pullSecrets.listSecrets(project)).map(toView);
  }

  /** @throws PullSecretError NOT_FOUND */
  async get(project: string, name: string): Promise<PullSecretView> {
    const record = await this.#metadata.pullSecrets.getSecret(project, name);
    if (record === undefined) throw new PullSecretError('NOT_FOUND', `secret ${project}/${name} does not exist`);
    return toView(record);
  }

  /** @throws PullSecretError NOT_FOUND */
  async delete(project: string, name: string): Promise<void> {
    if (!(await this.#metadata.pullSecrets.deleteSecret(project, name))) {
      throw new PullSecretError('NOT_FOUND', `secret ${project}/${name} does not exist`);
    }
  }

  /**
   * The first secret (in byte order of name) with credentials for exactly
   * this host (Docker Hub's aliases are one host). Only secrets listing the
   * host are opened. A secret that no longer opens (master key changed) is
   * skipped: anonymous access may still work, and the import's condition
   * then says the registry refused.
   */
  async credentialsFor(project: string, registryHost: string): Promise<RegistryCredentials | undefined> {
    const host = normalizeRegistryHost(registryHost);
    if (host === undefined) return undefined;
    for (const record of await this.#metadata.pullSecrets.listSecrets(project)) {
      if (!record.registries.includes(host)) continue;
      let text: string;
      try {
        text = this.#box.openString(record.sealed, sealContext(record.project, record.name));
      } catch {
        continue;
      }
      const credentials = parseAuthJson(text).get(host);
      if (credentials !== undefined) return credentials;
    }
    return undefined;
  }
}
