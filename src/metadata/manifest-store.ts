import type { Kysely, Selectable } from 'kysely';
import type { ManifestRecord, ManifestReference, ManifestStore } from './stores.ts';
import type { Database, ManifestsTable, SqlDialect } from './schema.ts';
import { RepositoryNotFoundError } from './errors.ts';
import { atomic, insertMany, isForeignKeyViolation } from './sql-support.ts';

const MANIFEST_COLUMNS = [
  'repository',
  'digest',
  'media_type',
  'size',
  'artifact_type',
  'subject_digest',
  'annotations',
  'created_at',
] as const;

function toRecord(row: Selectable<ManifestsTable>): ManifestRecord {
  return {
    repository: row.repository,
    digest: row.digest,
    mediaType: row.media_type,
    size: row.size,
    artifactType: row.artifact_type,
    subjectDigest: row.subject_digest,
    annotations: row.annotations === null ? null : (JSON.parse(row.annotations) as Record<string, string>),
    createdAt: row.created_at,
  };
}

/** ManifestStore on Kysely. */
export class KyselyManifestStore implements ManifestStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /** @throws RepositoryNotFoundError when the repository does not exist. */
  async putManifest(manifest: ManifestRecord, references: readonly ManifestReference[]): Promise<void> {
    try {
      await atomic(this.#db, async (db) => {
        const inserted = await db
          .insertInto('manifests')
          .values({
            repository: manifest.repository,
            digest: manifest.digest,
            media_type: manifest.mediaType,
            size: manifest.size,
            artifact_type: manifest.artifactType,
            subject_digest: manifest.subjectDigest,
            annotations: manifest.annotations === null ? null : JSON.stringify(manifest.annotations),
            created_at: manifest.createdAt,
          })
          .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
          .executeTakeFirst();
        // Same digest, same content, same references: a repeated put has
        // nothing to add, and the first put's rows stay as they were.
        if ((inserted.numInsertedOrUpdatedRows ?? 0n) === 0n) return;
        const unique = new Map<string, ManifestReference['kind']>();
        for (const reference of references) {
          // A digest listed twice (the same layer in two places) is one row;
          // if it is listed as both, 'manifest' wins (it is the stronger claim for listParents).
          if (unique.get(reference.digest) !== 'manifest') unique.set(reference.digest, reference.kind);
        }
        await insertMany(
          db,
          'manifest_references',
          [...unique].map(([child, kind]) => ({
            repository: manifest.repository,
            manifest_digest: manifest.digest,
            child_digest: child,
            kind,
          })),
        );
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new RepositoryNotFoundError(manifest.repository);
      throw error;
    }
  }

  async getManifest(repository: string, digest: string): Promise<ManifestRecord | undefined> {
    const row = await this.#db
      .selectFrom('manifests')
      .select(MANIFEST_COLUMNS)
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async deleteManifest(repository: string, digest: string): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      if (this.#dialect === 'postgres') {
        // Lock the manifest first: a concurrent putTag's foreign-key check
        // then waits for us and fails cleanly, instead of a tag slipping in
        // between our tag delete and our manifest delete. (SQLite has one
        // writer at a time, so there is nothing to lock.)
        const row = await db
          .selectFrom('manifests')
          .select('digest')
          .where('repository', '=', repository)
          .where('digest', '=', digest)
          .forUpdate()
          .executeTakeFirst();
        if (row === undefined) return false;
      }
      await db.deleteFrom('tags').where('repository', '=', repository).where('manifest_digest', '=', digest).execute();
      // The references would go by cascade too; deleting them explicitly keeps
      // the statement set independent of foreign-key enforcement.
      await db
        .deleteFrom('manifest_references')
        .where('repository', '=', repository)
        .where('manifest_digest', '=', digest)
        .execute();
      const result = await db
        .deleteFrom('manifests')
        .where('repository', '=', repository)
        .where('digest', '=', digest)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    });
  }

  async listReferences(repository: string, digest: string): Promise<ManifestReference[]> {
    // The primary key (repository, manifest_digest, child_digest) serves this in order.
    const rows = await this.#db
      .selectFrom('manifest_references')
      .select(['child_digest', 'kind'])
      .where('repository', '=', repository)
      .where('manifest_digest', '=', digest)
      .orderBy('child_digest')
      .execute();
    return rows.map((r) => ({ digest: r.child_digest, kind: r.kind }));
  }

  async listParents(repository: string, digest: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('manifest_references')
      .select('manifest_digest')
      .where('repository', '=', repository)
      .where('child_digest', '=', digest)
      .where('kind', '=', 'manifest')
      .orderBy('manifest_digest')
      .execute();
    return rows.map((r) => r.manifest_digest);
  }

  async listReferrers(repository: string, subjectDigest: string, artifactType?: string): Promise<ManifestRecord[]> {
    let query = this.#db
      .selectFrom('manifests')
      .select(MANIFEST_COLUMNS)
      .where('repository', '=', repository)
      .where('subject_digest', '=', subjectDigest);
    if (artifactType !== undefined) query = query.where('artifact_type', '=', artifactType);
    const rows = await query.orderBy('digest').execute();
    return rows.map(toRecord);
  }
}
