import type { Kysely } from 'kysely';
import type { OAuthTokenRecord, OAuthTokenStore } from './stores.ts';
import type { Database, OAuthTokensTable } from './schema.ts';

function toRecord(row: OAuthTokensTable): OAuthTokenRecord {
  return {
    hash: row.hash,
    kind: row.kind,
    userName: row.user_name,
    clientId: row.client_id,
    scopes: row.scopes,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    family: row.family,
  };
}

/** OAuthTokenStore on Kysely: tokens are stored by hash only. */
export class KyselyOAuthTokenStore implements OAuthTokenStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async putToken(token: OAuthTokenRecord): Promise<void> {
    await this.#db
      .insertInto('oauth_tokens')
      .values({
        hash: token.hash,
        kind: token.kind,
        user_name: token.userName,
        client_id: token.clientId,
        scopes: token.scopes,
        created_at: token.createdAt,
        expires_at: token.expiresAt,
        revoked_at: token.revokedAt,
        family: token.family,
      })
      .onConflict((oc) => oc.column('hash').doNothing())
      .execute();
  }

  async findTokenByHash(hash: string): Promise<OAuthTokenRecord | undefined> {
    const row = await this.#db.selectFrom('oauth_tokens').selectAll().where('hash', '=', hash).executeTakeFirst();
    return row === undefined ? undefined : toRecord(row);
  }

  async revokeToken(hash: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('oauth_tokens')
      .set({ revoked_at: now })
      .where('hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async revokeFamily(family: string, now: number): Promise<number> {
    const result = await this.#db
      .updateTable('oauth_tokens')
      .set({ revoked_at: now })
      .where('family', '=', family)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async revokeAllForUser(userName: string, now: number): Promise<number> {
    const result = await this.#db
      .updateTable('oauth_tokens')
      .set({ revoked_at: now })
      .where('user_name', '=', userName)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async deleteExpired(before: number): Promise<number> {
    const result = await this.#db.deleteFrom('oauth_tokens').where('expires_at', '<', before).executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
