import type { Kysely, Selectable } from 'kysely';
import type { PullSecretRecord, PullSecretStore } from './stores.ts';
import type { Database, PullSecretsTable } from './schema.ts';

function toRecord(row: Selectable<PullSecretsTable>): PullSecretRecord {
  // Written only by createSecret, from a string array.
  return {
    project: row.project,
    name: row.name,
    type: row.type,
    registries: JSON.parse(row.registries) as string[],
    sealed: row.sealed,
    createdAt: row.created_at,
  };
}

/** PullSecretStore on Kysely: one row per (project, name); the credentials only sealed. */
export class KyselyPullSecretStore implements PullSecretStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async createSecret(secret: PullSecretRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('pull_secrets')
      .values({
        project: secret.project,
        name: secret.name,
        type: secret.type,
        registries: JSON.stringify(secret.registries),
        sealed: secret.sealed,
        created_at: secret.createdAt,
      })
      .onConflict((oc) => oc.columns(['project', 'name']).doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async getSecret(project: string, name: string): Promise<PullSecretRecord | undefined> {
    const row = await this.#db.selectFrom('pull_secrets').selectAll().where('project', '=', project).where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async listSecrets(project: string): Promise<PullSecretRecord[]> {
    const rows = await this.#db.selectFrom('pull_secrets').selectAll().where('project', '=', project).orderBy('name').execute();
    return rows.map(toRecord);
  }

  async deleteSecret(project: string, name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('pull_secrets').where('project', '=', project).where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }
}
