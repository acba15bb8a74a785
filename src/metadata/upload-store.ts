import type { Kysely, Selectable } from 'kysely';
import type { UploadRecord, UploadStore } from './stores.ts';
import type { Database, UploadsTable } from './schema.ts';

function toRecord(row: Selectable<UploadsTable>): UploadRecord {
  return {
    id: row.id,
    repository: row.repository,
    size: row.size,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * UploadStore on Kysely. Sessions deliberately have no foreign key to their
 * repository: deleting a repository leaves them to expire, because their
 * bytes in blob storage need the same expiry to be cleaned up.
 */
export class KyselyUploadStore implements UploadStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async createUpload(upload: UploadRecord): Promise<void> {
    await this.#db
      .insertInto('uploads')
      .values({
        id: upload.id,
        repository: upload.repository,
        size: upload.size,
        created_at: upload.createdAt,
        updated_at: upload.updatedAt,
      })
      .execute();
  }

  async getUpload(id: string): Promise<UploadRecord | undefined> {
    const row = await this.#db.selectFrom('uploads').selectAll().where('id', '=', id).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async updateUpload(id: string, size: number, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('uploads')
      .set({ size, updated_at: now })
      .where('id', '=', id)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteUpload(id: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('uploads').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listStaleUploads(before: number, limit: number): Promise<UploadRecord[]> {
    const rows = await this.#db
      .selectFrom('uploads')
      .selectAll()
      .where('updated_at', '<', before)
      .orderBy('updated_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }
}
