import type { Kysely } from 'kysely';
import type { ImageImportStatusStore, ImageStreamCondition, ImageStreamRecord } from './stores.ts';
import type { Database, SqlDialect } from './schema.ts';
import { KyselyImageStreamStore, lockStreamRow } from './image-stream-store.ts';

/** ImageImportStatusStore on Kysely, over the image_streams table. */
export class KyselyImageImportStatusStore implements ImageImportStatusStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async lockStream(project: string, name: string): Promise<ImageStreamRecord | undefined> {
    if (!(await lockStreamRow(this.#db, this.#dialect, project, name))) return undefined;
    // Read after the lock: under READ COMMITTED this statement sees what the previous holder committed.
    return new KyselyImageStreamStore(this.#db, this.#dialect).getStream(project, name);
  }

  async setConditions(project: string, name: string, conditions: readonly ImageStreamCondition[]): Promise<boolean> {
    const result = await this.#db
      .updateTable('image_streams')
      .set((eb) => ({ status_conditions: JSON.stringify(conditions), resource_version: eb('resource_version', '+', 1) }))
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setImportedGeneration(project: string, name: string, generation: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('image_streams')
      .set({ import_generation: generation })
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
