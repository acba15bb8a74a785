/**
 * Errors of the metadata layer. The registry layer translates them into OCI
 * errors; nobody matches on message text or on driver error codes outside
 * this folder.
 */

export class MetadataError extends Error {
  override readonly name: string = 'MetadataError';
}

/** The database URL names a scheme no store implements (only `sqlite:` and `postgres(ql):` do). */
export class UnsupportedDatabaseError extends MetadataError {
  override readonly name = 'UnsupportedDatabaseError';
  /** The URL's scheme without the colon, or the empty string when the URL has none. */
  readonly scheme: string;
  constructor(scheme: string) {
    super(
      `unsupported metadata database scheme ${JSON.stringify(scheme)}: ` +
        'use sqlite:/absolute/path.db, sqlite::memory:, postgres://… or postgresql://…',
    );
    this.scheme = scheme;
  }
}

/** The database URL is of a supported scheme but cannot be used as given. */
export class InvalidDatabaseUrlError extends MetadataError {
  override readonly name = 'InvalidDatabaseUrlError';
  constructor(reason: string) {
    super(`invalid metadata database URL: ${reason}`);
  }
}

/** A write needed a repository that does not exist (foreign key on `repositories`). */
export class RepositoryNotFoundError extends MetadataError {
  override readonly name = 'RepositoryNotFoundError';
  readonly repository: string;
  constructor(repository: string) {
    super(`repository ${repository} does not exist`);
    this.repository = repository;
  }
}

/** A write needed a manifest that does not exist in the repository (e.g. a tag pointing at it). */
export class ManifestNotFoundError extends MetadataError {
  override readonly name = 'ManifestNotFoundError';
  readonly repository: string;
  readonly digest: string;
  constructor(repository: string, digest: string) {
    super(`manifest ${digest} does not exist in repository ${repository}`);
    this.repository = repository;
    this.digest = digest;
  }
}

/** A schema migration failed; the database is left at the last migration that succeeded. */
export class MigrationFailedError extends MetadataError {
  override readonly name = 'MigrationFailedError';
  /** The migration that failed, when Kysely reported which one. */
  readonly migration: string | undefined;
  constructor(migration: string | undefined, cause: unknown) {
    super(`metadata migration ${migration ?? '(setup)'} failed: ${cause instanceof Error ? cause.message : String(cause)}`, {
      cause,
    });
    this.migration = migration;
  }
}
