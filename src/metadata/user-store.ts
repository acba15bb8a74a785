import type { Kysely } from 'kysely';
import type { GroupRecord, Page, UserRecord, UserStore } from './stores.ts';
import type { Database, SqlDialect, UsersTable } from './schema.ts';
import { MetadataError } from './errors.ts';
import { atomic } from './sql-support.ts';

/** An operation named a user that does not exist. */
export class UserNotFoundError extends MetadataError {
  override readonly name = 'UserNotFoundError';
  readonly user: string;
  constructor(user: string) {
    super(`user ${user} does not exist`);
    this.user = user;
  }
}

/** An operation named a group that does not exist. */
export class GroupNotFoundError extends MetadataError {
  override readonly name = 'GroupNotFoundError';
  readonly group: string;
  constructor(group: string) {
    super(`group ${group} does not exist`);
    this.group = group;
  }
}

function toUser(row: UsersTable): UserRecord {
  return { name: row.name, passwordHash: row.password_hash, createdAt: row.created_at, disabled: row.disabled !== 0 };
}

/** UserStore (users, groups and memberships) on Kysely. */
export class KyselyUserStore implements UserStore {
  readonly #db: Kysely<Database>;
  readonly #dialect: SqlDialect;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.#db = db;
    this.#dialect = dialect;
  }

  async createUser(user: UserRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('users')
      .values({ name: user.name, password_hash: user.passwordHash, created_at: user.createdAt, disabled: user.disabled ? 1 : 0 })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async getUser(name: string): Promise<UserRecord | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : toUser(row);
  }

  async listUsers(page: Page): Promise<UserRecord[]> {
    let query = this.#db.selectFrom('users').selectAll();
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    return (await query.orderBy('name').limit(page.limit).execute()).map(toUser);
  }

  async setPasswordHash(name: string, passwordHash: string | null): Promise<boolean> {
    const result = await this.#db.updateTable('users').set({ password_hash: passwordHash }).where('name', '=', name).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async setDisabled(name: string, disabled: boolean): Promise<boolean> {
    const result = await this.#db.updateTable('users').set({ disabled: disabled ? 1 : 0 }).where('name', '=', name).executeTakeFirst();
    return result.numUpdatedRows > 0n;
  }

  async deleteUser(name: string): Promise<boolean> {
    // Memberships go by ON DELETE CASCADE.
    const result = await this.#db.deleteFrom('users').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async createGroup(group: GroupRecord): Promise<boolean> {
    const result = await this.#db
      .insertInto('groups')
      .values({ name: group.name, created_at: group.createdAt })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
  }

  async getGroup(name: string): Promise<GroupRecord | undefined> {
    const row = await this.#db.selectFrom('groups').selectAll().where('name', '=', name).executeTakeFirst();
    return row === undefined ? undefined : { name: row.name, createdAt: row.created_at };
  }

  async listGroups(page: Page): Promise<GroupRecord[]> {
    let query = this.#db.selectFrom('groups').selectAll();
    if (page.after !== undefined) query = query.where('name', '>', page.after);
    const rows = await query.orderBy('name').limit(page.limit).execute();
    return rows.map((row) => ({ name: row.name, createdAt: row.created_at }));
  }

  async deleteGroup(name: string): Promise<boolean> {
    const result = await this.#db.deleteFrom('groups').where('name', '=', name).executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  /**
   * Checks both sides before inserting rather than decoding the foreign-key
   * error, so that the error says which one is missing. On PostgreSQL the
   * FOR SHARE locks keep a concurrent delete from slipping in between.
   *
   * @throws UserNotFoundError / GroupNotFoundError
   */
  async addMember(group: string, user: string): Promise<boolean> {
    return atomic(this.#db, async (db) => {
      let groupRow = db.selectFrom('groups').select('name').where('name', '=', group);
      let userRow = db.selectFrom('users').select('name').where('name', '=', user);
      if (this.#dialect === 'postgres') {
        groupRow = groupRow.forShare();
        userRow = userRow.forShare();
      }
      if ((await groupRow.executeTakeFirst()) === undefined) throw new GroupNotFoundError(group);
      if ((await userRow.executeTakeFirst()) === undefined) throw new UserNotFoundError(user);
      const result = await db
        .insertInto('group_members')
        .values({ group_name: group, user_name: user })
        .onConflict((oc) => oc.columns(['group_name', 'user_name']).doNothing())
        .executeTakeFirst();
      return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
    });
  }

  async removeMember(group: string, user: string): Promise<boolean> {
    const result = await this.#db
      .deleteFrom('group_members')
      .where('group_name', '=', group)
      .where('user_name', '=', user)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listMembers(group: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('group_members').select('user_name').where('group_name', '=', group).orderBy('user_name').execute();
    return rows.map((r) => r.user_name);
  }

  async groupsOf(user: string): Promise<string[]> {
    const rows = await this.#db.selectFrom('group_members').select('group_name').where('user_name', '=', user).orderBy('group_name').execute();
    return rows.map((r) => r.group_name);
  }
}
