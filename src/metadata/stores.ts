/**
 * Metadata contracts: one interface per aggregate, one implementation on
 * Kysely that serves SQLite (embedded default) and PostgreSQL (HA).
 *
 * Authoritative here: repositories, which blobs each repository may serve,
 * manifests and the references they hold, tags, upload sessions. The blob
 * bytes themselves (layers, configs and manifest bodies) live in the
 * BlobDriver under content-addressed keys.
 *
 * Times are milliseconds since the epoch. Digests are `algorithm:hex` strings,
 * already validated by the caller. Repository names are full names
 * (`project/name[/...]`), already validated and normalised by the caller.
 */

export interface RepositoryRecord {
  readonly name: string;
  /** The first path component of the name. */
  readonly project: string;
  readonly createdAt: number;
}

export interface BlobRecord {
  readonly digest: string;
  readonly size: number;
}

export interface ManifestRecord {
  readonly repository: string;
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** `artifactType`, or for an image manifest without one, its config media type (referrers API rule). */
  readonly artifactType: string | null;
  /** Digest of the `subject` manifest, when this manifest refers to another one. */
  readonly subjectDigest: string | null;
  /** The manifest's own `annotations`, as returned by the referrers API. */
  readonly annotations: Readonly<Record<string, string>> | null;
  readonly createdAt: number;
}

/** What a manifest points at: blobs (config, layers) and child manifests (index entries). */
export interface ManifestReference {
  readonly digest: string;
  readonly kind: 'blob' | 'manifest';
}

export interface UploadRecord {
  /** Random session id (UUID), also the upload's storage key suffix. */
  readonly id: string;
  readonly repository: string;
  /** Bytes received and acknowledged so far. */
  readonly size: number;
  readonly createdAt: number;
  readonly updatedAt: number;
}

export interface Page {
  /** Return only names strictly after this one (exclusive cursor). */
  readonly after?: string | undefined;
  /** At most this many names (callers cap it). */
  readonly limit: number;
}

export interface RepositoryStore {
  /** Creates the repository (and nothing else) if absent; returns the stored record either way. */
  ensureRepository(name: string, project: string, now: number): Promise<RepositoryRecord>;
  getRepository(name: string): Promise<RepositoryRecord | undefined>;
  /** Repository names in byte order (indexed; must stay fast at 100,000 repositories). */
  listRepositories(page: Page): Promise<string[]>;
  /** Repository names of one project, in byte order. */
  listProjectRepositories(project: string, page: Page): Promise<string[]>;
  /** Deletes a repository with its blob links, manifests, references and tags. */
  deleteRepository(name: string): Promise<boolean>;
}

export interface BlobStore {
  /** Records a verified blob globally (idempotent). */
  recordBlob(blob: BlobRecord, now: number): Promise<void>;
  /** A blob known anywhere in the registry (for cross-repository mount and dedup). */
  getBlob(digest: string): Promise<BlobRecord | undefined>;
  /**
   * Makes a recorded blob servable from a repository (idempotent). The
   * repository must exist (else `RepositoryNotFoundError`); that the blob is
   * recorded is the caller's precondition (getRepositoryBlob joins on it).
   */
  linkBlob(repository: string, digest: string, now: number): Promise<void>;
  /** The blob, if the repository may serve it. */
  getRepositoryBlob(repository: string, digest: string): Promise<BlobRecord | undefined>;
  /** Removes a blob from one repository; the bytes stay for garbage collection. */
  unlinkBlob(repository: string, digest: string): Promise<boolean>;
  /**
   * Every digest some repository links, some manifest references, or that is
   * itself a stored manifest (its body is a blob too): the GC mark phase. Each
   * digest is yielded once, in no particular order; read page by page outside
   * any transaction, so pair it with a grace period for concurrent pushes.
   */
  listReferencedDigests(): AsyncIterable<string>;
}

export interface ManifestStore {
  /**
   * Records a manifest and its references in a repository. Idempotent: a
   * second put of the same digest leaves the first record (and its createdAt)
   * and the first put's references. The repository must exist (else
   * `RepositoryNotFoundError`). References need not exist yet (that is the
   * registry's rule to check); duplicates are stored once.
   */
  putManifest(manifest: ManifestRecord, references: readonly ManifestReference[]): Promise<void>;
  getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined>;
  /**
   * Deletes a manifest, its references and every tag pointing at it, atomically.
   * Does not check for parents (listParents) or referrers: that is the caller's rule.
   */
  deleteManifest(repository: string, digest: string): Promise<boolean>;
  /** Digests of manifests in the repository whose index references this manifest (kind 'manifest'), in byte order. */
  listParents(repository: string, digest: string): Promise<string[]>;
  /** Manifests whose subject is `subjectDigest`, optionally only those with this artifactType; ordered by digest. */
  listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<ManifestRecord[]>;
}

export interface TagStore {
  /**
   * Points a tag at a manifest (creating or moving it); returns the digest it
   * pointed at before, if any. Concurrent moves of one tag are ordered: each
   * caller gets the digest its own write replaced. `ManifestNotFoundError`
   * when the repository has no such manifest.
   */
  putTag(repository: string, tag: string, digest: string, now: number): Promise<string | undefined>;
  getTag(repository: string, tag: string): Promise<string | undefined>;
  deleteTag(repository: string, tag: string): Promise<boolean>;
  /** Tag names in byte order. */
  listTags(repository: string, page: Page): Promise<string[]>;
  /** Tags currently pointing at a digest, in byte order. */
  listTagsFor(repository: string, digest: string): Promise<string[]>;
}

export interface UploadStore {
  createUpload(upload: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** Sets the acknowledged size; false when the session no longer exists. */
  updateUpload(id: string, size: number, now: number): Promise<boolean>;
  deleteUpload(id: string): Promise<boolean>;
  /** Sessions not touched since `before` (updatedAt < before), oldest first (for expiry). */
  listStaleUploads(before: number, limit: number): Promise<UploadRecord[]>;
}

/** The stores that share one transaction. */
export interface MetadataStores {
  readonly repositories: RepositoryStore;
  readonly blobs: BlobStore;
  readonly manifests: ManifestStore;
  readonly tags: TagStore;
  readonly uploads: UploadStore;
}

export interface Metadata extends MetadataStores {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: all of its writes commit together or none do.
   * Serialisable enough for the registry's rules (SQLite: one writer at a time;
   * PostgreSQL: the stores take row locks where a rule needs them). Nested
   * calls on the transaction's own stores are not supported.
   */
  withTransaction<T>(fn: (tx: MetadataStores) => Promise<T>): Promise<T>;
  /** Applies pending migrations (idempotent, safe when several processes start at once). */
  migrate(): Promise<void>;
  close(): Promise<void>;
}
