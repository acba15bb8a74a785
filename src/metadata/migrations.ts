/**
 * The metadata schema's one migration set, shared by SQLite and PostgreSQL.
 *
 * Names are `NNNN_topic`; Kysely applies them in name order and refuses to run
 * when an applied migration is missing from this list, so never rename or
 * remove one: add a new one.
 *
 * Concurrency: on PostgreSQL Kysely's Migrator holds an advisory lock while it
 * runs; on SQLite our dialect runs the migrations in one BEGIN IMMEDIATE
 * transaction (see sqlite-dialect.ts). Either way a second process that starts
 * at the same moment waits and then finds nothing left to do.
 */

import { Migrator, sql } from 'kysely';
import type { ColumnDataType, CreateTableBuilder, Expression, Kysely, Migration, MigrationProvider } from 'kysely';
import { MigrationFailedError } from './errors.ts';
import type { SqlDialect } from './schema.ts';

type DataType = ColumnDataType | Expression<unknown>;

/** Column types that differ between the dialects. */
interface Types {
  /**
   * Text that is sorted and compared as keys (names, digests). PostgreSQL gets
   * the "C" collation so that it orders by bytes like SQLite's BINARY; the
   * primary-key indexes then serve keyset pagination on both.
   */
  readonly key: DataType;
  readonly text: DataType;
  /** Milliseconds and byte counts. */
  readonly int64: DataType;
}

function typesFor(dialect: SqlDialect): Types {
  return dialect === 'postgres'
    ? { key: sql`text collate "C"`, text: 'text', int64: 'bigint' }
    : { key: 'text', text: 'text', int64: 'bigint' };
}

/**
 * Finishes a CREATE TABLE. Every table here has a text primary key, so SQLite
 * stores it WITHOUT ROWID (clustered on the key: one b-tree instead of two).
 */
function finish<T extends string, C extends string>(
  dialect: SqlDialect,
  builder: CreateTableBuilder<T, C>,
): CreateTableBuilder<T, C> {
  return dialect === 'sqlite' ? builder.modifyEnd(sql`without rowid`) : builder;
}

function registry(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await finish(
        dialect,
        db.schema
          .createTable('repositories')
          .addColumn('name', t.key, (c) => c.primaryKey())
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('repositories_project_name').on('repositories').columns(['project', 'name']).execute();

      await finish(
        dialect,
        db.schema
          .createTable('blobs')
          .addColumn('digest', t.key, (c) => c.primaryKey())
          .addColumn('size', t.int64, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull()),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('repository_blobs')
          .addColumn('repository', t.key, (c) => c.notNull().references('repositories.name').onDelete('cascade'))
          .addColumn('digest', t.key, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('repository_blobs_pk', ['repository', 'digest']),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('manifests')
          .addColumn('repository', t.key, (c) => c.notNull().references('repositories.name').onDelete('cascade'))
          .addColumn('digest', t.key, (c) => c.notNull())
          .addColumn('media_type', t.text, (c) => c.notNull())
          .addColumn('size', t.int64, (c) => c.notNull())
          .addColumn('artifact_type', t.text)
          .addColumn('subject_digest', t.key)
          .addColumn('annotations', t.text)
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('manifests_pk', ['repository', 'digest']),
      ).execute();
      await db.schema
        .createIndex('manifests_repository_subject')
        .on('manifests')
        .columns(['repository', 'subject_digest'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('manifest_references')
          .addColumn('repository', t.key, (c) => c.notNull())
          .addColumn('manifest_digest', t.key, (c) => c.notNull())
          .addColumn('child_digest', t.key, (c) => c.notNull())
          .addColumn('kind', t.text, (c) => c.notNull().check(sql`kind in ('blob', 'manifest')`))
          .addPrimaryKeyConstraint('manifest_references_pk', ['repository', 'manifest_digest', 'child_digest'])
          .addForeignKeyConstraint(
            'manifest_references_manifest_fk',
            ['repository', 'manifest_digest'],
            'manifests',
            ['repository', 'digest'],
            (c) => c.onDelete('cascade'),
          ),
      ).execute();
      await db.schema
        .createIndex('manifest_references_repository_child')
        .on('manifest_references')
        .columns(['repository', 'child_digest'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('tags')
          .addColumn('repository', t.key, (c) => c.notNull().references('repositories.name').onDelete('cascade'))
          .addColumn('name', t.key, (c) => c.notNull())
          .addColumn('manifest_digest', t.key, (c) => c.notNull())
          .addColumn('updated_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('tags_pk', ['repository', 'name'])
          // No cascade: deleting a tagged manifest is the store's explicit
          // decision (deleteManifest removes the tags first), never a side effect.
          .addForeignKeyConstraint('tags_manifest_fk', ['repository', 'manifest_digest'], 'manifests', [
            'repository',
            'digest',
          ]),
      ).execute();
      // listTagsFor and the foreign key's checks on manifest delete look tags up by digest.
      await db.schema
        .createIndex('tags_repository_manifest')
        .on('tags')
        .columns(['repository', 'manifest_digest'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('uploads')
          .addColumn('id', t.key, (c) => c.primaryKey())
          .addColumn('repository', t.key, (c) => c.notNull())
          .addColumn('size', t.int64, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('updated_at', t.int64, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('uploads_updated_at').on('uploads').column('updated_at').execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['uploads', 'tags', 'manifest_references', 'manifests', 'repository_blobs', 'blobs', 'repositories']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Access control: projects, users and groups, role bindings, service accounts
 * and their tokens, OAuth tokens and token-signing keys.
 *
 * Role bindings have no foreign key to projects because cluster-wide
 * bindings use the project value '' (CLUSTER_SCOPE); the stores check the
 * project on insert and ProjectStore.deleteProject removes a project's
 * bindings explicitly. Booleans are integers 0/1 on both dialects.
 */
function access(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await finish(
        dialect,
        db.schema
          .createTable('projects')
          .addColumn('name', t.key, (c) => c.primaryKey())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('created_by', t.text, (c) => c.notNull())
          .addColumn('display_name', t.text),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('users')
          .addColumn('name', t.key, (c) => c.primaryKey())
          .addColumn('password_hash', t.text)
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0).check(sql`disabled in (0, 1)`)),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('groups')
          .addColumn('name', t.key, (c) => c.primaryKey())
          .addColumn('created_at', t.int64, (c) => c.notNull()),
      ).execute();

      // group_name/user_name rather than group/user: both are SQL keywords.
      await finish(
        dialect,
        db.schema
          .createTable('group_members')
          .addColumn('group_name', t.key, (c) => c.notNull().references('groups.name').onDelete('cascade'))
          .addColumn('user_name', t.key, (c) => c.notNull().references('users.name').onDelete('cascade'))
          .addPrimaryKeyConstraint('group_members_pk', ['group_name', 'user_name']),
      ).execute();
      // groupsOf, and the cascade from users.
      await db.schema.createIndex('group_members_user').on('group_members').columns(['user_name', 'group_name']).execute();

      await finish(
        dialect,
        db.schema
          .createTable('role_bindings')
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('role', t.key, (c) => c.notNull())
          .addColumn('subject_kind', t.key, (c) =>
            c.notNull().check(sql`subject_kind in ('User', 'Group', 'ServiceAccount')`),
          )
          .addColumn('subject_name', t.key, (c) => c.notNull())
          .addPrimaryKeyConstraint('role_bindings_pk', ['project', 'role', 'subject_kind', 'subject_name']),
      ).execute();
      // listBindingsFor, and deleting the bindings of a project's service accounts.
      await db.schema
        .createIndex('role_bindings_subject')
        .on('role_bindings')
        .columns(['subject_kind', 'subject_name', 'project'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('service_accounts')
          .addColumn('project', t.key, (c) => c.notNull().references('projects.name').onDelete('cascade'))
          .addColumn('name', t.key, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('service_accounts_pk', ['project', 'name']),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('service_account_tokens')
          .addColumn('id', t.key, (c) => c.primaryKey())
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('account', t.key, (c) => c.notNull())
          .addColumn('token_hash', t.key, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('expires_at', t.int64)
          .addColumn('revoked_at', t.int64)
          .addColumn('last_used_at', t.int64)
          .addForeignKeyConstraint(
            'service_account_tokens_account_fk',
            ['project', 'account'],
            'service_accounts',
            ['project', 'name'],
            (c) => c.onDelete('cascade'),
          ),
      ).execute();
      await db.schema.createIndex('service_account_tokens_hash').unique().on('service_account_tokens').column('token_hash').execute();
      await db.schema
        .createIndex('service_account_tokens_account')
        .on('service_account_tokens')
        .columns(['project', 'account', 'created_at'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('oauth_tokens')
          .addColumn('hash', t.key, (c) => c.primaryKey())
          .addColumn('kind', t.key, (c) => c.notNull().check(sql`kind in ('access', 'refresh')`))
          .addColumn('user_name', t.key, (c) => c.notNull())
          .addColumn('client_id', t.text, (c) => c.notNull())
          .addColumn('scopes', t.text, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('expires_at', t.int64, (c) => c.notNull())
          .addColumn('revoked_at', t.int64)
          .addColumn('family', t.key, (c) => c.notNull()),
      ).execute();
      await db.schema.createIndex('oauth_tokens_family').on('oauth_tokens').column('family').execute();
      await db.schema.createIndex('oauth_tokens_user').on('oauth_tokens').column('user_name').execute();
      await db.schema.createIndex('oauth_tokens_expires_at').on('oauth_tokens').column('expires_at').execute();

      await finish(
        dialect,
        db.schema
          .createTable('signing_keys')
          .addColumn('kid', t.key, (c) => c.primaryKey())
          .addColumn('algorithm', t.text, (c) => c.notNull())
          .addColumn('public_jwk', t.text, (c) => c.notNull())
          .addColumn('private_jwk_encrypted', t.text, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('retired_at', t.int64),
      ).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of [
        'signing_keys',
        'oauth_tokens',
        'service_account_tokens',
        'service_accounts',
        'role_bindings',
        'group_members',
        'groups',
        'users',
        'projects',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Images (an index by manifest digest) and image streams with their tags and
 * tag history (authoritative).
 *
 * No foreign key from streams to projects or repositories: a stream is
 * created by the push that creates its repository (and maybe its project) in
 * the same transaction, and an imported stream has no local repository.
 * Inside a stream, foreign keys keep tags pointing at a history item that
 * exists. Tag history is served newest first by a backward scan of its
 * primary key (project, stream, tag, generation): no extra index needed.
 */
function imageStreams(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await finish(
        dialect,
        db.schema
          .createTable('images')
          .addColumn('digest', t.key, (c) => c.primaryKey())
          .addColumn('media_type', t.text, (c) => c.notNull())
          .addColumn('size', t.int64, (c) => c.notNull())
          .addColumn('config_digest', t.key)
          .addColumn('metadata', t.text)
          .addColumn('layers', t.text, (c) => c.notNull())
          .addColumn('manifests', t.text, (c) => c.notNull())
          .addColumn('annotations', t.text)
          .addColumn('created_at', t.int64, (c) => c.notNull()),
      ).execute();

      await finish(
        dialect,
        db.schema
          .createTable('image_streams')
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('name', t.key, (c) => c.notNull())
          .addColumn('uid', t.key, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('generation', t.int64, (c) => c.notNull())
          .addColumn('resource_version', t.int64, (c) => c.notNull())
          .addColumn('spec', t.text, (c) => c.notNull())
          .addColumn('annotations', t.text, (c) => c.notNull())
          .addColumn('status_conditions', t.text, (c) => c.notNull())
          .addColumn('next_import_at', t.int64)
          .addColumn('import_lease_owner', t.text)
          .addColumn('import_lease_until', t.int64)
          .addPrimaryKeyConstraint('image_streams_pk', ['project', 'name']),
      ).execute();
      // claimDueImports: a range scan over what is due, oldest first.
      await db.schema.createIndex('image_streams_next_import').on('image_streams').column('next_import_at').execute();

      await finish(
        dialect,
        db.schema
          .createTable('image_stream_tag_items')
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('stream', t.key, (c) => c.notNull())
          .addColumn('tag', t.key, (c) => c.notNull())
          .addColumn('generation', t.int64, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addColumn('image_digest', t.key, (c) => c.notNull())
          .addColumn('docker_image_reference', t.text, (c) => c.notNull())
          .addColumn('source_kind', t.text, (c) => c.notNull().check(sql`source_kind in ('push', 'import', 'tag', 'rollback')`))
          .addColumn('source_ref', t.text)
          .addPrimaryKeyConstraint('image_stream_tag_items_pk', ['project', 'stream', 'tag', 'generation'])
          .addForeignKeyConstraint('image_stream_tag_items_stream_fk', ['project', 'stream'], 'image_streams', ['project', 'name'], (c) =>
            c.onDelete('cascade'),
          ),
      ).execute();
      // ImageStreamImage lookups (is this image in the stream?) and, later, GC marking by image.
      await db.schema
        .createIndex('image_stream_tag_items_image')
        .on('image_stream_tag_items')
        .columns(['project', 'stream', 'image_digest'])
        .execute();

      await finish(
        dialect,
        db.schema
          .createTable('image_stream_tags')
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('stream', t.key, (c) => c.notNull())
          .addColumn('tag', t.key, (c) => c.notNull())
          .addColumn('current_generation', t.int64, (c) => c.notNull())
          .addColumn('updated_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('image_stream_tags_pk', ['project', 'stream', 'tag'])
          .addForeignKeyConstraint('image_stream_tags_stream_fk', ['project', 'stream'], 'image_streams', ['project', 'name'], (c) =>
            c.onDelete('cascade'),
          )
          // No cascade: pruning history must never remove a tag's current item.
          .addForeignKeyConstraint(
            'image_stream_tags_item_fk',
            ['project', 'stream', 'tag', 'current_generation'],
            'image_stream_tag_items',
            ['project', 'stream', 'tag', 'generation'],
          ),
      ).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      for (const table of ['image_stream_tags', 'image_stream_tag_items', 'image_streams', 'images']) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}

/**
 * Pull secrets: per-project credentials for remote registries. The auth.json
 * is stored only sealed (AES-GCM, bound to its project and name); the hosts it
 * covers are kept in the clear so listings never need the master key. No
 * foreign key to projects: ProjectStore.deleteProject removes a project's
 * secrets explicitly, in its own transaction, as it does image streams.
 */
function pullSecrets(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await finish(
        dialect,
        db.schema
          .createTable('pull_secrets')
          .addColumn('project', t.key, (c) => c.notNull())
          .addColumn('name', t.key, (c) => c.notNull())
          .addColumn('type', t.text, (c) => c.notNull().check(sql`type in ('kubernetes.io/dockerconfigjson')`))
          .addColumn('registries', t.text, (c) => c.notNull())
          .addColumn('sealed', t.text, (c) => c.notNull())
          .addColumn('created_at', t.int64, (c) => c.notNull())
          .addPrimaryKeyConstraint('pull_secrets_pk', ['project', 'name']),
      ).execute();
    },

    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropTable('pull_secrets').execute();
    },
  };
}

/**
 * The spec generation each stream's last complete import covered
 * (`import_generation`, null until one ran): a stream whose generation is
 * ahead of it (created, or its spec changed) gets a full import from its spec
 * at the next scheduled run; afterwards only scheduled tags are re-checked.
 * Streams that exist when it runs count as covered (their imports ran under
 * the earlier rules): an upgrade must not start a full import of every one.
 */
function imageStreamImportGeneration(dialect: SqlDialect): Migration {
  const t = typesFor(dialect);
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('image_streams').addColumn('import_generation', t.int64).execute();
      await sql`update image_streams set import_generation = generation`.execute(db);
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.alterTable('image_streams').dropColumn('import_generation').execute();
    },
  };
}

/**
 * Lookups of an image across a project (`GET …/images/{digest}`: which stream
 * records it, which repository holds it) as index probes rather than one
 * probe per stream: history by (project, image, stream), manifests by digest.
 */
function imageLookupIndexes(): Migration {
  return {
    async up(db: Kysely<unknown>): Promise<void> {
      await db.schema
        .createIndex('image_stream_tag_items_project_image')
        .on('image_stream_tag_items')
        .columns(['project', 'image_digest', 'stream'])
        .execute();
      await db.schema.createIndex('manifests_digest').on('manifests').columns(['digest', 'repository']).execute();
    },
    async down(db: Kysely<unknown>): Promise<void> {
      await db.schema.dropIndex('manifests_digest').execute();
      await db.schema.dropIndex('image_stream_tag_items_project_image').execute();
    },
  };
}

/** The migrations in order, for one dialect (only column types and storage options differ). */
export function migrationsFor(dialect: SqlDialect): Record<string, Migration> {
  return {
    '0001_registry': registry(dialect),
    '0002_access': access(dialect),
    '0003_imagestreams': imageStreams(dialect),
    '0004_pull_secrets': pullSecrets(dialect),
    '0005_imagestream_import_generation': imageStreamImportGeneration(dialect),
    '0006_image_lookup_indexes': imageLookupIndexes(),
  };
}

/** An in-code migration provider (no file-system scanning, so it works from any install layout). */
export function migrationProvider(dialect: SqlDialect): MigrationProvider {
  return { getMigrations: async () => migrationsFor(dialect) };
}

/** Names of every migration this build knows, in order. */
export const MIGRATION_NAMES: readonly string[] = Object.keys(migrationsFor('sqlite')).sort();

/**
 * Applies every pending migration; throws `MigrationFailedError` (with the
 * driver's error as `cause`) when one fails.
 * Safe to call on every start and from several processes at once.
 */
export async function migrateToLatest(db: Kysely<unknown>, dialect: SqlDialect): Promise<void> {
  const migrator = new Migrator({ db, provider: migrationProvider(dialect) });
  const { error, results } = await migrator.migrateToLatest();
  if (error !== undefined) {
    throw new MigrationFailedError(results?.find((r) => r.status === 'Error')?.migrationName, error);
  }
}
