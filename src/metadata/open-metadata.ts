/**
 * Opening the metadata database from a URL: the one place where the SQL
 * engine is chosen.
 *
 *   sqlite:/absolute/path/berth.db   embedded (the default), one process
 *   sqlite::memory:                  embedded, gone on close (tests)
 *   postgres://… / postgresql://…    PostgreSQL, shared by every replica (HA)
 */

import { isAbsolute } from 'node:path';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Dialect } from 'kysely';
import pg from 'pg';
import type { Metadata, MetadataStores } from './stores.ts';
import type { Database, SqlDialect } from './schema.ts';
import { createKyselyStores } from './kysely-stores.ts';
import { migrateToLatest } from './migrations.ts';
import { NodeSqliteDialect } from './sqlite-dialect.ts';
import { InvalidDatabaseUrlError, MetadataError, UnsupportedDatabaseError } from './errors.ts';

/** PostgreSQL's OID for int8 (bigint). */
const INT8_OID = 20;

/** Options of {@link openMetadata}. */
export interface OpenMetadataOptions {
  /** `sqlite:/abs/path.db`, `sqlite::memory:`, `postgres://…` or `postgresql://…`. */
  readonly url: string;
}

/**
 * int8 parsed as a JavaScript number, for this pool only (no global
 * mutation of pg.types). Every int8 here is milliseconds or a byte count,
 * far below 2^53; a value above that would be a corrupt row, so fail loudly.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') {
      return (value: string): number => {
        const n = Number(value);
        if (!Number.isSafeInteger(n)) throw new MetadataError(`int8 value ${value} exceeds the safe integer range`);
        return n;
      };
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

function schemeOf(url: string): string {
  const match = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(url);
  return match?.[1]?.toLowerCase() ?? '';
}

function dialectFor(url: string): { dialect: SqlDialect; kysely: Dialect } {
  const scheme = schemeOf(url);
  if (scheme === 'sqlite') {
    const location = url.slice('sqlite:'.length);
    if (location !== ':memory:' && !isAbsolute(location)) {
      throw new InvalidDatabaseUrlError(`sqlite needs an absolute path (sqlite:/path/berth.db) or :memory:, got ${url}`);
    }
    return { dialect: 'sqlite', kysely: new NodeSqliteDialect(location) };
  }
  if (scheme === 'postgres' || scheme === 'postgresql') {
    const pool = new pg.Pool({ connectionString: url, types: pgTypes });
    // An idle connection that breaks (server restart, failover) is dropped by
    // the pool; without a listener its 'error' event would crash the process.
    // The next query opens a new connection and reports any lasting failure.
    pool.on('error', () => {});
    return { dialect: 'postgres', kysely: new PostgresDialect({ pool }) };
  }
  throw new UnsupportedDatabaseError(scheme);
}

/** Metadata on a Kysely instance. `db` is exposed for tests and maintenance commands (reindex). */
export class KyselyMetadata implements Metadata {
  readonly dialect: SqlDialect;
  readonly db: Kysely<Database>;
  readonly #stores: MetadataStores;

  constructor(db: Kysely<Database>, dialect: SqlDialect) {
    this.db = db;
    this.dialect = dialect;
    this.#stores = createKyselyStores(db, dialect);
  }

  get repositories(): MetadataStores['repositories'] {
    return this.#stores.repositories;
  }
  get blobs(): MetadataStores['blobs'] {
    return this.#stores.blobs;
  }
  get manifests(): MetadataStores['manifests'] {
    return this.#stores.manifests;
  }
  get tags(): MetadataStores['tags'] {
    return this.#stores.tags;
  }
  get uploads(): MetadataStores['uploads'] {
    return this.#stores.uploads;
  }
  get projects(): MetadataStores['projects'] {
    return this.#stores.projects;
  }
  get users(): MetadataStores['users'] {
    return this.#stores.users;
  }
  get roleBindings(): MetadataStores['roleBindings'] {
    return this.#stores.roleBindings;
  }
  get serviceAccounts(): MetadataStores['serviceAccounts'] {
    return this.#stores.serviceAccounts;
  }
  get oauthTokens(): MetadataStores['oauthTokens'] {
    return this.#stores.oauthTokens;
  }
  get signingKeys(): MetadataStores['signingKeys'] {
    return this.#stores.signingKeys;
  }
  get images(): MetadataStores['images'] {
    return this.#stores.images;
  }
  get imageStreams(): MetadataStores['imageStreams'] {
    return this.#stores.imageStreams;
  }
  get imageImports(): MetadataStores['imageImports'] {
    return this.#stores.imageImports;
  }
  get pullSecrets(): MetadataStores['pullSecrets'] {
    return this.#stores.pullSecrets;
  }

  /**
   * SQLite: the transaction holds the single connection, so every other
   * caller's queries (transactional or not) wait until it ends and never see
   * or join its uncommitted writes. PostgreSQL: one pooled connection for the
   * transaction, READ COMMITTED, with row locks taken by the stores.
   * Inside `fn` use `tx` only: on SQLite a call on this object from inside
   * `fn` waits for the connection `fn` holds, which never frees (deadlock).
   */
  withTransaction<T>(fn: (tx: MetadataStores) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(createKyselyStores(trx, this.dialect)));
  }

  migrate(): Promise<void> {
    return migrateToLatest(this.db as Kysely<unknown>, this.dialect);
  }

  close(): Promise<void> {
    return this.db.destroy();
  }
}

/**
 * Like {@link openMetadata}, with the concrete type (and its Kysely handle).
 * Connects once before returning, so a bad path or an unreachable server
 * fails here, at start-up, not on the first request.
 *
 * @throws UnsupportedDatabaseError for a scheme other than sqlite, postgres, postgresql.
 * @throws InvalidDatabaseUrlError for a relative SQLite path.
 */
export async function openKyselyMetadata(options: OpenMetadataOptions): Promise<KyselyMetadata> {
  const { dialect, kysely } = dialectFor(options.url);
  const db = new Kysely<Database>({ dialect: kysely });
  try {
    await sql`select 1`.execute(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return new KyselyMetadata(db, dialect);
}

/**
 * Opens the metadata database named by `options.url`. Does not migrate: call
 * `migrate()` (the server does at start-up).
 */
export async function openMetadata(options: OpenMetadataOptions): Promise<Metadata> {
  return openKyselyMetadata(options);
}
