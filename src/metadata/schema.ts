/**
 * Kysely table types for the metadata database (snake_case, as stored).
 *
 * Authoritative (cannot be rebuilt from blob storage): repositories, tags,
 * uploads, the access-control tables, image_streams and their tags and tag
 * history. An index (rebuildable by re-reading manifests from blob storage):
 * blobs, repository_blobs, manifests, manifest_references, images — rebuildable only
 * as long as the blob bytes are still there, so they are backed up with the
 * rest.
 *
 * Times are milliseconds since the epoch in `bigint` columns; both dialects
 * return them as JavaScript numbers (the pg pool parses int8 as number).
 */

export interface RepositoriesTable {
  /** Full repository name (`project/name[/...]`); byte-ordered on both dialects. */
  name: string;
  project: string;
  created_at: number;
}

export interface BlobsTable {
  digest: string;
  size: number;
  created_at: number;
}

export interface RepositoryBlobsTable {
  repository: string;
  digest: string;
  created_at: number;
}

export interface ManifestsTable {
  repository: string;
  digest: string;
  media_type: string;
  size: number;
  artifact_type: string | null;
  subject_digest: string | null;
  /** JSON text of a string-to-string object, or NULL. */
  annotations: string | null;
  created_at: number;
}

export interface ManifestReferencesTable {
  repository: string;
  manifest_digest: string;
  child_digest: string;
  kind: 'blob' | 'manifest';
}

export interface TagsTable {
  repository: string;
  name: string;
  manifest_digest: string;
  updated_at: number;
}

export interface UploadsTable {
  id: string;
  repository: string;
  size: number;
  created_at: number;
  updated_at: number;
}

// Access control (migration 0002_access). Authoritative: none of it can be
// rebuilt from blob storage.

export interface ProjectsTable {
  name: string;
  created_at: number;
  created_by: string;
  display_name: string | null;
}

export interface UsersTable {
  name: string;
  password_hash: string | null;
  created_at: number;
  /** 0 or 1 (SQLite has no boolean type; one representation for both dialects). */
  disabled: number;
}

export interface GroupsTable {
  name: string;
  created_at: number;
}

export interface GroupMembersTable {
  group_name: string;
  user_name: string;
}

export interface RoleBindingsTable {
  /** '' for a cluster-wide binding (CLUSTER_SCOPE in stores.ts). */
  project: string;
  role: string;
  subject_kind: 'User' | 'Group' | 'ServiceAccount';
  subject_name: string;
}

export interface ServiceAccountsTable {
  project: string;
  name: string;
  created_at: number;
}

export interface ServiceAccountTokensTable {
  id: string;
  project: string;
  account: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface OAuthTokensTable {
  hash: string;
  kind: 'access' | 'refresh';
  user_name: string;
  client_id: string;
  scopes: string;
  created_at: number;
  expires_at: number;
  revoked_at: number | null;
  family: string;
}

export interface SigningKeysTable {
  kid: string;
  algorithm: string;
  public_jwk: string;
  private_jwk_encrypted: string;
  created_at: number;
  retired_at: number | null;
}

// Images and image streams (migration 0003_imagestreams). JSON columns hold
// JSON text on both dialects (as manifests.annotations does), parsed by the stores.

/** An index: rebuildable from the manifests and configs in blob storage. */
export interface ImagesTable {
  digest: string;
  media_type: string;
  size: number;
  config_digest: string | null;
  /** JSON of DockerImageMetadata, or NULL. */
  metadata: string | null;
  /** JSON array of ImageLayer. */
  layers: string;
  /** JSON array of ImageManifestEntry. */
  manifests: string;
  annotations: string | null;
  created_at: number;
}

/** Authoritative. */
export interface ImageStreamsTable {
  project: string;
  name: string;
  uid: string;
  created_at: number;
  generation: number;
  resource_version: number;
  /** JSON of ImageStreamSpec. */
  spec: string;
  /** JSON object of strings. */
  annotations: string;
  /** JSON array of ImageStreamCondition. */
  status_conditions: string;
  next_import_at: number | null;
  import_lease_owner: string | null;
  import_lease_until: number | null;
  /** The generation whose spec the last complete import covered (migration 0005). */
  import_generation: number | null;
}

/** Authoritative: every place a tag ever pointed, kept after the tag is deleted. */
export interface ImageStreamTagItemsTable {
  project: string;
  stream: string;
  tag: string;
  generation: number;
  created_at: number;
  image_digest: string;
  docker_image_reference: string;
  source_kind: 'push' | 'import' | 'tag' | 'rollback';
  source_ref: string | null;
}

/** Authoritative: the current item of each live tag. */
export interface ImageStreamTagsTable {
  project: string;
  stream: string;
  tag: string;
  current_generation: number;
  updated_at: number;
}

// Pull secrets (migration 0004_pull_secrets). Authoritative.

/** Credentials for private remote registries, per project; the auth.json itself only sealed. */
export interface PullSecretsTable {
  project: string;
  name: string;
  type: 'kubernetes.io/dockerconfigjson';
  /** JSON array of the normalised registry hosts the secret holds credentials for (for display and host lookups). */
  registries: string;
  /** The auth.json document, sealed by the secret box with context `pull-secret:<project>/<name>`. */
  sealed: string;
  created_at: number;
}

/** The whole metadata database, as Kysely sees it. */
export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
  projects: ProjectsTable;
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  role_bindings: RoleBindingsTable;
  service_accounts: ServiceAccountsTable;
  service_account_tokens: ServiceAccountTokensTable;
  oauth_tokens: OAuthTokensTable;
  signing_keys: SigningKeysTable;
  images: ImagesTable;
  image_streams: ImageStreamsTable;
  image_stream_tag_items: ImageStreamTagItemsTable;
  image_stream_tags: ImageStreamTagsTable;
  pull_secrets: PullSecretsTable;
}

/** Which SQL engine a Kysely instance talks to; the few dialect-specific bits branch on it. */
export type SqlDialect = 'sqlite' | 'postgres';
