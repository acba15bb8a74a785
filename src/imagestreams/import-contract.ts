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

/** What planImport decided to import; only the importer that made it can run it. */
export interface ImportPlan {
  readonly project: string;
  readonly stream: string;
}

/** Imports image metadata from external registries into image streams (blobs stay remote). */
export interface ImageImporter {
  /**
   * Checks an import request and decides what it imports, from the database
   * alone (no remote is asked), so that a bad request is refused before any
   * answer has begun. Writes nothing.
   * @throws ImageStreamError STREAM_NOT_FOUND (no such stream and no `confirm`), INVALID (bad `from`, or nothing to import from)
   */
  planImport(project: string, stream: string, request: ImportRequest, actor: Principal): Promise<ImportPlan>;
  /**
   * Runs a plan of this importer: fetches from the remotes, then records the
   * outcome in the stream (creating it with `confirm`). Per-tag remote
   * failures are in the result, not thrown.
   * @throws ImageStreamError STREAM_NOT_FOUND (the stream was deleted meanwhile); RemoteRegistryError when no remote could be asked at all.
   */
  runImport(plan: ImportPlan, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult>;
  /**
   * Wakes this process's import scheduler: a write made a stream due for
   * import in its own transaction (creating a stream, or changing its spec,
   * whose answer must not wait on a remote), and the scheduler should run it
   * soon rather than at its next poll.
   */
  wakeScheduler(): void;
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
