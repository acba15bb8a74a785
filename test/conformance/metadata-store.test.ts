import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe } from 'node:test';
import { openKyselyMetadata } from '../../src/metadata/open-metadata.ts';
import { insertMany } from '../../src/metadata/sql-support.ts';
import type { KyselyMetadata } from '../../src/metadata/open-metadata.ts';
import type { RepositoryRecord } from '../../src/metadata/stores.ts';
import { testPostgresUrl } from '../support/postgres.ts';
import { metadataStoreSuite } from './metadata-store-suite.ts';
import type { MetadataFixture } from './metadata-store-suite.ts';

function fixtureOn(metadata: KyselyMetadata, url: string, remove: () => Promise<void>): MetadataFixture {
  return {
    metadata,
    url,
    reopen: () => openKyselyMetadata({ url }),
    bulkInsertRepositories: (rows: readonly RepositoryRecord[]) =>
      metadata.db
        .transaction()
        .execute((trx) =>
          insertMany(
            trx,
            'repositories',
            rows.map((r) => ({ name: r.name, project: r.project, created_at: r.createdAt })),
          ),
        ),
    cleanup: async () => {
      try {
        await metadata.close();
      } finally {
        await remove();
      }
    },
  };
}

metadataStoreSuite('sqlite', 'sqlite', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'berth-metadata-'));
  const url = `sqlite:${path.join(dir, 'berth.db')}`;
  const metadata = await openKyselyMetadata({ url });
  return fixtureOn(metadata, url, () => rm(dir, { recursive: true, force: true }));
});

// Hold the server (and a throwaway cluster, if one had to be started) for
// the whole file; each case still gets a database of its own.
const postgres = await testPostgresUrl();
if ('skip' in postgres) {
  describe('metadata store conformance: postgres', { skip: postgres.skip }, () => {});
} else {
  after(() => postgres.cleanup());
  metadataStoreSuite('postgres', 'postgres', async () => {
    const database = await testPostgresUrl();
    if ('skip' in database) throw new Error(database.skip);
    const metadata = await openKyselyMetadata({ url: database.url });
    return fixtureOn(metadata, database.url, () => database.cleanup());
  });
}
