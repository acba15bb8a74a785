import type { Kysely } from 'kysely';
import type { BlobRecord, BlobStore } from './stores.ts';
import type { Database } from './schema.ts';
import { RepositoryNotFoundError } from './errors.ts';
import { isForeignKeyViolation } from './sql-support.ts';

/** Rows fetched per query while walking a table for listReferencedDigests. */
const SCAN_PAGE = 1000;

/** BlobStore on Kysely. */
export class KyselyBlobStore implements BlobStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async recordBlob(blob: BlobRecord, now: number): Promise<void> {
    await this.#db
      .insertInto('blobs')
      .values({ digest: blob.digest, size: blob.size, created_at: now })
      .onConflict((oc) => oc.column('digest').doNothing())
      .execute();
  }

  async getBlob(digest: string): Promise<BlobRecord | undefined> {
    const row = await this.#db
      .selectFrom('blobs')
      .select(['digest', 'size'])
      .where('digest', '=', digest)
      .executeTakeFirst();
    return row === undefined ? undefined : { digest: row.digest, size: row.size };
  }

  /** @throws RepositoryNotFoundError when the repository does not exist. */
  async linkBlob(repository: string, digest: string, now: number): Promise<void> {
    try {
      await this.#db
        .insertInto('repository_blobs')
        .values({ repository, digest, created_at: now })
        .onConflict((oc) => oc.columns(['repository', 'digest']).doNothing())
        .execute();
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new RepositoryNotFoundError(repository);
      throw error;
    }
  }

  async getRepositoryBlob(repository: string, digest: string): Promise<BlobRecord | undefined> {
    const row = await this.#db
      .selectFrom('repository_blobs as rb')
      .innerJoin('blobs as b', 'b.digest', 'rb.digest')
      .select(['b.digest', 'b.size'])
      .where('rb.repository', '=', repository)
      .where('rb.digest', '=', digest)
      .executeTakeFirst();
    return row === undefined ? undefined : { digest: row.digest, size: row.size };
  }

  async unlinkBlob(repository: string, digest: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('repository_blobs')
      .where('repository', '=', repository)
      .where('digest', '=', digest)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Walks repository_blobs, manifest_references and manifests (a manifest's
   * own digest: its body is a blob too) in primary-key order, a page at a
   * time, outside any transaction. Yields each digest once; the set of
   * digests already yielded is kept in memory for that.
   */
  async *listReferencedDigests(): AsyncIterable<string> {
    const seen = new Set<string>();
    const fresh = function* (digests: Iterable<string>): Generator<string> {
      for (const digest of digests) {
        if (!seen.has(digest)) {
          seen.add(digest);
          yield digest;
        }
      }
    };

    // Keyset pagination on each table's composite primary key, compared as a
    // row value so that the primary-key index serves every page.
    let linkCursor: [string, string] | undefined;
    for (;;) {
      let query = this.#db.selectFrom('repository_blobs').select(['repository', 'digest']);
      if (linkCursor !== undefined) {
        const [r, d] = linkCursor;
        query = query.where((eb) => eb(eb.refTuple('repository', 'digest'), '>', eb.tuple(r, d)));
      }
      const rows = await query.orderBy('repository').orderBy('digest').limit(SCAN_PAGE).execute();
      yield* fresh(rows.map((row) => row.digest));
      const last = rows.at(-1);
      if (last === undefined || rows.length < SCAN_PAGE) break;
      linkCursor = [last.repository, last.digest];
    }

    let referenceCursor: [string, string, string] | undefined;
    for (;;) {
      let query = this.#db.selectFrom('manifest_references').select(['repository', 'manifest_digest', 'child_digest']);
      if (referenceCursor !== undefined) {
        const [r, m, c] = referenceCursor;
        query = query.where((eb) =>
          eb(eb.refTuple('repository', 'manifest_digest', 'child_digest'), '>', eb.tuple(r, m, c)),
        );
      }
      const rows = await query
        .orderBy('repository')
        .orderBy('manifest_digest')
        .orderBy('child_digest')
        .limit(SCAN_PAGE)
        .execute();
      yield* fresh(rows.map((row) => row.child_digest));
      const last = rows.at(-1);
      if (last === undefined || rows.length < SCAN_PAGE) break;
      referenceCursor = [last.repository, last.manifest_digest, last.child_digest];
    }

    let manifestCursor: [string, string] | undefined;
    for (;;) {
      let query = this.#db.selectFrom('manifests').select(['repository', 'digest']);
      if (manifestCursor !== undefined) {
        const [r, d] = manifestCursor;
        query = query.where((eb) => eb(eb.refTuple('repository', 'digest'), '>', eb.tuple(r, d)));
      }
      const rows = await query.orderBy('repository').orderBy('digest').limit(SCAN_PAGE).execute();
      yield* fresh(rows.map((row) => row.digest));
      const last = rows.at(-1);
      if (last === undefined || rows.length < SCAN_PAGE) break;
      manifestCursor = [last.repository, last.digest];
    }
  }
}
