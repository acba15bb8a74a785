/**
 * Image references as docker and podman parse them
 * (github.com/distribution/reference, "normalize.go"): `name`,
 * `ns/name:tag`, `host:5000/ns/name@sha256:…`, `localhost/x`.
 * Pure: no I/O.
 */
import { parseDigest } from '../oci/digest.ts';

/** The registry a reference without a host part means. */
export const DOCKER_HUB = 'docker.io';
/** Where Docker Hub's Distribution API actually answers. */
export const DOCKER_HUB_API_HOST = 'registry-1.docker.io';
const DOCKER_HUB_LEGACY = 'index.docker.io';
const OFFICIAL_NAMESPACE = 'library';
export const DEFAULT_TAG = 'latest';
const MAX_NAME_LENGTH = 255;

export type ReferenceErrorReason =
  | 'empty'
  | 'invalid-format'
  | 'uppercase-repository'
  | 'name-too-long'
  | 'invalid-tag'
  | 'invalid-digest'
  | 'hex-repository';

export class ImageReferenceError extends Error {
  override readonly name = 'ImageReferenceError';
  readonly reason: ReferenceErrorReason;
  readonly input: string;
  constructor(reason: ReferenceErrorReason, input: string, message: string) {
    super(message);
    this.reason = reason;
    this.input = input;
  }
}

export interface ImageReference {
  /** The registry as docker names it: `docker.io`, `quay.io`, `localhost:5000`, `[::1]:5000`. */
  readonly registry: string;
  /** The repository path within the registry, normalised (`library/nginx` on Docker Hub). */
  readonly repository: string;
  /** The tag, when given (or the default tag when neither tag nor digest was given and a default applies). */
  readonly tag: string | undefined;
  /** `algorithm:hex`, when given; takes precedence over the tag when pulling. */
  readonly digest: string | undefined;
}

export interface ParseReferenceOptions {
  /**
   * The tag to assume when the reference names neither tag nor digest;
   * `false` leaves both undefined (a whole repository, as for `import-image --all`).
   * Default `latest`.
   */
  readonly defaultTag?: string | false;
}

// distribution/reference regexp.go
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const IPV6 = '\\[(?:[a-fA-F0-9:]+)\\]';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|${IPV6})(?::[0-9]+)?$`);
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*';
const PATH = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const HEX_ID = /^[a-f0-9]{64}$/;

/**
 * Parse a reference the way `docker pull` does. The first `/`-separated
 * component is a registry host when it contains `.` or `:`, is `localhost`,
 * or has upper-case letters; otherwise the reference is on Docker Hub, where
 * one-component names live under `library/`. Throws ImageReferenceError.
 */
export function parseImageReference(text: string, options: ParseReferenceOptions = {}): ImageReference {
  if (text.length === 0) throw new ImageReferenceError('empty', text, 'empty image reference');
  let rest = text;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const rawDigest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    try {
      digest = parseDigest(rawDigest).value;
    } catch {
      throw new ImageReferenceError('invalid-digest', text, `invalid digest ${JSON.stringify(rawDigest)} in image reference ${JSON.stringify(text)}`);
    }
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) {
      throw new ImageReferenceError('invalid-tag', text, `invalid tag ${JSON.stringify(tag)} in image reference ${JSON.stringify(text)}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
    }
  }
  if (rest.length === 0) throw new ImageReferenceError('invalid-format', text, `image reference ${JSON.stringify(text)} has no repository name`);
  if (HEX_ID.test(rest)) {
    throw new ImageReferenceError('hex-repository', text, `${JSON.stringify(rest)} looks like an image ID; a repository name cannot be 64 hexadecimal digits`);
  }

  let registry: string;
  let repository: string;
  const slash = rest.indexOf('/');
  const first = slash === -1 ? '' : rest.slice(0, slash);
  if (slash === -1 || (!/[.:]/.test(first) && first !== 'localhost' && first.toLowerCase() === first)) {
    registry = DOCKER_HUB;
    repository = rest;
  } else {
    registry = first;
    repository = rest.slice(slash + 1);
    if (!DOMAIN.test(registry)) {
      throw new ImageReferenceError('invalid-format', text, `invalid registry host ${JSON.stringify(registry)} in image reference ${JSON.stringify(text)}`);
    }
  }
  if (registry === DOCKER_HUB_LEGACY) registry = DOCKER_HUB;
  if (repository.toLowerCase() !== repository) {
    throw new ImageReferenceError('uppercase-repository', text, `repository name ${JSON.stringify(repository)} must be lowercase`);
  }
  if (!PATH.test(repository)) {
    throw new ImageReferenceError('invalid-format', text, `invalid repository name ${JSON.stringify(repository)} in image reference ${JSON.stringify(text)}: lowercase letters and digits, with separators (. _ __ -) between '/'-separated components`);
  }
  if (registry === DOCKER_HUB && !repository.includes('/')) repository = `${OFFICIAL_NAMESPACE}/${repository}`;
  if (registry.length + 1 + repository.length > MAX_NAME_LENGTH) {
    throw new ImageReferenceError('name-too-long', text, `image name ${JSON.stringify(`${registry}/${repository}`)} is longer than ${MAX_NAME_LENGTH} characters`);
  }
  const defaultTag = options.defaultTag ?? DEFAULT_TAG;
  if (tag === undefined && digest === undefined && defaultTag !== false) tag = defaultTag;
  return { registry, repository, tag, digest };
}

/** The host (and port) whose `/v2/` API serves a registry: Docker Hub's API lives at registry-1.docker.io. */
export function registryApiHost(registry: string): string {
  return registry === DOCKER_HUB || registry === DOCKER_HUB_LEGACY ? DOCKER_HUB_API_HOST : registry;
}

/** What to ask the registry's manifest endpoint for: the digest if there is one, else the tag. */
export function manifestReference(ref: ImageReference): string | undefined {
  return ref.digest ?? ref.tag;
}

/** The fully qualified form: `docker.io/library/nginx:latest`, `host:5000/a/b@sha256:…`. */
export function formatImageReference(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}

/** The short form docker prints: `nginx:latest`, `user/app:1`, other registries in full. */
export function familiarImageReference(ref: ImageReference): string {
  let name = `${ref.registry}/${ref.repository}`;
  if (ref.registry === DOCKER_HUB) {
    name = ref.repository.startsWith(`${OFFICIAL_NAMESPACE}/`) && ref.repository.split('/').length === 2
      ? ref.repository.slice(OFFICIAL_NAMESPACE.length + 1)
      : ref.repository;
  }
  return `${name}${ref.tag === undefined ? '' : `:${ref.tag}`}${ref.digest === undefined ? '' : `@${ref.digest}`}`;
}
