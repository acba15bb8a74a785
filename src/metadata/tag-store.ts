import type { Kysely } from 'kysely';
import type { Page, TagStore } from './stores.ts';
import type { Database, SqlDialect } from './schema.ts';
import { ManifestNotFoundError } from './errors.ts';
import { atomic, isForeignKeyViolation } from './sql-support.ts';

/** TagStore on Kysely. */
export class KyselyTagStore implements TagStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /**
   * Insert-or-lock-then-update rather than one upsert, because an upsert
   * cannot return the value it replaced. On PostgreSQL the insert waits for a
   * concurrent insert of the same tag to commit, and the row lock then orders
   * concurrent moves, so each caller sees the digest the tag really had.
   *
   * @throws ManifestNotFoundError when the manifest (or its repository) does not exist.
   */
  async putTag(repository: string, tag: string, digest: string, now: number): Promise<string | undefined> {
    try {
      return await atomic(this.#db, async (db) => {
        const inserted = await db
          .insertInto('tags')
          .values({ repository, name: tag, manifest_digest: digest, updated_at: now })
          .onConflict((oc) => oc.columns(['repository', 'name']).doNothing())
          .executeTakeFirst();
        if ((inserted.numInsertedOrUpdatedRows ?? 0n) > 0n) return undefined;
        let select = db
          .selectFrom('tags')
          .select('manifest_digest')
          .where('repository', '=', repository)
          .where('name', '=', tag);
        if (this.#dialect === 'postgres') select = select.forUpdate();
        const previous = await select.executeTakeFirst();
        await db
          .updateTable('tags')
          .set({ manifest_digest: digest, updated_at: now })
          .where('repository', '=', repository)
          .where('name', '=', tag)
          .execute();
        // Undefined only if a concurrent deleteTag won between our insert and select.
        return previous?.manifest_digest;
      });
    } catch (error) {
      if (isForeignKeyViolation(error)) throw new ManifestNotFoundError(repository, digest);
      throw error;
    }
  }

  async getTag(repository: string, tag: string): Promise<string | undefined> {
    const row = await this.#db
      .selectFrom('tags')
      .select('manifest_digest')
      .where('repository', '=', repository)
      .where('name', '=', tag)
      .executeTakeFirst();
    return row?.manifest_digest;
  }

  async deleteTag(repository: string, tag: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('tags')
      .where('repository', '=', repository)
      .where('name', '=', tag)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listTags(repository: string, page: Page): Promise<string[]> {
    let query = this.#db.selectFrom('tags').select('name').where('repository', '=', repository);
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map((r) => r.name);
  }

  async listTagsFor(repository: string, digest: string): Promise<string[]> {
    const rows = await this.#db
      .selectFrom('tags')
      .select('name')
      .where('repository', '=', repository)
      .where('manifest_digest', '=', digest)
      .orderBy('name')
      .execute();
    return rows.map((r) => r.name);
  }
}
