/**
 * A Kysely dialect on Node's built-in `node:sqlite` (DatabaseSync).
 *
 * Kysely's own SqliteDialect drives a better-sqlite3-shaped object; this file
 * adapts a DatabaseSync to that shape instead of writing a driver, so that
 * Kysely's connection mutex (one connection, one holder at a time) keeps
 * serialising transactions against other async callers. Two refinements:
 * transactions begin IMMEDIATE, and the adapter declares transactional DDL
 * (true for SQLite), so that migrations run inside one write-locked
 * transaction and two processes starting at once cannot both apply them.
 */

import { DatabaseSync } from 'node:sqlite';
import type { SQLInputValue, StatementSync } from 'node:sqlite';
import { CompiledQuery, SqliteAdapter, SqliteDialect, SqliteDriver } from 'kysely';
import type {
  DatabaseConnection,
  DialectAdapter,
  Driver,
  SqliteDatabase,
  SqliteDialectConfig,
  SqliteStatement,
} from 'kysely';

/** How long a writer waits for another process's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Prepared statements kept per database; the registry issues a few dozen distinct statements. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Opens (creating if absent) a SQLite database file with the settings Berth
 * relies on: WAL (readers never block the writer), synchronous=NORMAL (durable
 * at checkpoints, never corrupt), foreign keys on (cascades are part of the
 * schema), and a busy timeout for other processes holding the write lock.
 *
 * @param location an absolute file path, or `:memory:`.
 */
export function openSqliteDatabase(location: string): DatabaseSync {
  const db = new DatabaseSync(location, { enableForeignKeyConstraints: true });
  try {
    db.exec(`PRAGMA busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    db.exec('PRAGMA foreign_keys = ON');
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/**
 * Converts a Kysely parameter to a value node:sqlite can bind. Booleans become
 * 0/1 and undefined becomes NULL (better-sqlite3 does the same; node:sqlite
 * refuses booleans).
 */
function toSqliteValue(value: unknown): SQLInputValue {
  if (value === undefined || value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'bigint':
      return value;
    case 'boolean':
      return value ? 1 : 0;
    default:
      if (value instanceof Uint8Array) return value;
      throw new TypeError(`cannot bind a ${typeof value} parameter to SQLite`);
  }
}

function toSqliteValues(parameters: ReadonlyArray<unknown>): SQLInputValue[] {
  return parameters.map(toSqliteValue);
}

/** A node:sqlite statement in the shape Kysely's SqliteDriver expects. */
class NodeSqliteStatement implements SqliteStatement {
  readonly #statement: StatementSync;
  readonly reader: boolean;

  constructor(statement: StatementSync) {
    this.#statement = statement;
    // A statement that yields columns (SELECT, or a write with RETURNING) is
    // read with all(); anything else reports its changes through run().
    this.reader = statement.columns().length > 0;
  }

  all(parameters: ReadonlyArray<unknown>): unknown[] {
    return this.#statement.all(...toSqliteValues(parameters));
  }

  run(parameters: ReadonlyArray<unknown>): { changes: number | bigint; lastInsertRowid: number | bigint } {
    const result = this.#statement.run(...toSqliteValues(parameters));
    return { changes: result.changes, lastInsertRowid: result.lastInsertRowid };
  }

  iterate(parameters: ReadonlyArray<unknown>): IterableIterator<unknown> {
    return this.#statement.iterate(...toSqliteValues(parameters));
  }
}

/** A DatabaseSync in the shape of better-sqlite3's Database, with a small statement cache. */
export class NodeSqliteDatabase implements SqliteDatabase {
  readonly #db: DatabaseSync;
  readonly #cache = new Map<string, NodeSqliteStatement>();

  constructor(db: DatabaseSync) {
    this.#db = db;
  }

  prepare(sql: string): SqliteStatement {
    const cached = this.#cache.get(sql);
    if (cached !== undefined) {
      // Re-insert to keep the map in least-recently-used order.
      this.#cache.delete(sql);
      this.#cache.set(sql, cached);
      return cached;
    }
    const statement = new NodeSqliteStatement(this.#db.prepare(sql));
    // Kysely compiles values to placeholders, so the same SQL text repeats
    // across calls; one-off SQL (DDL) simply ages out of the LRU.
    this.#cache.set(sql, statement);
    if (this.#cache.size > STATEMENT_CACHE_SIZE) {
      const oldest = this.#cache.keys().next();
      if (oldest.done !== true) this.#cache.delete(oldest.value);
    }
    return statement;
  }

  close(): void {
    this.#cache.clear();
    this.#db.close();
  }
}

/** SqliteDriver whose transactions take the write lock at BEGIN. */
class ImmediateSqliteDriver extends SqliteDriver {
  // A deferred transaction that reads and then writes can fail with
  // SQLITE_BUSY when another process wrote in between, without waiting for
  // busy_timeout. Taking the lock up front makes the second writer wait.
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

/** SQLite has transactional DDL; saying so makes Kysely's Migrator wrap migrations in a transaction. */
class NodeSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

/** Kysely dialect on `node:sqlite`. The database is opened lazily by Kysely on first use. */
export class NodeSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  /** @param location an absolute file path, or `:memory:`. */
  constructor(location: string) {
    const config: SqliteDialectConfig = {
      database: async () => new NodeSqliteDatabase(openSqliteDatabase(location)),
    };
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }

  override createAdapter(): DialectAdapter {
    return new NodeSqliteAdapter();
  }
}
