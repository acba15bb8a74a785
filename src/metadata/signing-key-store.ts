import type { Kysely } from 'kysely';
import type { SigningKeyRecord, SigningKeyStore } from './stores.ts';
import type { Database } from './schema.ts';

/** SigningKeyStore on Kysely. A handful of rows: no index beyond the key. */
export class KyselySigningKeyStore implements SigningKeyStore {
  readonly #db: Kysely<Database>;

  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async putKey(key: SigningKeyRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('signing_keys')
      .values({
        kid: key.kid,
        algorithm: key.algorithm,
        public_jwk: key.publicJwk,
        private_jwk_encrypted: key.privateJwkEncrypted,
        created_at: key.createdAt,
        retired_at: key.retiredAt,
      })
      .onConflict((oc) => oc.column('kid').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async listActiveKeys(): Promise<SigningKeyRecord[]> {
    const rows = await this.#db
      .selectFrom('signing_keys')
      .selectAll()
      .where('retired_at', 'is', null)
      .orderBy('created_at', 'desc')
      .orderBy('kid', 'desc')
      .execute();
    return rows.map((row) => ({
      kid: row.kid,
      algorithm: row.algorithm,
      publicJwk: row.public_jwk,
      privateJwkEncrypted: row.private_jwk_encrypted,
      createdAt: row.created_at,
      retiredAt: row.retired_at,
    }));
  }

  async retireKey(kid: string, now: number): Promise<boolean> {
    const result = await this.#db
      .updateTable('signing_keys')
      .set({ retired_at: now })
      .where('kid', '=', kid)
      .where('retired_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }
}
