import type { Kysely } from 'kysely';
import type { Page, RepositoryRecord, RepositoryStore } from './stores.ts';
import type { Database } from './schema.ts';
import { RepositoryNotFoundError } from './errors.ts';

/** RepositoryStore on Kysely. Listing is keyset-paginated on the primary key (no OFFSET). */
export class KyselyRepositoryStore implements RepositoryStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async ensureRepository(name: string, project: string, now: number): Promise<RepositoryRecord> {
    await this.#db
      .insertInto('repositories')
      .values({ name, project, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    // Read back rather than trusting our values: a concurrent first push may
    // have created it, and its createdAt is the one that stays. (Undefined
    // only if a concurrent delete won the race.)
    const record = await this.getRepository(name);
    if (record === undefined) throw new RepositoryNotFoundError(name);
    return record;
  }

  async getRepository(name: string): Promise<RepositoryRecord | undefined> {
    const row = await this.#db
      .selectFrom('repositories')
      .select(['name', 'project', 'created_at'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : { name: row.name, project: row.project, createdAt: row.created_at };
  }

  async listRepositories(page: Page): Promise<string[]> {
    let query = this.#db.selectFrom('repositories').select('name');
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map((r) => r.name);
  }

  async listProjectRepositories(project: string, page: Page): Promise<string[]> {
    let query = this.#db.selectFrom('repositories').select('name').where('project', '=', project);
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    // Served by the (project, name) index.
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map((r) => r.name);
  }

  async listRepositoriesIn(projects: readonly string[], page: Page): Promise<string[]> {
    if (projects.length === 0 || page.limit <= 0) return [];
    let query = this.#db.selectFrom('repositories').select('name').where('project', 'in', projects);
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map((r) => r.name);
  }

  async deleteRepository(name: string): Promise<boolean> {
    // Blob links, manifests (and through them their references) and tags go
    // with it by ON DELETE CASCADE, in this one statement.
    const result = await this.#db.deleteFrom('repositories').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
