import type { Kysely } from 'kysely';
import type { Page, ProjectRecord, ProjectStore } from './stores.ts';
import type { Database, ProjectsTable } from './schema.ts';
import { MetadataError } from './errors.ts';
import { KyselyRepositoryStore } from './repository-store.ts';
import { atomic } from './sql-support.ts';

/** A write needed a project that does not exist. */
export class ProjectNotFoundError extends MetadataError {
  override readonly name = 'ProjectNotFoundError';
  readonly project: string;
  constructor(project: string) {
    super(`project ${project} does not exist`);
    this.project = project;
  }
}

/** Repositories deleted per round trip when a project goes. */
const REPOSITORY_BATCH = 500;

function toRecord(row: ProjectsTable): ProjectRecord {
  return { name: row.name, createdAt: row.created_at, createdBy: row.created_by, displayName: row.display_name };
}

/** ProjectStore on Kysely. */
export class KyselyProjectStore implements ProjectStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async ensureProject(project: ProjectRecord): Promise<ProjectRecord> {
    await this.#db
      .insertInto('projects')
      .values({ name: project.name, created_at: project.createdAt, created_by: project.createdBy, display_name: project.displayName })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
    // Read back: a concurrent creator may have won, and its record stays.
    // (Undefined only if a concurrent delete won the race.)
    const stored = await this.getProject(project.name);
    if (stored === undefined) throw new ProjectNotFoundError(project.name);
    return stored;
  }

  async getProject(name: string): Promise<ProjectRecord | undefined> {
    const row = await this.#db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async listProjects(page: Page): Promise<ProjectRecord[]> {
    let query = this.#db.selectFrom('projects').selectAll();
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map(toRecord);
  }

  async deleteProject(name: string): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      // The project row first: on PostgreSQL its row lock makes a concurrent
      // addBinding/createServiceAccount (which lock it FOR SHARE) wait and then
      // find it gone, so nothing is added behind our back. Service accounts and
      // their tokens go with it by ON DELETE CASCADE.
      const deleted = await db.deleteFrom('projects').where('name', '=', name).executeTakeFirst();
      await db.deleteFrom('role_bindings').where('project', '=', name).execute();
      // Bindings elsewhere that name this project's service accounts
      // (`<project>:<account>`): a byte range, since project names cannot
      // contain ':' and ';' is the next byte after it. A range, unlike LIKE,
      // has no wildcards to escape and uses the subject index.
      await db
        .deleteFrom('role_bindings')
        .where('subject_kind', '=', 'ServiceAccount')
        .where('subject_name', '>=', `${name}:`)
        .where('subject_name', '<', `${name};`)
        .execute();
      // Its image streams, their current tags and their history.
      await db.deleteFrom('image_streams').where('project', '=', name).execute();
      await db.deleteFrom('image_stream_tags').where('project', '=', name).execute();
      await db.deleteFrom('image_stream_tag_items').where('project', '=', name).execute();
      // Its pull secrets: credentials must not outlive the project (a new project of the name must not inherit them).
      await db.deleteFrom('pull_secrets').where('project', '=', name).execute();
      const repositories = new KyselyRepositoryStore(db);
      for (;;) {
        const names = await repositories.listProjectRepositories(name, { limit: REPOSITORY_BATCH });
        for (const repository of names) await repositories.deleteRepository(repository);
        if (names.length < REPOSITORY_BATCH) break;
      }
      return deleted.numDeletedRows > 0n;
    });
  }
}
