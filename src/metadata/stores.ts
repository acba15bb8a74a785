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
  /** Repository names of these projects, in byte order (the (project, name) index; a few hundred projects at most). */
  listRepositoriesIn(projects: readonly string[], page: Page): Promise<string[]>;
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
  /** What the manifest references (blobs and child manifests), in byte order of digest; empty when there is no such manifest. */
  listReferences(repository: string, digest: string): Promise<ManifestReference[]>;
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

// ---------------------------------------------------------------------------
// Access control: projects, users and groups, role bindings, service
// accounts and their tokens, OAuth tokens, token-signing keys. All of it is
// authoritative (nothing here can be rebuilt from blob storage).

export interface ProjectRecord {
  /** The project's name, the first component of its repositories' names (DNS-1123 label). */
  readonly name: string;
  readonly createdAt: number;
  /** The principal name that created it (its first registry-admin). */
  readonly createdBy: string;
  readonly displayName: string | null;
}

export interface ProjectStore {
  /** Creates the project if absent; returns the stored record either way (the first creator's stays). */
  ensureProject(project: ProjectRecord): Promise<ProjectRecord>;
  getProject(name: string): Promise<ProjectRecord | undefined>;
  /** Projects in byte order of name, keyset-paged. */
  listProjects(page: Page): Promise<ProjectRecord[]>;
  /**
   * Deletes a project with its role bindings (those in the project and those
   * naming one of its service accounts anywhere), its service accounts and
   * their tokens, its image streams, its pull secrets, and its repositories
   * (through RepositoryStore, so their manifests, tags and blob links go too). Atomic by itself; inside
   * withTransaction it joins the caller's transaction. Blob bytes stay for GC.
   * False when there was no such project (repositories of the name are still removed).
   */
  deleteProject(name: string): Promise<boolean>;
}

export interface UserRecord {
  readonly name: string;
  /** bcrypt hash (`$2y$…`), or null for users that only log in through an external identity provider. */
  readonly passwordHash: string | null;
  readonly createdAt: number;
  readonly disabled: boolean;
}

export interface GroupRecord {
  readonly name: string;
  readonly createdAt: number;
}

export interface UserStore {
  /** Creates a user; false (and no change) when the name is taken. */
  createUser(user: UserRecord): Promise<boolean>;
  getUser(name: string): Promise<UserRecord | undefined>;
  /** Users in byte order of name, keyset-paged. */
  listUsers(page: Page): Promise<UserRecord[]>;
  /** Sets (or with null, clears) the password hash; false when there is no such user. */
  setPasswordHash(name: string, passwordHash: string | null): Promise<boolean>;
  /** Disables or re-enables a user; false when there is no such user. */
  setDisabled(name: string, disabled: boolean): Promise<boolean>;
  /** Deletes a user and its group memberships (role bindings naming it stay, as in Kubernetes). */
  deleteUser(name: string): Promise<boolean>;

  /** Creates a group; false when it exists. */
  createGroup(group: GroupRecord): Promise<boolean>;
  getGroup(name: string): Promise<GroupRecord | undefined>;
  /** Groups in byte order of name, keyset-paged. */
  listGroups(page: Page): Promise<GroupRecord[]>;
  /** Deletes a group and its memberships. */
  deleteGroup(name: string): Promise<boolean>;
  /**
   * Adds a user to a group (idempotent); true when it was not a member.
   * @throws UserNotFoundError / GroupNotFoundError when either does not exist.
   */
  addMember(group: string, user: string): Promise<boolean>;
  /** Removes a user from a group; true when it was a member. */
  removeMember(group: string, user: string): Promise<boolean>;
  /** User names of a group's members, in byte order. */
  listMembers(group: string): Promise<string[]>;
  /** Names of the (stored) groups a user belongs to, in byte order; virtual groups are not stored. */
  groupsOf(user: string): Promise<string[]>;
}

/**
 * The project value of a cluster-wide role binding. Project names are
 * DNS-1123 labels and never empty, so '' cannot collide with a project; one
 * table then serves both scopes, and the authorizer reads cluster bindings
 * with the same query (and cache) as a project's.
 */
export const CLUSTER_SCOPE = '';

export interface RoleBindingRecord {
  /** The project the binding applies to, or CLUSTER_SCOPE ('') for a cluster-wide binding. */
  readonly project: string;
  /** A role name from authz/roles.ts (the store does not interpret it). */
  readonly role: string;
  readonly subjectKind: 'User' | 'Group' | 'ServiceAccount';
  /** User or group name; for a service account `<project>:<name>` (it may be bound in another project). */
  readonly subjectName: string;
}

export interface RoleBindingStore {
  /**
   * Adds a binding (idempotent); true when it was not there.
   * @throws ProjectNotFoundError when `project` is neither CLUSTER_SCOPE nor an existing project.
   */
  addBinding(binding: RoleBindingRecord): Promise<boolean>;
  /** Removes a binding; true when it was there. */
  removeBinding(binding: RoleBindingRecord): Promise<boolean>;
  /** The bindings of one project (or of CLUSTER_SCOPE), ordered by role, subject kind, subject name. */
  listBindings(project: string): Promise<RoleBindingRecord[]>;
  /** Every binding (any project, cluster ones included) naming this subject, ordered by project, role. */
  listBindingsFor(subjectKind: RoleBindingRecord['subjectKind'], subjectName: string): Promise<RoleBindingRecord[]>;
}

export interface ServiceAccountRecord {
  readonly project: string;
  readonly name: string;
  readonly createdAt: number;
}

export interface ServiceAccountTokenRecord {
  /** Random public id of the token (shown in listings, used to revoke). */
  readonly id: string;
  readonly project: string;
  readonly account: string;
  /** SHA-256 (lowercase hex) of the secret; the secret itself is never stored. */
  readonly tokenHash: string;
  readonly createdAt: number;
  readonly expiresAt: number | null;
  readonly revokedAt: number | null;
  readonly lastUsedAt: number | null;
}

export interface ServiceAccountStore {
  /**
   * Creates a service account; false when it exists.
   * @throws ProjectNotFoundError when the project does not exist.
   */
  createServiceAccount(account: ServiceAccountRecord): Promise<boolean>;
  getServiceAccount(project: string, name: string): Promise<ServiceAccountRecord | undefined>;
  /** A project's service accounts in byte order of name. */
  listServiceAccounts(project: string): Promise<ServiceAccountRecord[]>;
  /** Deletes a service account and its tokens (bindings naming it are the caller's to remove). */
  deleteServiceAccount(project: string, name: string): Promise<boolean>;
  /**
   * Stores a new token.
   * @throws ServiceAccountNotFoundError when the account does not exist.
   */
  createToken(token: ServiceAccountTokenRecord): Promise<void>;
  /** An account's tokens (revoked and expired ones included), oldest first. */
  listTokens(project: string, account: string): Promise<ServiceAccountTokenRecord[]>;
  /** Marks a token revoked (the first revocation time stays); false when there is no such live token. */
  revokeToken(id: string, now: number): Promise<boolean>;
  /**
   * The token with this secret hash, revoked or expired ones included: the
   * caller decides (and can say why it refuses).
   */
  findTokenByHash(tokenHash: string): Promise<ServiceAccountTokenRecord | undefined>;
  /** Records a use of the token (best effort, for listings). */
  markTokenUsed(id: string, now: number): Promise<void>;
}

export interface OAuthTokenRecord {
  /** SHA-256 (lowercase hex) of the token; the token itself is never stored. */
  readonly hash: string;
  readonly kind: 'access' | 'refresh';
  readonly userName: string;
  readonly clientId: string;
  /** Space-separated scopes, as OAuth 2 writes them. */
  readonly scopes: string;
  readonly createdAt: number;
  readonly expiresAt: number;
  readonly revokedAt: number | null;
  /**
   * Refresh-token family: every token issued from one login shares it, so
   * that reuse of a rotated refresh token can revoke the whole family.
   */
  readonly family: string;
}

export interface OAuthTokenStore {
  /** Stores a token; a second put of the same hash leaves the first. */
  putToken(token: OAuthTokenRecord): Promise<void>;
  /** The token with this hash, revoked or expired ones included. */
  findTokenByHash(hash: string): Promise<OAuthTokenRecord | undefined>;
  /** Revokes one token; false when there is no such unrevoked token. */
  revokeToken(hash: string, now: number): Promise<boolean>;
  /** Revokes every unrevoked token of a family; returns how many. */
  revokeFamily(family: string, now: number): Promise<number>;
  /** Revokes every unrevoked token of a user (logout everywhere, disabling a user); returns how many. */
  revokeAllForUser(userName: string, now: number): Promise<number>;
  /** Deletes tokens that expired before `before` (revoked or not); returns how many. */
  deleteExpired(before: number): Promise<number>;
}

export interface SigningKeyRecord {
  /** Key id, the JWT header's `kid`. */
  readonly kid: string;
  /** JWS algorithm (`ES256`). */
  readonly algorithm: string;
  /** The public key as JWK JSON text. */
  readonly publicJwk: string;
  /** The private key as JWK JSON, sealed by the secret box (identity/secret-box.ts). */
  readonly privateJwkEncrypted: string;
  readonly createdAt: number;
  readonly retiredAt: number | null;
}

export interface SigningKeyStore {
  /** Stores a new key; false when the kid exists (the stored key stays). */
  putKey(key: SigningKeyRecord): Promise<boolean>;
  /** Keys not retired, newest first (the first one signs). */
  listActiveKeys(): Promise<SigningKeyRecord[]>;
  /** Retires a key: it no longer signs or verifies. False when there is no such unretired key. */
  retireKey(kid: string, now: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------
// Images and image streams (migration 0003_imagestreams). Images are an index
// (rebuildable by re-reading manifests and configs from blob storage); image
// streams, their tags and tag history are authoritative (the history of where
// each tag pointed cannot be rebuilt).

/** A platform as an index entry states it (OCI image-index `platform`). */
export interface ImagePlatform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

/** One layer of an image, in manifest order. */
export interface ImageLayer {
  /** The layer's blob digest (OpenShift calls it `name`). */
  readonly name: string;
  readonly size: number;
  readonly mediaType: string;
}

/** One child of a manifest list or index. */
export interface ImageManifestEntry {
  readonly digest: string;
  readonly mediaType: string;
  readonly size: number;
  /** Null for entries without a platform (attestations, artifacts). */
  readonly platform: ImagePlatform | null;
}

/** An entry of the image config's `history`, with Docker's key names. */
export interface ImageHistoryEntry {
  readonly created?: string;
  readonly created_by?: string;
  readonly author?: string;
  readonly comment?: string;
  /** True when the step added no layer (ENV, LABEL, CMD…): such entries have no layer in `layers`. */
  readonly empty_layer?: boolean;
}

/** Docker's HEALTHCHECK settings (durations in nanoseconds, as the config stores them). */
export interface ImageHealthcheck {
  readonly Test?: readonly string[];
  readonly Interval?: number;
  readonly Timeout?: number;
  readonly StartPeriod?: number;
  readonly StartInterval?: number;
  readonly Retries?: number;
}

/** The container defaults of an image config (`config` of the OCI/Docker image config), with its key names. */
export interface ImageContainerConfig {
  readonly User?: string;
  /** Keys like `8080/tcp`; the values are always empty objects. */
  readonly ExposedPorts?: Readonly<Record<string, Readonly<Record<string, never>>>>;
  readonly Env?: readonly string[];
  readonly Entrypoint?: readonly string[];
  readonly Cmd?: readonly string[];
  readonly Volumes?: Readonly<Record<string, Readonly<Record<string, never>>>>;
  readonly WorkingDir?: string;
  readonly Labels?: Readonly<Record<string, string>>;
  readonly StopSignal?: string;
  readonly Shell?: readonly string[];
  readonly OnBuild?: readonly string[];
  readonly Healthcheck?: ImageHealthcheck;
  readonly ArgsEscaped?: boolean;
}

/**
 * What an image's config blob says about it (OpenShift's
 * `dockerImageMetadata`), extracted once at push or import time.
 */
export interface DockerImageMetadata {
  readonly author?: string;
  /** RFC 3339 build time, as the config states it (not verified). */
  readonly created?: string;
  readonly dockerVersion?: string;
  readonly architecture?: string;
  readonly os?: string;
  readonly variant?: string;
  readonly osVersion?: string;
  readonly config?: ImageContainerConfig;
  readonly history: readonly ImageHistoryEntry[];
  /** `rootfs.diff_ids`: digests of the uncompressed layers, in order. */
  readonly diffIds: readonly string[];
  /** Bytes of the config blob plus every layer: what a pull transfers at most. */
  readonly size: number;
}

/** An image (or a manifest list / index), by manifest digest; the same in every repository that holds it. */
export interface ImageRecord {
  readonly digest: string;
  readonly mediaType: string;
  /** Bytes of the manifest itself. */
  readonly size: number;
  /** The config blob's digest (Docker's image ID); null for an index. */
  readonly configDigest: string | null;
  /** Null for an index, or when the config is not an image config (artifacts). */
  readonly metadata: DockerImageMetadata | null;
  /** Image manifests: the layers in order; empty for an index. */
  readonly layers: readonly ImageLayer[];
  /** Indexes and manifest lists: the per-platform manifests; empty for an image. */
  readonly manifests: readonly ImageManifestEntry[];
  readonly annotations: Readonly<Record<string, string>> | null;
  readonly createdAt: number;
}

/** Keyset page over digests. */
export interface DigestPage {
  /** Only digests strictly after this one (byte order). */
  readonly after?: string | undefined;
  readonly limit: number;
}

export interface ImageStore {
  /**
   * Records an image. Idempotent: the first write of a digest wins (same
   * digest, same content, so a second extraction has nothing to add).
   */
  putImage(image: ImageRecord): Promise<void>;
  getImage(digest: string): Promise<ImageRecord | undefined>;
  /** Images in byte order of digest, keyset-paged. */
  listImages(page: DigestPage): Promise<ImageRecord[]>;
}

/** Where a spec tag takes its image from (OpenShift's ObjectReference subset). */
export interface ImageStreamTagReference {
  readonly kind: 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage';
  readonly name: string;
  /** Project of an ImageStreamTag/ImageStreamImage in another project. */
  readonly namespace?: string;
}

/** One entry of `spec.tags`. */
export interface ImageStreamSpecTag {
  readonly name: string;
  readonly from?: ImageStreamTagReference;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly importPolicy?: { readonly scheduled?: boolean; readonly insecure?: boolean };
  readonly referencePolicy?: { readonly type: 'Source' | 'Local' };
}

/** An image stream's desired state, as the API accepts it. */
export interface ImageStreamSpec {
  /** An external repository to import every tag from (`registry.example.com/library/ruby`). */
  readonly dockerImageRepository?: string;
  readonly tags?: readonly ImageStreamSpecTag[];
}

/** A status condition, Kubernetes-style; `tag` set when it concerns one tag (e.g. a failed import of it). */
export interface ImageStreamCondition {
  readonly type: string;
  readonly status: 'True' | 'False' | 'Unknown';
  readonly reason?: string;
  readonly message?: string;
  readonly tag?: string;
  /** Milliseconds since the epoch. */
  readonly lastTransitionTime: number;
}

export interface ImageStreamRecord {
  readonly project: string;
  /** The repository path after the project (`p/a/b` is stream `a/b` of project `p`). */
  readonly name: string;
  /** Random UUID, fixed at creation (a recreated stream gets a new one). */
  readonly uid: string;
  readonly createdAt: number;
  /** Bumped on every spec change. */
  readonly generation: number;
  /** Bumped on every change (spec, tags, history, status): the optimistic-concurrency token. */
  readonly resourceVersion: number;
  readonly spec: ImageStreamSpec;
  readonly annotations: Readonly<Record<string, string>>;
  readonly conditions: readonly ImageStreamCondition[];
  /** When the scheduler should import this stream next; null when nothing is scheduled. */
  readonly nextImportAt: number | null;
  readonly importLeaseOwner: string | null;
  readonly importLeaseUntil: number | null;
  /**
   * The generation whose spec the last complete import covered (every remote
   * source the spec names); null until one ran. Behind `generation` (a new
   * stream, a changed spec): the next scheduled run imports the whole spec.
   */
  readonly importedGeneration: number | null;
}

/** How a history item came to be. */
export type TagItemSourceKind = 'push' | 'import' | 'tag' | 'rollback';

/** A new history item, before the store numbers it. */
export interface NewTagItem {
  readonly createdAt: number;
  readonly imageDigest: string;
  /** The pull spec of the image (`host/project/name@sha256:…`, or the external reference of an import). */
  readonly dockerImageReference: string;
  readonly sourceKind: TagItemSourceKind;
  /** Where it came from: the source `project/stream:tag` of a tag, the external reference of an import, the generation rolled back to. */
  readonly sourceRef: string | null;
}

/** One entry of a tag's history. */
export interface TagItemRecord extends NewTagItem {
  readonly project: string;
  readonly stream: string;
  readonly tag: string;
  /**
   * 1 for the tag's first item, then previous max + 1: history never reuses a
   * number while any item of the tag is left (pruning keeps a live tag's
   * newest item; only a deleted tag's history can be pruned away entirely,
   * after which a new tag of that name starts again at 1).
   */
  readonly generation: number;
}

/** A tag of a stream with the item it currently points at. */
export interface StreamTagRecord {
  readonly tag: string;
  readonly updatedAt: number;
  readonly current: TagItemRecord;
}

/** A live tag of a stream with its newest history items (listRecentTagItems). */
export interface StreamTagItems {
  readonly stream: string;
  readonly tag: string;
  /** Newest first; never empty (a live tag points at one of its items). */
  readonly items: readonly TagItemRecord[];
}

/** Keyset page over (project, name) for listings across projects. */
export interface StreamPage {
  readonly after?: { readonly project: string; readonly name: string } | undefined;
  readonly limit: number;
}

/** Newest-first page of a tag's history. */
export interface TagItemPage {
  /** Only items with a generation strictly below this one. */
  readonly beforeGeneration?: number | undefined;
  readonly limit: number;
}

/** What pruneTagHistory removes (see there). */
export interface TagHistoryPrune {
  /** Items kept per tag, newest first (at least 1). */
  readonly keepTagRevisions: number;
  /** Only items created before this time (ms since the epoch) are removed; absent: any age. */
  readonly createdBefore?: number | undefined;
  /** Only report what would be removed; change nothing. */
  readonly dryRun?: boolean | undefined;
}

export interface ImageStreamStore {
  /** Creates the stream (empty spec) if absent; returns the stored record either way (the first creator's stays). */
  ensureStream(project: string, name: string, now: number): Promise<ImageStreamRecord>;
  /** Creates a stream with a spec; undefined (and no change) when it exists. */
  createStream(
    project: string,
    name: string,
    now: number,
    spec: ImageStreamSpec,
    annotations: Readonly<Record<string, string>>,
  ): Promise<ImageStreamRecord | undefined>;
  getStream(project: string, name: string): Promise<ImageStreamRecord | undefined>;
  /** A project's streams in byte order of name, keyset-paged on the primary key. */
  listStreams(project: string, page: Page): Promise<ImageStreamRecord[]>;
  /** Every project's streams in byte order of (project, name), keyset-paged. */
  listAllStreams(page: StreamPage): Promise<ImageStreamRecord[]>;
  /**
   * Replaces spec and annotations, bumping generation and resourceVersion.
   * @throws ImageStreamNotFoundError when there is no such stream.
   * @throws ImageStreamConflictError when `expectedResourceVersion` is given and differs from the stored one.
   */
  putSpec(
    project: string,
    name: string,
    update: { readonly spec: ImageStreamSpec; readonly annotations: Readonly<Record<string, string>> },
    expectedResourceVersion: number | undefined,
  ): Promise<ImageStreamRecord>;
  /** Deletes a stream with its tags and whole history; false when there was none. */
  deleteStream(project: string, name: string): Promise<boolean>;
  /**
   * Appends a history item to a tag (generation = previous max + 1 for that
   * tag, items of the tag from before it was deleted included), points the tag at it and bumps the stream's
   * resourceVersion. Concurrent appends to one stream are ordered (row lock
   * on the stream). Call inside the transaction that made the change it records.
   * @throws ImageStreamNotFoundError when there is no such stream.
   */
  addTagItem(project: string, stream: string, tag: string, item: NewTagItem): Promise<TagItemRecord>;
  /**
   * Points a tag at an existing item of its history (re-creating the tag if it was deleted).
   * @throws ImageStreamNotFoundError / TagItemNotFoundError.
   */
  setCurrentItem(project: string, stream: string, tag: string, generation: number, now: number): Promise<TagItemRecord>;
  /** Removes a tag from the stream; its history stays (until pruned). False when there was no such tag. */
  deleteTag(project: string, stream: string, tag: string, now: number): Promise<boolean>;
  /**
   * Prunes one stream's tag history, as `oc adm prune images
   * --keep-tag-revisions=N` does: of each live tag, every item except its
   * `keepTagRevisions` newest and its current item (never removed, whatever
   * its age or place); of each deleted tag, its whole history. With
   * `createdBefore`, younger items stay. Metadata only: images, manifests and
   * blobs are untouched.
   *
   * One indexed DELETE … RETURNING for the whole stream (one SELECT for
   * `dryRun`), in a transaction that first locks the stream row (as
   * addTagItem does, so a concurrent push or rollback is ordered before or
   * after it) and bumps resourceVersion when anything was removed.
   *
   * Returns the items removed (or that would be), by tag in byte order, newest
   * first; none when there is no such stream.
   */
  pruneTagHistory(project: string, stream: string, prune: TagHistoryPrune): Promise<TagItemRecord[]>;
  /** One tag with its current item. */
  getTag(project: string, stream: string, tag: string): Promise<StreamTagRecord | undefined>;
  /** The stream's tags in byte order of name, each with its current item. */
  listTags(project: string, stream: string, page: Page): Promise<StreamTagRecord[]>;
  /** A tag's history, newest first, deleted tags' history included (served by the primary key). */
  listTagItems(project: string, stream: string, tag: string, page: TagItemPage): Promise<TagItemRecord[]>;
  getTagItem(project: string, stream: string, tag: string, generation: number): Promise<TagItemRecord | undefined>;
  /** The newest history item of any tag of the stream that records this image; undefined when none does. */
  findImageItem(project: string, stream: string, imageDigest: string): Promise<TagItemRecord | undefined>;
  /**
   * The newest `itemsPerTag` history items of every live tag of each of
   * `streams` (all in `project`), in one query: tags in byte order per
   * stream, items newest first. Streams without tags (or that do not exist)
   * are absent. Each tag costs one index probe plus its items, however long
   * its history.
   */
  listRecentTagItems(project: string, streams: readonly string[], itemsPerTag: number): Promise<StreamTagItems[]>;
  /**
   * The first stream of the project, in byte order of name, whose history
   * records the image or whose repository (`project/name`) holds its
   * manifest; undefined when none does. One query on indexes (by project and
   * image, and manifests by digest), whatever the number of streams.
   */
  findImageStream(project: string, imageDigest: string): Promise<string | undefined>;
  /** Sets (or with null clears) when the stream should be imported next. False when there is no such stream. */
  scheduleImport(project: string, name: string, at: number | null): Promise<boolean>;
  /**
   * Leases up to `limit` streams whose import is due (`nextImportAt <= now`)
   * and whose lease is free or expired, oldest due first, to `owner` until
   * `now + leaseMs`, in one conditional UPDATE: two processes never hold the
   * same stream. Returns the leased streams.
   */
  claimDueImports(owner: string, now: number, leaseMs: number, limit: number): Promise<ImageStreamRecord[]>;
  /**
   * Ends `owner`'s lease: records the conditions, the next import time and
   * bumps resourceVersion. False (and no change) when `owner` no longer holds
   * the lease (it expired and another process took it).
   *
   * With `importedGeneration` (the spec generation the import covered):
   * when the stream's generation is no longer that one (its spec changed
   * during or after the import), `nextImportAt` is not applied and the stream
   * keeps the due time the change gave it, so the new spec is imported too.
   */
  finishImport(
    project: string,
    name: string,
    owner: string,
    nextImportAt: number | null,
    conditions: readonly ImageStreamCondition[],
    importedGeneration?: number,
  ): Promise<boolean>;
}

/**
 * Import bookkeeping that the scheduler's lease does not cover: a manual
 * import (`berth import-image`) records its outcome without holding a lease.
 * (Migration 0003_imagestreams; the columns are image_streams'.)
 */
export interface ImageImportStatusStore {
  /**
   * Reads the stream and, on PostgreSQL, locks its row for the rest of the
   * caller's transaction (SELECT … FOR UPDATE), so that two imports of one
   * stream (a manual one and a scheduled one, or two nodes) decide "has this
   * tag changed?" one after the other. SQLite has one writer at a time.
   * Call inside withTransaction. Undefined when there is no such stream.
   */
  lockStream(project: string, name: string): Promise<ImageStreamRecord | undefined>;
  /** Replaces the stream's status conditions and bumps resourceVersion; false when there is no such stream. Leaves the lease alone. */
  setConditions(project: string, name: string, conditions: readonly ImageStreamCondition[]): Promise<boolean>;
  /**
   * Records that an import covered the spec of `generation` (see
   * ImageStreamRecord.importedGeneration). Does not bump resourceVersion
   * (bookkeeping, like the schedule). False when there is no such stream.
   */
  setImportedGeneration(project: string, name: string, generation: number): Promise<boolean>;
}

// ---------------------------------------------------------------------------
// Pull secrets (migration 0004_pull_secrets). Authoritative.

/** A stored pull secret. `sealed` is opaque here: sealing and validation are imagestreams/pull-secrets.ts's. */
export interface PullSecretRecord {
  readonly project: string;
  /** DNS-1123 subdomain, unique per project. */
  readonly name: string;
  readonly type: 'kubernetes.io/dockerconfigjson';
  /** Normalised registry hosts (`docker.io`, `quay.io`, `localhost:5000`) the secret has credentials for, in byte order. */
  readonly registries: readonly string[];
  /** The auth.json, sealed by the secret box (context `pull-secret:<project>/<name>`). */
  readonly sealed: string;
  readonly createdAt: number;
}

export interface PullSecretStore {
  /** Stores a new secret; false (and no change) when the project already has one of that name. */
  createSecret(secret: PullSecretRecord): Promise<boolean>;
  getSecret(project: string, name: string): Promise<PullSecretRecord | undefined>;
  /** A project's secrets in byte order of name (a project holds a handful: not paged). */
  listSecrets(project: string): Promise<PullSecretRecord[]>;
  /** False when there was no such secret. */
  deleteSecret(project: string, name: string): Promise<boolean>;
}

/** The stores that share one transaction. */
export interface MetadataStores {
  readonly repositories: RepositoryStore;
  readonly blobs: BlobStore;
  readonly manifests: ManifestStore;
  readonly tags: TagStore;
  readonly uploads: UploadStore;
  readonly projects: ProjectStore;
  readonly users: UserStore;
  readonly roleBindings: RoleBindingStore;
  readonly serviceAccounts: ServiceAccountStore;
  readonly oauthTokens: OAuthTokenStore;
  readonly signingKeys: SigningKeyStore;
  readonly images: ImageStore;
  readonly imageStreams: ImageStreamStore;
  readonly imageImports: ImageImportStatusStore;
  readonly pullSecrets: PullSecretStore;
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
