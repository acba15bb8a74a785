import type { Principal } from '../authz/authorizer.ts';

/** What `berth import-image` and `POST …/imagestreams/{name}/import` ask for. */
export interface ImportRequest {
  /** `registry/ns/name[:tag|@digest]`; default: the stream's `spec.dockerImageRepository`. */
  readonly from?: string | undefined;
  /** Every tag of the remote repository, not only the one named (or `latest`). */
  readonly all?: boolean | undefined;
  /** Keep re-checking on the scheduled-import interval. */
  readonly scheduled?: boolean | undefined;
  /** Plain HTTP or an untrusted certificate is acceptable for this remote. */
  readonly insecure?: boolean | undefined;
  /** Create the stream when it does not exist (`--confirm`). */
  readonly confirm?: boolean | undefined;
}

export interface ImportedTag {
  readonly tag: string;
  readonly digest: string;
  /** False when the remote tag still pointed at the digest the stream already had. */
  readonly changed: boolean;
}

export interface FailedTag {
  readonly tag: string;
  /** Kubernetes-style reason recorded in the stream's condition (`Unauthorized`, `NotFound`, `Unreachable`, `InvalidManifest`…). */
  readonly reason: string;
  readonly message: string;
}

export interface ImportResult {
  readonly project: string;
  readonly stream: string;
  readonly tagsFound: number;
  readonly imported: readonly ImportedTag[];
  readonly failed: readonly FailedTag[];
}

/** Progress of a running import, for the CLI's progress display. */
export type ImportProgress = { readonly phase: 'tags'; readonly found: number } | { readonly phase: 'manifest'; readonly done: number; readonly total: number; readonly tag: string };

/** Imports image metadata from external registries into image streams (blobs stay remote). */
export interface ImageImporter {
  importStream(project: string, stream: string, request: ImportRequest, actor: Principal, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult>;
  /**
   * Makes the stream due for import at once and has the scheduled importer
   * run it in the background soon: what creating a stream (or changing its
   * spec) through the API does, since that answer must not wait on a remote.
   * False when there is no such stream.
   */
  requestImport(project: string, stream: string): Promise<boolean>;
}

/** A pull secret as the API shows it: never its credentials. */
export interface PullSecretView {
  readonly project: string;
  readonly name: string;
  readonly type: 'kubernetes.io/dockerconfigjson';
  /** The registry hosts it holds credentials for. */
  readonly registries: readonly string[];
  readonly createdAt: number;
}

/** Per-project credentials for private registries, stored encrypted at rest. */
export interface PullSecrets {
  /** `dockerConfigJson` is an auth.json document (`{"auths":{"host":{"auth":base64(user:pass)}}}` or username/password fields). */
  create(project: string, name: string, dockerConfigJson: string): Promise<PullSecretView>;
  list(project: string): Promise<PullSecretView[]>;
  get(project: string, name: string): Promise<PullSecretView>;
  delete(project: string, name: string): Promise<void>;
  /** The credentials of the project's secrets for a registry host, if any (for import and pull-through; never for the API). */
  credentialsFor(project: string, registryHost: string): Promise<{ username: string; password: string } | undefined>;
}
