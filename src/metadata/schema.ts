/**
 * Kysely table types for the metadata database (snake_case, as stored).
 *
 * Authoritative (cannot be rebuilt from blob storage): repositories, tags,
 * uploads. An index (rebuildable by re-reading manifests from blob storage):
 * blobs, repository_blobs, manifests, manifest_references — rebuildable only
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

/** The whole metadata database, as Kysely sees it. */
export interface Database {
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  uploads: UploadsTable;
}

/** Which SQL engine a Kysely instance talks to; the few dialect-specific bits branch on it. */
export type SqlDialect = 'sqlite' | 'postgres';
