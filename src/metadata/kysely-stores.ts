/**
 * The Kysely implementation of every metadata store, bound to one database
 * handle: the root Kysely instance (each call autocommits, multi-statement
 * calls use a transaction of their own) or a Transaction (every call joins it).
 */

import type { Kysely } from 'kysely';
import type { MetadataStores } from './stores.ts';
import type { Database, SqlDialect } from './schema.ts';
import { KyselyBlobStore } from './blob-store.ts';
import { KyselyManifestStore } from './manifest-store.ts';
import { KyselyRepositoryStore } from './repository-store.ts';
import { KyselyTagStore } from './tag-store.ts';
import { KyselyUploadStore } from './upload-store.ts';
import { KyselyProjectStore } from './project-store.ts';
import { KyselyUserStore } from './user-store.ts';
import { KyselyRoleBindingStore } from './role-binding-store.ts';
import { KyselyServiceAccountStore } from './service-account-store.ts';
import { KyselyOAuthTokenStore } from './oauth-token-store.ts';
import { KyselySigningKeyStore } from './signing-key-store.ts';
import { KyselyImageStore } from './image-store.ts';
import { KyselyImageStreamStore } from './image-stream-store.ts';
import { KyselyImageImportStatusStore } from './image-import-store.ts';
import { KyselyPullSecretStore } from './pull-secret-store.ts';

/** Builds the stores on `db`, which may be a Kysely instance or a Transaction. */
export function createKyselyStores(db: Kysely<Database>, dialect: SqlDialect): MetadataStores {
  return {
    repositories: new KyselyRepositoryStore(db),
    blobs: new KyselyBlobStore(db),
    manifests: new KyselyManifestStore(db, dialect),
    tags: new KyselyTagStore(db, dialect),
    uploads: new KyselyUploadStore(db),
    projects: new KyselyProjectStore(db),
    users: new KyselyUserStore(db, dialect),
    roleBindings: new KyselyRoleBindingStore(db, dialect),
    serviceAccounts: new KyselyServiceAccountStore(db),
    oauthTokens: new KyselyOAuthTokenStore(db),
    signingKeys: new KyselySigningKeyStore(db),
    images: new KyselyImageStore(db),
    imageStreams: new KyselyImageStreamStore(db, dialect),
    imageImports: new KyselyImageImportStatusStore(db, dialect),
    pullSecrets: new KyselyPullSecretStore(db),
  };
}
