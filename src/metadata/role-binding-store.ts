import type { Kysely } from 'kysely';
import { CLUSTER_SCOPE } from './stores.ts';
import type { RoleBindingRecord, RoleBindingStore } from './stores.ts';
import type { Database, RoleBindingsTable, SqlDialect } from './schema.ts';
import { ProjectNotFoundError } from './project-store.ts';
import { atomic } from './sql-support.ts';

function toRecord(row: RoleBindingsTable): RoleBindingRecord {
  return { project: row.project, role: row.role, subjectKind: row.subject_kind, subjectName: row.subject_name };
}

/** RoleBindingStore on Kysely; cluster-wide bindings are rows with project CLUSTER_SCOPE (''). */
export class KyselyRoleBindingStore implements RoleBindingStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  /**
   * The project check stands in for a foreign key (cluster bindings have
   * none to point at). On PostgreSQL the FOR SHARE lock on the project row
   * makes a concurrent deleteProject wait for us, or us for it.
   *
   * @throws ProjectNotFoundError
   */
  async addBinding(binding: RoleBindingRecord): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      if (binding.project !== CLUSTER_SCOPE) {
        let project = db.selectFrom('projects').select('name').where('name', '=', binding.project);
        if (this.#dialect === 'postgres') project = project.forShare();
        if ((await project.executeTakeFirst()) === undefined) throw new ProjectNotFoundError(binding.project);
      }
      const result = await db
        .insertInto('role_bindings')
        .values({
          project: binding.project,
          role: binding.role,
          subject_kind: binding.subjectKind,
          subject_name: binding.subjectName,
        })
        .onConflict((oc) => oc.columns(['project', 'role', 'subject_kind', 'subject_name']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  async removeBinding(binding: RoleBindingRecord): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('role_bindings')
      .where('project', '=', binding.project)
      .where('role', '=', binding.role)
      .where('subject_kind', '=', binding.subjectKind)
      .where('subject_name', '=', binding.subjectName)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listBindings(project: string): Promise<RoleBindingRecord[]> {
    const rows = await this.#db
      .selectFrom('role_bindings')
      .selectAll()
      .where('project', '=', project)
      .orderBy('role')
      .orderBy('subject_kind')
      .orderBy('subject_name')
      .execute();
    return rows.map(toRecord);
  }

  async listBindingsFor(subjectKind: RoleBindingRecord['subjectKind'], subjectName: string): Promise<RoleBindingRecord[]> {
    const rows = await this.#db
      .selectFrom('role_bindings')
      .selectAll()
      .where('subject_kind', '=', subjectKind)
      .where('subject_name', '=', subjectName)
      .orderBy('project')
      .orderBy('role')
      .execute();
    return rows.map(toRecord);
  }
}
