import type { Kysely } from 'kysely';
import type { ServiceAccountRecord, ServiceAccountStore, ServiceAccountTokenRecord } from './stores.ts';
import type { Database, ServiceAccountTokensTable } from './schema.ts';
import { MetadataError } from './errors.ts';
import { ProjectNotFoundError } from './project-store.ts';
import { isForeignKeyViolation } from './sql-support.ts';

/** A token was created for a service account that does not exist. */
export class ServiceAccountNotFoundError extends MetadataError {
  override readonly name = 'ServiceAccountNotFoundError';
  readonly project: string;
  readonly account: string;
  constructor(project: string, account: string) {
    super(`service account ${account} does not exist in project ${project}`);
    this.project = project;
    this.account = account;
  }
}

function toToken(row: ServiceAccountTokensTable): ServiceAccountTokenRecord {
  return {
    id: row.id,
    project: row.project,
    account: row.account,
    tokenHash: row.token_hash,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

/** ServiceAccountStore (accounts and their tokens) on Kysely. */
export class KyselyServiceAccountStore implements ServiceAccountStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  /** @throws ProjectNotFoundError */
  async createServiceAccount(account: ServiceAccountRecord): Promise<boolean> {
    try {
      const result = await this.#db
        .insertInto('service_accounts')
        .values({ project: account.project, name: account.name, created_at: account.createdAt })
        .onConflict((oc) => oc.columns(['project', 'name']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    } catch (error) {
      // The only foreign key of service_accounts is its project.
      if (isForeignKeyViolation(error)) throw new ProjectNotFoundError(account.project);
      throw error;
    }
  }

  async getServiceAccount(project: string, name: string): Promise<ServiceAccountRecord | undefined> {
    const row = await this.#db
      .selectFrom('service_accounts')
      .selectAll()
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined ? undefined : { project: row.project, name: row.name, createdAt: row.created_at };
  }

  async listServiceAccounts(project: string): Promise<ServiceAccountRecord[]> {
    const rows = await this.#db.selectFrom('service_accounts').selectAll().where('project', '=', project).orderBy('name').execute();
    return rows.map((row) => ({ project: row.project, name: row.name, createdAt: row.created_at }));
  }

  async deleteServiceAccount(project: string, name: string): Promise<boolean> {
    // Tokens go by ON DELETE CASCADE.
    const result = await this.#db
      .deleteFrom('service_accounts')
      .where('project', '=', project)
      .where('name', '=', name)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /** @throws ServiceAccountNotFoundError */
  async createToken(token: ServiceAccountTokenRecord): Promise<void> {
    try {
      await this.#db
          .insertInto('service_account_tokens')
          .values({
            id: token.id,
            project: token.project,
            account: token.account,
            token_hash: token.tokenHash,
            created_at: token.createdAt,
            expires_at: token.expiresAt,
            revoked_at: token.revokedAt,
            last_used_at: token.lastUsedAt,
          })
          .execute();
    } catch (error) {
      // The only foreign key of service_account_tokens is its account.
      if (isForeignKeyViolation(error)) throw new ServiceAccountNotFoundError(token.project, token.account);
      throw error;
    }
  }

  async listTokens(project: string, account: string): Promise<ServiceAccountTokenRecord[]> {
    const rows = await this.#db
      .selectFrom('service_account_tokens')
      .selectAll()
      .where('project', '=', project)
      .where('account', '=', account)
      .orderBy('created_at')
      .orderBy('id')
      .execute();
    return rows.map(toToken);
  }

  async revokeToken(id: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('service_account_tokens')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async findTokenByHash(tokenHash: string): Promise<ServiceAccountTokenRecord | undefined> {
    const row = await this.#db.selectFrom('service_account_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
    return row === undefined ? undefined : toToken(row);
  }

  async markTokenUsed(id: string, now: number): Promise<void> {
    // Only forward, so that out-of-order writes from several nodes keep the latest use.
    await this.#db
      .updateTable('service_account_tokens')
      .set({ last_used_at: now })
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', now)]))
      .execute();
  }
}
