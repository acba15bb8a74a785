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
   * their tokens, and its repositories (through RepositoryStore, so their
   * manifests, tags and blob links go too). Atomic by itself; inside
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
