import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManifestNotFoundError, RepositoryNotFoundError } from '../../src/metadata/errors.ts';
import type { ManifestRecord, ManifestReference, Metadata, RepositoryRecord } from '../../src/metadata/stores.ts';
import { CLUSTER_SCOPE } from '../../src/metadata/stores.ts';
import type { OAuthTokenRecord, RoleBindingRecord, ServiceAccountTokenRecord, SigningKeyRecord } from '../../src/metadata/stores.ts';
import { ProjectNotFoundError } from '../../src/metadata/project-store.ts';
import { ServiceAccountNotFoundError } from '../../src/metadata/service-account-store.ts';
import { GroupNotFoundError, UserNotFoundError } from '../../src/metadata/user-store.ts';
import type { Insertable } from 'kysely';
import { ImageStreamConflictError, ImageStreamNotFoundError, TagItemNotFoundError } from '../../src/metadata/image-stream-store.ts';
import { KyselyMetadata } from '../../src/metadata/open-metadata.ts';
import type { Database } from '../../src/metadata/schema.ts';
import { insertMany } from '../../src/metadata/sql-support.ts';
import type { ImageRecord, ImageStreamCondition, ImageStreamSpec, NewTagItem, PullSecretRecord } from '../../src/metadata/stores.ts';

/** A fresh, empty, not yet migrated metadata database under test. */
export interface MetadataFixture {
  readonly metadata: Metadata;
  /** The URL `metadata` was opened with (child processes open it too). */
  readonly url: string;
  /** Opens a second, independent handle on the same database (another pool or connection). */
  reopen(): Promise<Metadata>;
  /** Inserts many repositories in one transaction with multi-row INSERTs (the store API has no bulk call). */
  bulkInsertRepositories(rows: readonly RepositoryRecord[]): Promise<void>;
  /** Closes `metadata` and removes the database. */
  cleanup(): Promise<void>;
}

const OPEN_METADATA_URL = new URL('../../src/metadata/open-metadata.ts', import.meta.url).href;

/** Byte order of UTF-8 strings, what both backends must sort by. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function sortedBytes(values: Iterable<string>): string[] {
  return [...values].sort(byteOrder);
}

function digest(label: string): string {
  return `sha256:${Buffer.from(label).toString('hex').padEnd(64, '0').slice(0, 64)}`;
}

function manifest(repository: string, d: string, overrides: Partial<ManifestRecord> = {}): ManifestRecord {
  return {
    repository,
    digest: d,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    size: 512,
    artifactType: null,
    subjectDigest: null,
    annotations: null,
    createdAt: 1000,
    ...overrides,
  };
}

/**
 * Inserts many rows in one transaction with multi-row INSERTs, for the
 * listing-at-scale cases (the store API has no bulk call). Both backends are
 * KyselyMetadata, whose `db` handle is there for tests and maintenance.
 */
async function bulkInsert<T extends keyof Database & string>(m: Metadata, table: T, rows: readonly Insertable<Database[T]>[]): Promise<void> {
  assert.ok(m instanceof KyselyMetadata, 'bulk inserts need the Kysely handle');
  await m.db.transaction().execute((trx) => insertMany(trx, table, rows));
}

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const value of iterable) out.push(value);
  return out;
}

/**
 * Runs `openMetadata(url).migrate()` in `count` separate Node processes at
 * once: each child opens the database, reports ready, and migrates only when
 * every child is ready (process start-up varies by more than a migration
 * takes, so without this barrier they would rarely collide).
 */
async function migrateInChildProcesses(url: string, count: number): Promise<void> {
  const code = [
    `import { openMetadata } from ${JSON.stringify(OPEN_METADATA_URL)};`,
    'const m = await openMetadata({ url: process.env.BERTH_METADATA_URL });',
    "process.stdout.write('ready\\n');",
    "await new Promise((resolve) => process.stdin.once('data', resolve));",
    'process.stdin.destroy();',
    'try { await m.migrate(); } finally { await m.close(); }',
  ].join('\n');
  const children = Array.from({ length: count }, () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
      env: { ...process.env, BERTH_METADATA_URL: url },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('ready')) resolve();
      });
      child.once('exit', (status) => reject(new Error(`child exited ${String(status)} before ready: ${stderr}`)));
    });
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (status) =>
        status === 0 ? resolve() : reject(new Error(`child migrate exited ${String(status)}: ${stderr}`)),
      );
    });
    // Reported through `exited`; the barrier only needs to stop waiting.
    ready.catch(() => {});
    return { child, ready, exited };
  });
  try {
    await Promise.all(children.map((c) => c.ready));
  } finally {
    for (const { child } of children) child.stdin.end('go\n');
  }
  await Promise.all(children.map((c) => c.exited));
}

/**
 * The one conformance suite for the metadata stores. Every backend (SQLite,
 * PostgreSQL) registers it; `makeFixture` is called for every case and must
 * return an empty, unmigrated database.
 */
export function metadataStoreSuite(
  name: string,
  dialect: Metadata['dialect'],
  makeFixture: () => Promise<MetadataFixture>,
): void {
  describe(`metadata store conformance: ${name}`, () => {
    let fixture: MetadataFixture | undefined;
    let m: Metadata;

    beforeEach(async () => {
      fixture = await makeFixture();
      m = fixture.metadata;
      await m.migrate();
    });

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    function current(): MetadataFixture {
      assert.ok(fixture);
      return fixture;
    }

    describe('migrations', () => {
      it('reports its dialect', () => {
        assert.equal(m.dialect, dialect);
      });

      it('is idempotent: a second migrate keeps the data and does nothing', async () => {
        await m.repositories.ensureRepository('p/r', 'p', 1);
        await m.migrate();
        await m.migrate();
        assert.deepEqual(await m.repositories.getRepository('p/r'), { name: 'p/r', project: 'p', createdAt: 1 });
      });

      it('is safe when three processes migrate the same new database at once', async () => {
        // A database nobody has migrated: the beforeEach one already is.
        const other = await makeFixture();
        try {
          await migrateInChildProcesses(other.url, 3);
          await other.metadata.migrate();
          await other.metadata.repositories.ensureRepository('p/after', 'p', 5);
          assert.deepEqual(await other.metadata.repositories.listRepositories({ limit: 10 }), ['p/after']);
        } finally {
          await other.cleanup();
        }
      });
    });

    describe('repositories', () => {
      it('ensureRepository creates once and returns the stored record afterwards', async () => {
        assert.equal(await m.repositories.getRepository('p/r'), undefined);
        assert.deepEqual(await m.repositories.ensureRepository('p/r', 'p', 100), { name: 'p/r', project: 'p', createdAt: 100 });
        assert.deepEqual(await m.repositories.ensureRepository('p/r', 'p', 200), { name: 'p/r', project: 'p', createdAt: 100 });
        assert.deepEqual(await m.repositories.getRepository('p/r'), { name: 'p/r', project: 'p', createdAt: 100 });
      });

      const NAMES = [
        'p/a', 'p/A', 'p/b', 'p/B', 'p/a-b', 'p/a.b', 'p/a_b', 'p/a/b', 'p/a0', 'p/aa', 'p/Z', 'p/z',
        'p-x/a', 'p.x/a', 'p_x/a', 'P/a', 'q/a', 'p/~', 'p/é',
      ];

      it('lists repositories in byte order with keyset paging', async () => {
        for (const name of NAMES) await m.repositories.ensureRepository(name, name.split('/')[0] ?? '', 1);
        const expected = sortedBytes(NAMES);
        assert.deepEqual(await m.repositories.listRepositories({ limit: 1000 }), expected);

        const paged: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await m.repositories.listRepositories({ after, limit: 4 });
          assert.ok(page.length <= 4);
          paged.push(...page);
          if (page.length < 4) break;
          after = page.at(-1);
        }
        assert.deepEqual(paged, expected);

        // The cursor need not be a stored name: strictly after it, in byte order.
        assert.deepEqual(
          await m.repositories.listRepositories({ after: 'p/a.', limit: 3 }),
          expected.filter((n) => byteOrder(n, 'p/a.') > 0).slice(0, 3),
        );
        assert.deepEqual(await m.repositories.listRepositories({ after: expected.at(-1), limit: 3 }), []);
        assert.deepEqual(await m.repositories.listRepositories({ limit: 0 }), []);
      });

      it('lists one project\'s repositories in byte order with keyset paging', async () => {
        for (const name of NAMES) await m.repositories.ensureRepository(name, name.split('/')[0] ?? '', 1);
        const expected = sortedBytes(NAMES.filter((n) => n.startsWith('p/')));
        assert.deepEqual(await m.repositories.listProjectRepositories('p', { limit: 1000 }), expected);
        assert.deepEqual(await m.repositories.listProjectRepositories('p', { after: expected[2], limit: 3 }), expected.slice(3, 6));
        assert.deepEqual(await m.repositories.listProjectRepositories('P', { limit: 10 }), ['P/a']);
        assert.deepEqual(await m.repositories.listProjectRepositories('nobody', { limit: 10 }), []);
      });

      it('lists the repositories of several projects in byte order with keyset paging', async () => {
        for (const name of NAMES) await m.repositories.ensureRepository(name, name.split('/')[0] ?? '', 1);
        const projects = ['p', 'q', 'P', 'nobody'];
        const expected = sortedBytes(NAMES.filter((n) => projects.includes(n.split('/')[0] ?? '')));
        assert.deepEqual(await m.repositories.listRepositoriesIn(projects, { limit: 1000 }), expected);
        assert.deepEqual(await m.repositories.listRepositoriesIn(projects, { after: expected[3], limit: 4 }), expected.slice(4, 8));
        assert.deepEqual(await m.repositories.listRepositoriesIn(['p-x', 'p_x'], { limit: 10 }), ['p-x/a', 'p_x/a']);
        assert.deepEqual(await m.repositories.listRepositoriesIn([], { limit: 10 }), []);
        assert.deepEqual(await m.repositories.listRepositoriesIn(['p'], { limit: 0 }), []);
      });

      it('pages correctly from the middle of 100,000 repositories inserted in one transaction', async () => {
        const rows: RepositoryRecord[] = [];
        for (let i = 0; i < 100_000; i++) {
          // Numbers not zero-padded and mixed case/punctuation, so byte order
          // differs from insertion order.
          const project = `proj-${i % 97}`;
          const suffix = ['x', 'X', 'x-y', 'x.y', 'x_y'][i % 5] ?? 'x';
          rows.push({ name: `${project}/repo${i}${suffix}`, project, createdAt: i });
        }
        await current().bulkInsertRepositories(rows);
        const expected = sortedBytes(rows.map((r) => r.name));

        const middle = expected[50_000];
        assert.ok(middle !== undefined);
        assert.deepEqual(await m.repositories.listRepositories({ after: middle, limit: 100 }), expected.slice(50_001, 50_101));
        assert.deepEqual(await m.repositories.listRepositories({ limit: 3 }), expected.slice(0, 3));
        assert.deepEqual(await m.repositories.listRepositories({ after: expected[99_998], limit: 100 }), expected.slice(99_999));

        const project = sortedBytes(rows.filter((r) => r.project === 'proj-42').map((r) => r.name));
        const projectMiddle = project[Math.floor(project.length / 2)];
        assert.deepEqual(
          await m.repositories.listProjectRepositories('proj-42', { after: projectMiddle, limit: 50 }),
          project.slice(Math.floor(project.length / 2) + 1, Math.floor(project.length / 2) + 51),
        );
        assert.deepEqual(await m.repositories.getRepository(rows[12_345]?.name ?? ''), rows[12_345]);
      });

      it('deleteRepository removes blob links, manifests, references and tags, and nothing of other repositories', async () => {
        for (const r of ['p/gone', 'p/kept']) {
          await m.repositories.ensureRepository(r, 'p', 1);
          await m.blobs.recordBlob({ digest: digest('layer'), size: 10 }, 1);
          await m.blobs.linkBlob(r, digest('layer'), 1);
          await m.manifests.putManifest(manifest(r, digest('child')), [{ digest: digest('layer'), kind: 'blob' }]);
          await m.manifests.putManifest(manifest(r, digest('index'), { mediaType: 'application/vnd.oci.image.index.v1+json' }), [
            { digest: digest('child'), kind: 'manifest' },
          ]);
          await m.tags.putTag(r, 'latest', digest('index'), 1);
          await m.tags.putTag(r, 'child', digest('child'), 1);
        }

        assert.equal(await m.repositories.deleteRepository('p/gone'), true);
        assert.equal(await m.repositories.deleteRepository('p/gone'), false);
        assert.equal(await m.repositories.getRepository('p/gone'), undefined);
        assert.equal(await m.blobs.getRepositoryBlob('p/gone', digest('layer')), undefined);
        assert.equal(await m.manifests.getManifest('p/gone', digest('index')), undefined);
        assert.deepEqual(await m.manifests.listParents('p/gone', digest('child')), []);
        assert.equal(await m.tags.getTag('p/gone', 'latest'), undefined);

        // Recreated under the same name, it starts empty: nothing was left behind.
        await m.repositories.ensureRepository('p/gone', 'p', 2);
        assert.deepEqual(await m.tags.listTags('p/gone', { limit: 10 }), []);
        assert.equal(await m.manifests.getManifest('p/gone', digest('child')), undefined);

        // The global blob record and the other repository stay.
        assert.deepEqual(await m.blobs.getBlob(digest('layer')), { digest: digest('layer'), size: 10 });
        assert.deepEqual(await m.blobs.getRepositoryBlob('p/kept', digest('layer')), { digest: digest('layer'), size: 10 });
        assert.deepEqual(await m.manifests.listParents('p/kept', digest('child')), [digest('index')]);
        assert.deepEqual(await m.tags.listTags('p/kept', { limit: 10 }), ['child', 'latest']);
      });
    });

    describe('blobs', () => {
      it('records a blob once, links it per repository, and unlinks it', async () => {
        const d = digest('blob');
        assert.equal(await m.blobs.getBlob(d), undefined);
        await m.blobs.recordBlob({ digest: d, size: 1234 }, 1);
        await m.blobs.recordBlob({ digest: d, size: 1234 }, 2);
        assert.deepEqual(await m.blobs.getBlob(d), { digest: d, size: 1234 });

        await m.repositories.ensureRepository('p/one', 'p', 1);
        await m.repositories.ensureRepository('p/two', 'p', 1);
        assert.equal(await m.blobs.getRepositoryBlob('p/one', d), undefined);
        await m.blobs.linkBlob('p/one', d, 1);
        await m.blobs.linkBlob('p/one', d, 2);
        assert.deepEqual(await m.blobs.getRepositoryBlob('p/one', d), { digest: d, size: 1234 });
        assert.equal(await m.blobs.getRepositoryBlob('p/two', d), undefined);

        assert.equal(await m.blobs.unlinkBlob('p/one', d), true);
        assert.equal(await m.blobs.unlinkBlob('p/one', d), false);
        assert.equal(await m.blobs.getRepositoryBlob('p/one', d), undefined);
        assert.deepEqual(await m.blobs.getBlob(d), { digest: d, size: 1234 }, 'the blob record stays for GC');
      });

      it('refuses to link into a repository that does not exist', async () => {
        await m.blobs.recordBlob({ digest: digest('b'), size: 1 }, 1);
        await assert.rejects(m.blobs.linkBlob('p/none', digest('b'), 1), (error: unknown) => {
          assert.ok(error instanceof RepositoryNotFoundError);
          assert.equal(error.repository, 'p/none');
          return true;
        });
      });

      it('keeps sizes above 2^32 exact', async () => {
        const size = 5 * 2 ** 32 + 7;
        await m.blobs.recordBlob({ digest: digest('big'), size }, Date.UTC(2030, 0, 1));
        assert.deepEqual(await m.blobs.getBlob(digest('big')), { digest: digest('big'), size });
      });

      it('lists every linked and referenced digest once, across page boundaries', async () => {
        const expected = new Set<string>();
        await m.withTransaction(async (tx) => {
          for (const r of ['p/a', 'p/b']) {
            await tx.repositories.ensureRepository(r, 'p', 1);
            // 700 links per repository: the walk crosses a 1,000-row page
            // inside the second repository.
            for (let i = 0; i < 700; i++) {
              await tx.blobs.linkBlob(r, digest(`link${i}`), 1);
              expected.add(digest(`link${i}`));
            }
          }
          await tx.manifests.putManifest(manifest('p/a', digest('m1')), [
            { digest: digest('config'), kind: 'blob' },
            { digest: digest('link1'), kind: 'blob' },
          ]);
          await tx.manifests.putManifest(manifest('p/b', digest('idx')), [{ digest: digest('m-remote'), kind: 'manifest' }]);
        });
        for (const d of ['m1', 'config', 'idx', 'm-remote']) expected.add(digest(d));

        const listed = await collect(m.blobs.listReferencedDigests());
        assert.equal(listed.length, new Set(listed).size, 'no digest twice');
        assert.deepEqual(sortedBytes(listed), sortedBytes(expected));

        await m.manifests.deleteManifest('p/a', digest('m1'));
        const after = new Set(await collect(m.blobs.listReferencedDigests()));
        assert.equal(after.has(digest('m1')), false);
        assert.equal(after.has(digest('config')), false);
        assert.equal(after.has(digest('link1')), true, 'still linked');
      });
    });

    describe('manifests', () => {
      beforeEach(async () => {
        await m.repositories.ensureRepository('p/r', 'p', 1);
      });

      it('puts idempotently: the first record and its references stay', async () => {
        const annotations = { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z', note: 'ünïcode ✓', empty: '' };
        const first = manifest('p/r', digest('m'), { size: 777, annotations, createdAt: 10 });
        const references: ManifestReference[] = [
          { digest: digest('config'), kind: 'blob' },
          { digest: digest('layer'), kind: 'blob' },
          { digest: digest('layer'), kind: 'blob' },
        ];
        await m.manifests.putManifest(first, references);
        await m.manifests.putManifest({ ...first, size: 1, createdAt: 20, annotations: null }, []);
        assert.deepEqual(await m.manifests.getManifest('p/r', digest('m')), first);
        assert.equal(await m.manifests.getManifest('p/other', digest('m')), undefined);
        assert.equal(await m.manifests.getManifest('p/r', digest('nope')), undefined);
        const listed = await collect(m.blobs.listReferencedDigests());
        assert.deepEqual(sortedBytes(listed), sortedBytes([digest('m'), digest('config'), digest('layer')]));
      });

      it('round-trips null and empty annotations', async () => {
        await m.manifests.putManifest(manifest('p/r', digest('a'), { annotations: null }), []);
        await m.manifests.putManifest(manifest('p/r', digest('b'), { annotations: {} }), []);
        assert.equal((await m.manifests.getManifest('p/r', digest('a')))?.annotations, null);
        assert.deepEqual((await m.manifests.getManifest('p/r', digest('b')))?.annotations, {});
      });

      it('refuses a manifest in a repository that does not exist', async () => {
        await assert.rejects(m.manifests.putManifest(manifest('p/none', digest('m')), []), RepositoryNotFoundError);
      });

      it('lists what a manifest references, in byte order, once each', async () => {
        await m.manifests.putManifest(manifest('p/r', digest('img')), [
          { digest: digest('layer-b'), kind: 'blob' },
          { digest: digest('config'), kind: 'blob' },
          { digest: digest('layer-b'), kind: 'blob' },
        ]);
        await m.manifests.putManifest(manifest('p/r', digest('index')), [
          { digest: digest('img'), kind: 'manifest' },
          { digest: digest('remote'), kind: 'manifest' },
        ]);
        assert.deepEqual(
          await m.manifests.listReferences('p/r', digest('img')),
          [
            { digest: digest('config'), kind: 'blob' },
            { digest: digest('layer-b'), kind: 'blob' },
          ].sort((a, b) => byteOrder(a.digest, b.digest)),
        );
        assert.deepEqual(
          await m.manifests.listReferences('p/r', digest('index')),
          [
            { digest: digest('img'), kind: 'manifest' },
            { digest: digest('remote'), kind: 'manifest' },
          ].sort((a, b) => byteOrder(a.digest, b.digest)),
        );
        assert.deepEqual(await m.manifests.listReferences('p/r', digest('none')), []);
        assert.deepEqual(await m.manifests.listReferences('p/other', digest('img')), []);
      });

      it('lists the index manifests that reference a child manifest', async () => {
        await m.manifests.putManifest(manifest('p/r', digest('amd64')), [{ digest: digest('layer'), kind: 'blob' }]);
        await m.manifests.putManifest(manifest('p/r', digest('arm64')), []);
        for (const index of ['index2', 'index1']) {
          await m.manifests.putManifest(manifest('p/r', digest(index)), [
            { digest: digest('amd64'), kind: 'manifest' },
            { digest: digest('arm64'), kind: 'manifest' },
          ]);
        }
        assert.deepEqual(await m.manifests.listParents('p/r', digest('amd64')), sortedBytes([digest('index1'), digest('index2')]));
        assert.deepEqual(await m.manifests.listParents('p/r', digest('layer')), [], 'blob references are not parents');
        assert.deepEqual(await m.manifests.listParents('p/r', digest('index1')), []);
        assert.deepEqual(await m.manifests.listParents('p/other', digest('amd64')), []);
      });

      it('lists referrers, with and without an artifactType filter', async () => {
        const subject = digest('subject');
        await m.manifests.putManifest(manifest('p/r', subject), []);
        const sig = manifest('p/r', digest('sig'), {
          artifactType: 'application/vnd.dev.cosign.signature',
          subjectDigest: subject,
          annotations: { 'dev.cosignproject.cosign/signature': 'MEUCIQ' },
        });
        const sbom = manifest('p/r', digest('sbom'), {
          artifactType: 'application/spdx+json',
          subjectDigest: subject,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
        });
        const unrelated = manifest('p/r', digest('other'), { artifactType: 'application/spdx+json', subjectDigest: digest('x') });
        for (const record of [sig, sbom, unrelated]) await m.manifests.putManifest(record, []);

        const all = await m.manifests.listReferrers('p/r', subject);
        assert.deepEqual(
          all,
          [sig, sbom].sort((a, b) => byteOrder(a.digest, b.digest)),
        );
        assert.deepEqual(await m.manifests.listReferrers('p/r', subject, 'application/spdx+json'), [sbom]);
        assert.deepEqual(await m.manifests.listReferrers('p/r', subject, 'application/none'), []);
        assert.deepEqual(await m.manifests.listReferrers('p/other', subject), []);
      });

      it('deleteManifest removes the manifest, its references and the tags pointing at it', async () => {
        await m.manifests.putManifest(manifest('p/r', digest('child')), []);
        await m.manifests.putManifest(manifest('p/r', digest('index')), [{ digest: digest('child'), kind: 'manifest' }]);
        await m.manifests.putManifest(manifest('p/r', digest('keep')), []);
        await m.tags.putTag('p/r', 'v1', digest('index'), 1);
        await m.tags.putTag('p/r', 'latest', digest('index'), 1);
        await m.tags.putTag('p/r', 'stable', digest('keep'), 1);

        assert.equal(await m.manifests.deleteManifest('p/r', digest('index')), true);
        assert.equal(await m.manifests.getManifest('p/r', digest('index')), undefined);
        assert.equal(await m.tags.getTag('p/r', 'v1'), undefined);
        assert.deepEqual(await m.tags.listTags('p/r', { limit: 10 }), ['stable']);
        assert.deepEqual(await m.manifests.listParents('p/r', digest('child')), []);
        assert.equal(await m.manifests.deleteManifest('p/r', digest('index')), false);
        assert.equal(await m.manifests.deleteManifest('p/r', digest('never')), false);

        // Put back, it starts without its old references or tags.
        await m.manifests.putManifest(manifest('p/r', digest('index')), []);
        assert.deepEqual(await m.tags.listTagsFor('p/r', digest('index')), []);
        assert.deepEqual(await m.manifests.listParents('p/r', digest('child')), []);
      });
    });

    describe('tags', () => {
      beforeEach(async () => {
        await m.repositories.ensureRepository('p/r', 'p', 1);
        for (const d of ['one', 'two']) await m.manifests.putManifest(manifest('p/r', digest(d)), []);
      });

      it('creates, moves (returning the previous digest), reads and deletes a tag', async () => {
        assert.equal(await m.tags.getTag('p/r', 'latest'), undefined);
        assert.equal(await m.tags.putTag('p/r', 'latest', digest('one'), 1), undefined);
        assert.equal(await m.tags.getTag('p/r', 'latest'), digest('one'));
        assert.equal(await m.tags.putTag('p/r', 'latest', digest('two'), 2), digest('one'));
        assert.equal(await m.tags.putTag('p/r', 'latest', digest('two'), 3), digest('two'));
        assert.equal(await m.tags.getTag('p/r', 'latest'), digest('two'));
        assert.equal(await m.tags.getTag('p/other', 'latest'), undefined);
        assert.equal(await m.tags.deleteTag('p/r', 'latest'), true);
        assert.equal(await m.tags.deleteTag('p/r', 'latest'), false);
        assert.equal(await m.tags.getTag('p/r', 'latest'), undefined);
      });

      it('refuses a tag pointing at a manifest the repository does not have', async () => {
        await assert.rejects(m.tags.putTag('p/r', 'latest', digest('missing'), 1), (error: unknown) => {
          assert.ok(error instanceof ManifestNotFoundError);
          assert.equal(error.digest, digest('missing'));
          return true;
        });
        await m.tags.putTag('p/r', 'latest', digest('one'), 1);
        await assert.rejects(m.tags.putTag('p/r', 'latest', digest('missing'), 1), ManifestNotFoundError);
        assert.equal(await m.tags.getTag('p/r', 'latest'), digest('one'), 'a refused move leaves the tag');
        await assert.rejects(m.tags.putTag('p/none', 'latest', digest('one'), 1), ManifestNotFoundError);
      });

      it('lists tags in byte order with keyset paging, and the tags of one digest', async () => {
        const names = ['latest', 'Latest', 'LATEST', 'v1', 'v1.0', 'v1-rc', 'v1_rc', 'v10', 'v2', 'a', 'A', 'Z', 'z', '_x', '-x', '.x', '1.0'];
        for (const [i, n] of names.entries()) await m.tags.putTag('p/r', n, digest(i % 2 === 0 ? 'one' : 'two'), 1);
        const expected = sortedBytes(names);
        assert.deepEqual(await m.tags.listTags('p/r', { limit: 100 }), expected);
        const paged: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await m.tags.listTags('p/r', { after, limit: 5 });
          paged.push(...page);
          if (page.length < 5) break;
          after = page.at(-1);
        }
        assert.deepEqual(paged, expected);
        assert.deepEqual(await m.tags.listTags('p/r', { after: 'v1', limit: 2 }), expected.slice(expected.indexOf('v1') + 1).slice(0, 2));
        assert.deepEqual(await m.tags.listTags('p/other', { limit: 100 }), []);
        assert.deepEqual(
          await m.tags.listTagsFor('p/r', digest('two')),
          sortedBytes(names.filter((_, i) => i % 2 === 1)),
        );
        assert.deepEqual(await m.tags.listTagsFor('p/r', digest('none')), []);
      });
    });

    describe('uploads', () => {
      it('creates, reads, updates, lists stale and deletes upload sessions', async () => {
        const upload = { id: '4b3c8d8e-0000-4000-8000-000000000001', repository: 'p/r', size: 0, createdAt: 100, updatedAt: 100 };
        await m.uploads.createUpload(upload);
        await m.uploads.createUpload({ ...upload, id: 'u-2', createdAt: 150, updatedAt: 150 });
        await m.uploads.createUpload({ ...upload, id: 'u-3', createdAt: 300, updatedAt: 300 });
        assert.deepEqual(await m.uploads.getUpload(upload.id), upload);
        assert.equal(await m.uploads.getUpload('nope'), undefined);

        assert.equal(await m.uploads.updateUpload(upload.id, 5 * 2 ** 32, 200), true);
        assert.deepEqual(await m.uploads.getUpload(upload.id), { ...upload, size: 5 * 2 ** 32, updatedAt: 200 });
        assert.equal(await m.uploads.updateUpload('nope', 1, 200), false);

        assert.deepEqual(
          (await m.uploads.listStaleUploads(250, 10)).map((u) => u.id),
          ['u-2', upload.id],
          'oldest first, only those not touched since',
        );
        assert.deepEqual((await m.uploads.listStaleUploads(250, 1)).map((u) => u.id), ['u-2']);
        assert.deepEqual(await m.uploads.listStaleUploads(100, 10), []);

        assert.equal(await m.uploads.deleteUpload(upload.id), true);
        assert.equal(await m.uploads.deleteUpload(upload.id), false);
        assert.equal(await m.uploads.getUpload(upload.id), undefined);
      });
    });

    describe('projects', () => {
      const project = (name: string, createdAt = 1, createdBy = 'alice') => ({ name, createdAt, createdBy, displayName: null });

      it('ensureProject creates once and returns the first record afterwards', async () => {
        assert.equal(await m.projects.getProject('p'), undefined);
        const first = { name: 'p', createdAt: 10, createdBy: 'alice', displayName: 'Pé ✓' };
        assert.deepEqual(await m.projects.ensureProject(first), first);
        assert.deepEqual(await m.projects.ensureProject({ ...first, createdAt: 20, createdBy: 'bob', displayName: null }), first);
        assert.deepEqual(await m.projects.getProject('p'), first);
      });

      it('lists projects in byte order with keyset paging', async () => {
        const names = ['b', 'a', 'a-b', 'a0', 'ab', 'z', '0', 'a9', 'a-', 'aa'];
        for (const name of names) await m.projects.ensureProject(project(name));
        const expected = sortedBytes(names);
        assert.deepEqual((await m.projects.listProjects({ limit: 100 })).map((p) => p.name), expected);
        const paged: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await m.projects.listProjects({ after, limit: 3 });
          paged.push(...page.map((p) => p.name));
          if (page.length < 3) break;
          after = page.at(-1)?.name;
        }
        assert.deepEqual(paged, expected);
        assert.deepEqual(await m.projects.listProjects({ after: 'z', limit: 3 }), []);
      });

      it('deleteProject removes its bindings, service accounts, tokens and repositories, and nothing of other projects', async () => {
        for (const name of ['a', 'ab', 'a-b']) await m.projects.ensureProject(project(name));
        for (const name of ['a', 'ab', 'a-b']) {
          await m.repositories.ensureRepository(`${name}/app`, name, 1);
          await m.repositories.ensureRepository(`${name}/deep/app`, name, 1);
          await m.manifests.putManifest(manifest(`${name}/app`, digest('m')), []);
          await m.tags.putTag(`${name}/app`, 'latest', digest('m'), 1);
          await m.serviceAccounts.createServiceAccount({ project: name, name: 'ci', createdAt: 1 });
          await m.serviceAccounts.createToken(token({ id: `t-${name}`, project: name, account: 'ci', tokenHash: `hash-${name}` }));
          await m.roleBindings.addBinding({ project: name, role: 'registry-admin', subjectKind: 'User', subjectName: 'alice' });
          // Each project's robot may also pull from project ab, and holds a cluster binding.
          await m.roleBindings.addBinding({ project: 'ab', role: 'registry-viewer', subjectKind: 'ServiceAccount', subjectName: `${name}:ci` });
          await m.roleBindings.addBinding({ project: CLUSTER_SCOPE, role: 'registry-viewer', subjectKind: 'ServiceAccount', subjectName: `${name}:ci` });
        }
        // 600 repositories: more than one batch of the delete loop.
        await m.withTransaction(async (tx) => {
          for (let i = 0; i < 600; i++) await tx.repositories.ensureRepository(`a/r${i}`, 'a', 1);
        });

        assert.equal(await m.withTransaction((tx) => tx.projects.deleteProject('a')), true);
        assert.equal(await m.projects.deleteProject('a'), false);
        assert.equal(await m.projects.getProject('a'), undefined);
        assert.deepEqual(await m.repositories.listProjectRepositories('a', { limit: 10 }), []);
        assert.equal(await m.tags.getTag('a/app', 'latest'), undefined);
        assert.deepEqual(await m.roleBindings.listBindings('a'), []);
        assert.deepEqual(await m.serviceAccounts.listServiceAccounts('a'), []);
        assert.equal(await m.serviceAccounts.findTokenByHash('hash-a'), undefined);
        assert.deepEqual(await m.roleBindings.listBindingsFor('ServiceAccount', 'a:ci'), [], 'bindings naming its robot, anywhere');

        // Projects whose names start like it keep everything.
        for (const name of ['ab', 'a-b']) {
          assert.ok(await m.projects.getProject(name));
          assert.deepEqual(await m.repositories.listProjectRepositories(name, { limit: 10 }), [`${name}/app`, `${name}/deep/app`]);
          assert.equal(await m.tags.getTag(`${name}/app`, 'latest'), digest('m'));
          assert.equal((await m.serviceAccounts.findTokenByHash(`hash-${name}`))?.id, `t-${name}`);
          assert.deepEqual(
            (await m.roleBindings.listBindingsFor('ServiceAccount', `${name}:ci`)).map((b) => b.project),
            [CLUSTER_SCOPE, 'ab'],
          );
        }
        // Ordered by role, then subject kind and name.
        assert.deepEqual((await m.roleBindings.listBindings('ab')).map((b) => b.subjectName), ['alice', 'a-b:ci', 'ab:ci']);
      });

      it('deleteProject rolls back with the transaction', async () => {
        await m.projects.ensureProject(project('p'));
        await m.repositories.ensureRepository('p/app', 'p', 1);
        await m.roleBindings.addBinding({ project: 'p', role: 'registry-viewer', subjectKind: 'User', subjectName: 'u' });
        await assert.rejects(
          m.withTransaction(async (tx) => {
            assert.equal(await tx.projects.deleteProject('p'), true);
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.ok(await m.projects.getProject('p'));
        assert.ok(await m.repositories.getRepository('p/app'));
        assert.equal((await m.roleBindings.listBindings('p')).length, 1);
      });
    });

    describe('users and groups', () => {
      const user = (name: string, overrides: Partial<{ passwordHash: string | null; disabled: boolean }> = {}) => ({
        name,
        passwordHash: '$2y$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234',
        createdAt: 5,
        disabled: false,
        ...overrides,
      });

      it('creates, reads, updates and deletes users', async () => {
        assert.equal(await m.users.createUser(user('alice')), true);
        assert.equal(await m.users.createUser(user('alice', { passwordHash: null })), false, 'name taken');
        assert.deepEqual(await m.users.getUser('alice'), user('alice'));
        assert.equal(await m.users.getUser('Alice'), undefined);
        assert.equal(await m.users.createUser(user('sso', { passwordHash: null, disabled: true })), true);
        assert.deepEqual(await m.users.getUser('sso'), user('sso', { passwordHash: null, disabled: true }));

        assert.equal(await m.users.setPasswordHash('alice', null), true);
        assert.equal((await m.users.getUser('alice'))?.passwordHash, null);
        assert.equal(await m.users.setPasswordHash('nobody', 'x'), false);
        assert.equal(await m.users.setDisabled('alice', true), true);
        assert.equal((await m.users.getUser('alice'))?.disabled, true);
        assert.equal(await m.users.setDisabled('alice', false), true);
        assert.equal((await m.users.getUser('alice'))?.disabled, false);
        assert.equal(await m.users.setDisabled('nobody', true), false);

        assert.equal(await m.users.deleteUser('alice'), true);
        assert.equal(await m.users.deleteUser('alice'), false);
        assert.equal(await m.users.getUser('alice'), undefined);
      });

      it('lists users and groups in byte order with keyset paging', async () => {
        const names = ['bob', 'Alice', 'alice', 'alice.b', 'alice-b', 'zed', 'émile'];
        for (const name of names) await m.users.createUser(user(name));
        const expected = sortedBytes(names);
        assert.deepEqual((await m.users.listUsers({ limit: 100 })).map((u) => u.name), expected);
        assert.deepEqual((await m.users.listUsers({ after: expected[2], limit: 2 })).map((u) => u.name), expected.slice(3, 5));
        for (const name of names) await m.users.createGroup({ name, createdAt: 1 });
        assert.deepEqual((await m.users.listGroups({ limit: 100 })).map((g) => g.name), expected);
        assert.deepEqual(await m.users.listGroups({ after: expected.at(-1), limit: 2 }), []);
      });

      it('manages memberships, idempotently, and refuses unknown users and groups', async () => {
        for (const name of ['alice', 'bob']) await m.users.createUser(user(name));
        assert.equal(await m.users.createGroup({ name: 'devs', createdAt: 3 }), true);
        assert.equal(await m.users.createGroup({ name: 'devs', createdAt: 4 }), false);
        assert.deepEqual(await m.users.getGroup('devs'), { name: 'devs', createdAt: 3 });
        await m.users.createGroup({ name: 'ops', createdAt: 3 });

        assert.equal(await m.users.addMember('devs', 'bob'), true);
        assert.equal(await m.users.addMember('devs', 'bob'), false);
        assert.equal(await m.users.addMember('devs', 'alice'), true);
        assert.equal(await m.users.addMember('ops', 'alice'), true);
        assert.deepEqual(await m.users.listMembers('devs'), ['alice', 'bob']);
        assert.deepEqual(await m.users.groupsOf('alice'), ['devs', 'ops']);
        assert.deepEqual(await m.users.groupsOf('nobody'), []);

        await assert.rejects(m.users.addMember('devs', 'nobody'), (error: unknown) => error instanceof UserNotFoundError && error.user === 'nobody');
        await assert.rejects(m.users.addMember('nogroup', 'alice'), (error: unknown) => error instanceof GroupNotFoundError && error.group === 'nogroup');

        assert.equal(await m.users.removeMember('devs', 'bob'), true);
        assert.equal(await m.users.removeMember('devs', 'bob'), false);
        assert.deepEqual(await m.users.listMembers('devs'), ['alice']);

        // Deleting a user or a group removes its memberships.
        assert.equal(await m.users.deleteUser('alice'), true);
        assert.deepEqual(await m.users.listMembers('devs'), []);
        await m.users.addMember('ops', 'bob');
        assert.equal(await m.users.deleteGroup('ops'), true);
        assert.equal(await m.users.deleteGroup('ops'), false);
        assert.deepEqual(await m.users.groupsOf('bob'), []);
        await m.users.createGroup({ name: 'ops', createdAt: 9 });
        assert.deepEqual(await m.users.listMembers('ops'), [], 'recreated empty');
      });
    });

    describe('role bindings', () => {
      beforeEach(async () => {
        for (const name of ['p', 'q']) await m.projects.ensureProject({ name, createdAt: 1, createdBy: 'admin', displayName: null });
      });

      it('adds and removes bindings idempotently, per project and cluster-wide', async () => {
        const viewer: RoleBindingRecord = { project: 'p', role: 'registry-viewer', subjectKind: 'Group', subjectName: 'system:unauthenticated' };
        assert.equal(await m.roleBindings.addBinding(viewer), true);
        assert.equal(await m.roleBindings.addBinding(viewer), false);
        const bindings: RoleBindingRecord[] = [
          { project: 'p', role: 'registry-admin', subjectKind: 'User', subjectName: 'alice' },
          { project: 'p', role: 'registry-admin', subjectKind: 'Group', subjectName: 'admins' },
          { project: 'p', role: 'registry-editor', subjectKind: 'ServiceAccount', subjectName: 'p:ci' },
          // The same subject name under each kind is three different bindings.
          { project: 'p', role: 'registry-editor', subjectKind: 'User', subjectName: 'p:ci' },
          { project: 'q', role: 'registry-viewer', subjectKind: 'User', subjectName: 'alice' },
          { project: CLUSTER_SCOPE, role: 'cluster-admin', subjectKind: 'User', subjectName: 'alice' },
        ];
        for (const b of bindings) assert.equal(await m.roleBindings.addBinding(b), true);

        assert.deepEqual(await m.roleBindings.listBindings('p'), [
          bindings[1], bindings[0], bindings[2], bindings[3], viewer,
        ]);
        assert.deepEqual(await m.roleBindings.listBindings(CLUSTER_SCOPE), [bindings[5]]);
        assert.deepEqual(await m.roleBindings.listBindings('none'), []);
        assert.deepEqual(await m.roleBindings.listBindingsFor('User', 'alice'), [bindings[5], bindings[0], bindings[4]]);
        assert.deepEqual(await m.roleBindings.listBindingsFor('ServiceAccount', 'p:ci'), [bindings[2]]);
        assert.deepEqual(await m.roleBindings.listBindingsFor('Group', 'alice'), []);

        assert.equal(await m.roleBindings.removeBinding(bindings[0] as RoleBindingRecord), true);
        assert.equal(await m.roleBindings.removeBinding(bindings[0] as RoleBindingRecord), false);
        assert.equal(await m.roleBindings.removeBinding({ ...viewer, subjectKind: 'User' }), false, 'every key column counts');
        assert.equal((await m.roleBindings.listBindings('p')).length, 4);
      });

      it('refuses a binding in a project that does not exist', async () => {
        await assert.rejects(
          m.roleBindings.addBinding({ project: 'nope', role: 'registry-viewer', subjectKind: 'User', subjectName: 'alice' }),
          (error: unknown) => error instanceof ProjectNotFoundError && error.project === 'nope',
        );
        assert.deepEqual(await m.roleBindings.listBindings('nope'), []);
      });
    });

    function token(overrides: Partial<ServiceAccountTokenRecord> & Pick<ServiceAccountTokenRecord, 'id' | 'project' | 'account' | 'tokenHash'>): ServiceAccountTokenRecord {
      return { createdAt: 100, expiresAt: null, revokedAt: null, lastUsedAt: null, ...overrides };
    }

    describe('service accounts', () => {
      beforeEach(async () => {
        await m.projects.ensureProject({ name: 'p', createdAt: 1, createdBy: 'admin', displayName: null });
      });

      it('creates, lists and deletes accounts; refuses an unknown project', async () => {
        assert.equal(await m.serviceAccounts.createServiceAccount({ project: 'p', name: 'ci', createdAt: 2 }), true);
        assert.equal(await m.serviceAccounts.createServiceAccount({ project: 'p', name: 'ci', createdAt: 3 }), false);
        await m.serviceAccounts.createServiceAccount({ project: 'p', name: 'builder', createdAt: 4 });
        assert.deepEqual(await m.serviceAccounts.getServiceAccount('p', 'ci'), { project: 'p', name: 'ci', createdAt: 2 });
        assert.equal(await m.serviceAccounts.getServiceAccount('q', 'ci'), undefined);
        assert.deepEqual((await m.serviceAccounts.listServiceAccounts('p')).map((a) => a.name), ['builder', 'ci']);
        await assert.rejects(
          m.serviceAccounts.createServiceAccount({ project: 'q', name: 'ci', createdAt: 2 }),
          (error: unknown) => error instanceof ProjectNotFoundError && error.project === 'q',
        );
        assert.equal(await m.serviceAccounts.deleteServiceAccount('p', 'builder'), true);
        assert.equal(await m.serviceAccounts.deleteServiceAccount('p', 'builder'), false);
      });

      it('stores tokens by hash, lists, marks use, revokes, and deletes them with the account', async () => {
        await m.serviceAccounts.createServiceAccount({ project: 'p', name: 'ci', createdAt: 2 });
        const first = token({ id: 'tok-1', project: 'p', account: 'ci', tokenHash: 'a'.repeat(64), createdAt: 100, expiresAt: 5 * 2 ** 32 });
        const second = token({ id: 'tok-2', project: 'p', account: 'ci', tokenHash: 'b'.repeat(64), createdAt: 200 });
        await m.serviceAccounts.createToken(second);
        await m.serviceAccounts.createToken(first);
        assert.deepEqual(await m.serviceAccounts.listTokens('p', 'ci'), [first, second], 'oldest first');
        assert.deepEqual(await m.serviceAccounts.findTokenByHash('a'.repeat(64)), first);
        assert.equal(await m.serviceAccounts.findTokenByHash('c'.repeat(64)), undefined);
        await assert.rejects(m.serviceAccounts.createToken({ ...first, id: 'tok-3' }), 'the hash is unique');
        await assert.rejects(
          m.serviceAccounts.createToken(token({ id: 'tok-4', project: 'p', account: 'nobody', tokenHash: 'd'.repeat(64) })),
          (error: unknown) => error instanceof ServiceAccountNotFoundError && error.account === 'nobody',
        );

        await m.serviceAccounts.markTokenUsed('tok-1', 300);
        await m.serviceAccounts.markTokenUsed('tok-1', 250);
        assert.equal((await m.serviceAccounts.findTokenByHash('a'.repeat(64)))?.lastUsedAt, 300, 'never moves back');

        assert.equal(await m.serviceAccounts.revokeToken('tok-1', 400), true);
        assert.equal(await m.serviceAccounts.revokeToken('tok-1', 500), false);
        assert.equal(await m.serviceAccounts.revokeToken('nope', 500), false);
        assert.equal((await m.serviceAccounts.findTokenByHash('a'.repeat(64)))?.revokedAt, 400, 'revoked tokens are still found, with the first revocation time');

        assert.equal(await m.serviceAccounts.deleteServiceAccount('p', 'ci'), true);
        assert.deepEqual(await m.serviceAccounts.listTokens('p', 'ci'), []);
        assert.equal(await m.serviceAccounts.findTokenByHash('b'.repeat(64)), undefined);
      });
    });

    describe('oauth tokens', () => {
      function oauth(hash: string, overrides: Partial<OAuthTokenRecord> = {}): OAuthTokenRecord {
        return {
          hash,
          kind: 'access',
          userName: 'alice',
          clientId: 'berth-cli',
          scopes: 'user:full registry:pull',
          createdAt: 10,
          expiresAt: 1000,
          revokedAt: null,
          family: 'fam-1',
          ...overrides,
        };
      }

      it('puts once, finds by hash, and revokes one token, a family, or all of a user', async () => {
        const access = oauth('h-access');
        await m.oauthTokens.putToken(access);
        await m.oauthTokens.putToken({ ...access, userName: 'mallory' });
        assert.deepEqual(await m.oauthTokens.findTokenByHash('h-access'), access, 'the first put stays');
        assert.equal(await m.oauthTokens.findTokenByHash('h-none'), undefined);
        await m.oauthTokens.putToken(oauth('h-refresh-1', { kind: 'refresh', expiresAt: 9000 }));
        await m.oauthTokens.putToken(oauth('h-refresh-2', { kind: 'refresh', expiresAt: 9000 }));
        await m.oauthTokens.putToken(oauth('h-other-family', { family: 'fam-2', expiresAt: 2 * 2 ** 40 }));
        await m.oauthTokens.putToken(oauth('h-bob', { userName: 'bob', family: 'fam-3' }));

        assert.equal(await m.oauthTokens.revokeToken('h-refresh-1', 50), true);
        assert.equal(await m.oauthTokens.revokeToken('h-refresh-1', 60), false);
        assert.equal((await m.oauthTokens.findTokenByHash('h-refresh-1'))?.revokedAt, 50);
        assert.equal((await m.oauthTokens.findTokenByHash('h-refresh-1'))?.kind, 'refresh');

        assert.equal(await m.oauthTokens.revokeFamily('fam-1', 70), 2, 'the two not yet revoked');
        assert.equal((await m.oauthTokens.findTokenByHash('h-refresh-1'))?.revokedAt, 50, 'earlier revocation stays');
        assert.equal((await m.oauthTokens.findTokenByHash('h-access'))?.revokedAt, 70);
        assert.equal((await m.oauthTokens.findTokenByHash('h-other-family'))?.revokedAt, null);

        assert.equal(await m.oauthTokens.revokeAllForUser('alice', 80), 1);
        assert.equal((await m.oauthTokens.findTokenByHash('h-other-family'))?.revokedAt, 80);
        assert.equal((await m.oauthTokens.findTokenByHash('h-bob'))?.revokedAt, null);
        assert.equal(await m.oauthTokens.revokeAllForUser('alice', 90), 0);
      });

      it('deletes expired tokens, revoked or not', async () => {
        await m.oauthTokens.putToken(oauth('h1', { expiresAt: 100 }));
        await m.oauthTokens.putToken(oauth('h2', { expiresAt: 200, revokedAt: 150 }));
        await m.oauthTokens.putToken(oauth('h3', { expiresAt: 300 }));
        assert.equal(await m.oauthTokens.deleteExpired(300), 2);
        assert.equal(await m.oauthTokens.findTokenByHash('h1'), undefined);
        assert.equal(await m.oauthTokens.findTokenByHash('h2'), undefined);
        assert.ok(await m.oauthTokens.findTokenByHash('h3'));
        assert.equal(await m.oauthTokens.deleteExpired(300), 0);
      });
    });

    describe('signing keys', () => {
      function key(kid: string, createdAt: number): SigningKeyRecord {
        return {
          kid,
          algorithm: 'ES256',
          publicJwk: JSON.stringify({ kty: 'EC', crv: 'P-256', x: kid, y: kid }),
          privateJwkEncrypted: `sealed-${kid}`,
          createdAt,
          retiredAt: null,
        };
      }

      it('stores keys once, lists active keys newest first, and retires them', async () => {
        assert.deepEqual(await m.signingKeys.listActiveKeys(), []);
        assert.equal(await m.signingKeys.putKey(key('k1', 100)), true);
        assert.equal(await m.signingKeys.putKey({ ...key('k1', 999), privateJwkEncrypted: 'other' }), false);
        await m.signingKeys.putKey(key('k3', 300));
        await m.signingKeys.putKey(key('k2', 200));
        assert.deepEqual(await m.signingKeys.listActiveKeys(), [key('k3', 300), key('k2', 200), key('k1', 100)]);
        assert.equal(await m.signingKeys.retireKey('k3', 400), true);
        assert.equal(await m.signingKeys.retireKey('k3', 500), false);
        assert.equal(await m.signingKeys.retireKey('none', 500), false);
        assert.deepEqual((await m.signingKeys.listActiveKeys()).map((k) => k.kid), ['k2', 'k1']);
      });
    });

    describe('images', () => {
      function image(d: string, overrides: Partial<ImageRecord> = {}): ImageRecord {
        return {
          digest: d,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          size: 1234,
          configDigest: digest(`config-of-${d}`),
          metadata: {
            author: 'Ünïcode Dev <dev@example.com>',
            created: '2026-03-01T12:00:00Z',
            architecture: 'amd64',
            os: 'linux',
            config: { Env: ['PATH=/usr/bin'], Cmd: ['/app'], ExposedPorts: { '8080/tcp': {} }, Labels: { 'org.example/ä': 'ß ✓' } },
            history: [{ created: '2026-03-01T12:00:00Z', created_by: 'ENV PATH=/usr/bin', empty_layer: true }],
            diffIds: [digest('diff')],
            size: 5 * 2 ** 32 + 7,
          },
          layers: [
            { name: digest('l1'), size: 5 * 2 ** 32, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
            { name: digest('l2'), size: 7, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
          ],
          manifests: [],
          annotations: { 'org.opencontainers.image.source': 'https://example.com/app' },
          createdAt: 10,
          ...overrides,
        };
      }

      it('puts idempotently (the first write wins) and reads back every field', async () => {
        const first = image(digest('img'));
        await m.images.putImage(first);
        await m.images.putImage({ ...first, size: 1, metadata: null, layers: [], createdAt: 20 });
        assert.deepEqual(await m.images.getImage(digest('img')), first);
        assert.equal(await m.images.getImage(digest('none')), undefined);
      });

      it('round-trips an index with per-platform manifests and no metadata', async () => {
        const index = image(digest('idx'), {
          mediaType: 'application/vnd.oci.image.index.v1+json',
          configDigest: null,
          metadata: null,
          layers: [],
          annotations: null,
          manifests: [
            { digest: digest('amd64'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 500, platform: { architecture: 'amd64', os: 'linux' } },
            { digest: digest('arm'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 501, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
            { digest: digest('att'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 502, platform: null },
          ],
        });
        await m.images.putImage(index);
        assert.deepEqual(await m.images.getImage(digest('idx')), index);
      });

      it('lists images in byte order of digest with keyset paging', async () => {
        const digests = ['c', 'a', 'b', 'e', 'd'].map((l) => digest(l));
        for (const d of digests) await m.images.putImage(image(d));
        const expected = sortedBytes(digests);
        assert.deepEqual((await m.images.listImages({ limit: 10 })).map((i) => i.digest), expected);
        assert.deepEqual((await m.images.listImages({ after: expected[1], limit: 2 })).map((i) => i.digest), expected.slice(2, 4));
        assert.deepEqual(await m.images.listImages({ after: expected.at(-1), limit: 2 }), []);
      });
    });

    describe('image streams', () => {
      function item(d: string, createdAt: number, overrides: Partial<NewTagItem> = {}): NewTagItem {
        return {
          createdAt,
          imageDigest: digest(d),
          dockerImageReference: `registry.test:5000/p/app@${digest(d)}`,
          sourceKind: 'push',
          sourceRef: null,
          ...overrides,
        };
      }

      it('ensureStream creates once; createStream refuses an existing stream', async () => {
        assert.equal(await m.imageStreams.getStream('p', 'app'), undefined);
        const created = await m.imageStreams.ensureStream('p', 'app', 100);
        assert.equal(created.project, 'p');
        assert.equal(created.name, 'app');
        assert.match(created.uid, /^[0-9a-f-]{36}$/);
        assert.equal(created.createdAt, 100);
        assert.equal(created.generation, 1);
        assert.equal(created.resourceVersion, 1);
        assert.deepEqual(created.spec, {});
        assert.deepEqual(created.annotations, {});
        assert.deepEqual(created.conditions, []);
        assert.equal(created.nextImportAt, null);
        assert.deepEqual(await m.imageStreams.ensureStream('p', 'app', 200), created);
        assert.equal(await m.imageStreams.createStream('p', 'app', 300, { dockerImageRepository: 'x/y' }, {}), undefined);
        assert.deepEqual(await m.imageStreams.getStream('p', 'app'), created);

        const spec: ImageStreamSpec = {
          dockerImageRepository: 'openshift/ruby-20-centos7',
          tags: [{ name: '3.3', from: { kind: 'DockerImage', name: 'docker.io/library/ruby:3.3' }, importPolicy: { scheduled: true }, referencePolicy: { type: 'Local' } }],
        };
        const ruby = await m.imageStreams.createStream('p', 'ruby', 400, spec, { 'openshift.io/display-name': 'Ruby ✓' });
        assert.ok(ruby);
        assert.deepEqual(ruby.spec, spec);
        assert.deepEqual((await m.imageStreams.getStream('p', 'ruby'))?.annotations, { 'openshift.io/display-name': 'Ruby ✓' });
        assert.notEqual(ruby.uid, created.uid);
      });

      it('lists streams in byte order with keyset paging, per project and across projects', async () => {
        const names = ['app', 'App', 'a/b', 'a-b', 'a.b', 'a_b', 'z', 'a'];
        for (const n of names) await m.imageStreams.ensureStream('p', n, 1);
        for (const n of ['x', 'a']) await m.imageStreams.ensureStream('q', n, 1);
        await m.imageStreams.ensureStream('p-x', 'a', 1);
        const expected = sortedBytes(names);
        assert.deepEqual((await m.imageStreams.listStreams('p', { limit: 100 })).map((s) => s.name), expected);
        assert.deepEqual((await m.imageStreams.listStreams('p', { after: expected[2], limit: 3 })).map((s) => s.name), expected.slice(3, 6));
        assert.deepEqual(await m.imageStreams.listStreams('nobody', { limit: 3 }), []);

        const all = sortedBytes([...names.map((n) => `p\u0000${n}`), 'q\u0000x', 'q\u0000a', 'p-x\u0000a']).map((k) => k.split('\u0000'));
        const listed = (await m.imageStreams.listAllStreams({ limit: 100 })).map((s) => [s.project, s.name]);
        assert.deepEqual(listed, all);
        const paged: string[][] = [];
        let after: { project: string; name: string } | undefined;
        for (;;) {
          const page = await m.imageStreams.listAllStreams({ after, limit: 4 });
          paged.push(...page.map((s) => [s.project, s.name]));
          const last = page.at(-1);
          if (page.length < 4 || last === undefined) break;
          after = { project: last.project, name: last.name };
        }
        assert.deepEqual(paged, all);
      });

      it('putSpec bumps generation only on a spec change, resourceVersion on every write, and checks the precondition', async () => {
        const s = await m.imageStreams.ensureStream('p', 'app', 1);
        const spec: ImageStreamSpec = { dockerImageRepository: 'registry.example.com/library/ruby' };
        const one = await m.imageStreams.putSpec('p', 'app', { spec, annotations: { a: 'b' } }, s.resourceVersion);
        assert.equal(one.generation, 2);
        assert.equal(one.resourceVersion, 2);
        assert.deepEqual(one.spec, spec);
        const two = await m.imageStreams.putSpec('p', 'app', { spec, annotations: { a: 'c' } }, undefined);
        assert.equal(two.generation, 2, 'same spec, same generation');
        assert.equal(two.resourceVersion, 3);
        assert.deepEqual(two.annotations, { a: 'c' });
        await assert.rejects(m.imageStreams.putSpec('p', 'app', { spec: {}, annotations: {} }, 2), (error: unknown) => {
          assert.ok(error instanceof ImageStreamConflictError);
          assert.equal(error.expectedResourceVersion, 2);
          return true;
        });
        assert.deepEqual(await m.imageStreams.getStream('p', 'app'), two, 'a refused update changes nothing');
        await assert.rejects(m.imageStreams.putSpec('p', 'none', { spec: {}, annotations: {} }, undefined), ImageStreamNotFoundError);
      });

      it('numbers history per tag, moves the current pointer and bumps resourceVersion', async () => {
        await m.imageStreams.ensureStream('p', 'app', 1);
        const first = await m.imageStreams.addTagItem('p', 'app', 'latest', item('one', 10));
        assert.deepEqual(first, { ...item('one', 10), project: 'p', stream: 'app', tag: 'latest', generation: 1 });
        const second = await m.imageStreams.addTagItem('p', 'app', 'latest', item('two', 20, { sourceKind: 'tag', sourceRef: 'q/other:v1' }));
        assert.equal(second.generation, 2);
        assert.equal((await m.imageStreams.addTagItem('p', 'app', 'v1', item('one', 30))).generation, 1, 'generations are per tag');
        assert.equal((await m.imageStreams.getStream('p', 'app'))?.resourceVersion, 4);

        assert.deepEqual(await m.imageStreams.getTag('p', 'app', 'latest'), { tag: 'latest', updatedAt: 20, current: second });
        assert.equal(await m.imageStreams.getTag('p', 'app', 'nope'), undefined);
        assert.deepEqual(
          (await m.imageStreams.listTags('p', 'app', { limit: 10 })).map((t) => [t.tag, t.current.generation, t.current.imageDigest]),
          [['latest', 2, digest('two')], ['v1', 1, digest('one')]],
        );
        assert.deepEqual((await m.imageStreams.listTags('p', 'app', { after: 'latest', limit: 10 })).map((t) => t.tag), ['v1']);
        assert.deepEqual(await m.imageStreams.listTagItems('p', 'app', 'latest', { limit: 10 }), [second, first]);
        assert.deepEqual(await m.imageStreams.getTagItem('p', 'app', 'latest', 1), first);
        assert.equal(await m.imageStreams.getTagItem('p', 'app', 'latest', 3), undefined);
        assert.deepEqual(await m.imageStreams.findImageItem('p', 'app', digest('one')), { ...item('one', 30), project: 'p', stream: 'app', tag: 'v1', generation: 1 });
        assert.equal(await m.imageStreams.findImageItem('p', 'app', digest('none')), undefined);

        await assert.rejects(m.imageStreams.addTagItem('p', 'none', 'latest', item('one', 1)), ImageStreamNotFoundError);
      });

      it('deleteTag keeps the history; a new item continues after it; setCurrentItem points back', async () => {
        await m.imageStreams.ensureStream('p', 'app', 1);
        await m.imageStreams.addTagItem('p', 'app', 'latest', item('one', 10));
        await m.imageStreams.addTagItem('p', 'app', 'latest', item('two', 20));
        assert.equal(await m.imageStreams.deleteTag('p', 'app', 'latest', 30), true);
        assert.equal(await m.imageStreams.deleteTag('p', 'app', 'latest', 30), false);
        assert.equal(await m.imageStreams.deleteTag('p', 'none', 'latest', 30), false);
        assert.equal(await m.imageStreams.getTag('p', 'app', 'latest'), undefined);
        assert.deepEqual(await m.imageStreams.listTags('p', 'app', { limit: 10 }), []);
        assert.deepEqual((await m.imageStreams.listTagItems('p', 'app', 'latest', { limit: 10 })).map((i) => i.generation), [2, 1]);
        const rv = (await m.imageStreams.getStream('p', 'app'))?.resourceVersion ?? 0;

        assert.equal((await m.imageStreams.addTagItem('p', 'app', 'latest', item('three', 40))).generation, 3);
        const back = await m.imageStreams.setCurrentItem('p', 'app', 'latest', 1, 50);
        assert.equal(back.imageDigest, digest('one'));
        assert.deepEqual(await m.imageStreams.getTag('p', 'app', 'latest'), { tag: 'latest', updatedAt: 50, current: back });
        assert.equal((await m.imageStreams.getStream('p', 'app'))?.resourceVersion, rv + 2);
        await assert.rejects(m.imageStreams.setCurrentItem('p', 'app', 'latest', 9, 60), (error: unknown) => {
          assert.ok(error instanceof TagItemNotFoundError);
          assert.equal(error.generation, 9);
          return true;
        });
        await assert.rejects(m.imageStreams.setCurrentItem('p', 'none', 'latest', 1, 60), ImageStreamNotFoundError);
      });

      it('pruneTagHistory keeps each live tag\'s newest items and its current item, removes deleted tags\' history; dryRun changes nothing', async () => {
        const add = async (stream: string, tag: string, count: number, from = 1) => {
          for (let g = from; g < from + count; g++) await m.imageStreams.addTagItem('p', stream, tag, item(`${stream}-${tag}-${g}`, g * 10));
        };
        for (const s of ['app', 'other']) await m.imageStreams.ensureStream('p', s, 1);
        await add('app', 'latest', 5);
        await add('app', 'v1', 2);
        await add('app', 'gone', 3);
        assert.equal(await m.imageStreams.deleteTag('p', 'app', 'gone', 100), true);
        // Pointed back at its oldest item: the current item stays whatever its age or place.
        await add('app', 'pinned', 4);
        await m.imageStreams.setCurrentItem('p', 'app', 'pinned', 1, 100);
        await add('other', 'latest', 5);
        const generations = async (stream: string, tag: string) => (await m.imageStreams.listTagItems('p', stream, tag, { limit: 100 })).map((i) => i.generation);
        const before = await m.imageStreams.getStream('p', 'app');
        const expected = [['gone', 3], ['gone', 2], ['gone', 1], ['latest', 3], ['latest', 2], ['latest', 1], ['pinned', 2]];

        const dry = await m.imageStreams.pruneTagHistory('p', 'app', { keepTagRevisions: 2, dryRun: true });
        assert.deepEqual(dry.map((i) => [i.tag, i.generation]), expected);
        assert.deepEqual(dry[0], { ...item('app-gone-3', 30), project: 'p', stream: 'app', tag: 'gone', generation: 3 });
        assert.deepEqual(await m.imageStreams.getStream('p', 'app'), before, 'a dry run changes nothing');
        assert.deepEqual(await generations('app', 'latest'), [5, 4, 3, 2, 1]);

        const pruned = await m.imageStreams.pruneTagHistory('p', 'app', { keepTagRevisions: 2 });
        assert.deepEqual(pruned, dry, 'it removes what the dry run listed');
        assert.deepEqual(await generations('app', 'latest'), [5, 4]);
        assert.deepEqual(await generations('app', 'v1'), [2, 1]);
        assert.deepEqual(await generations('app', 'gone'), []);
        assert.deepEqual(await generations('app', 'pinned'), [4, 3, 1]);
        assert.equal((await m.imageStreams.getTag('p', 'app', 'pinned'))?.current.generation, 1);
        assert.deepEqual(await generations('other', 'latest'), [5, 4, 3, 2, 1], 'other streams are untouched');
        const after = await m.imageStreams.getStream('p', 'app');
        assert.equal(after?.resourceVersion, (before?.resourceVersion ?? 0) + 1);
        assert.deepEqual(await m.imageStreams.pruneTagHistory('p', 'app', { keepTagRevisions: 2 }), [], 'nothing left to prune');
        assert.equal((await m.imageStreams.getStream('p', 'app'))?.resourceVersion, after?.resourceVersion, 'and no write when nothing went');

        // A live tag keeps its newest item, so numbering goes on; a deleted tag pruned away starts again.
        assert.equal((await m.imageStreams.addTagItem('p', 'app', 'latest', item('next', 60))).generation, 6);
        assert.equal((await m.imageStreams.addTagItem('p', 'app', 'gone', item('again', 60))).generation, 1);
        assert.deepEqual(await m.imageStreams.pruneTagHistory('p', 'nosuch', { keepTagRevisions: 1 }), []);
        await assert.rejects(m.imageStreams.pruneTagHistory('p', 'app', { keepTagRevisions: 0 }), RangeError);
      });

      it('pruneTagHistory with createdBefore keeps younger items; it rolls back with the caller\'s transaction', async () => {
        await m.imageStreams.ensureStream('p', 'aged', 1);
        for (let g = 1; g <= 4; g++) await m.imageStreams.addTagItem('p', 'aged', 'latest', item(`aged-${g}`, g * 10));
        const generations = async () => (await m.imageStreams.listTagItems('p', 'aged', 'latest', { limit: 100 })).map((i) => i.generation);
        assert.deepEqual((await m.imageStreams.pruneTagHistory('p', 'aged', { keepTagRevisions: 1, createdBefore: 30, dryRun: true })).map((i) => i.generation), [2, 1]);
        class Boom extends Error {}
        await assert.rejects(
          m.withTransaction(async (tx) => {
            assert.equal((await tx.imageStreams.pruneTagHistory('p', 'aged', { keepTagRevisions: 1 })).length, 3);
            throw new Boom('abort');
          }),
          Boom,
        );
        assert.deepEqual(await generations(), [4, 3, 2, 1], 'rolled back');
        assert.deepEqual((await m.imageStreams.pruneTagHistory('p', 'aged', { keepTagRevisions: 1, createdBefore: 30 })).map((i) => i.generation), [2, 1]);
        assert.deepEqual(await generations(), [4, 3], 'item 3 (created at 30) is not older than 30');
      });

      it('pruneTagHistory holds the stream row: a rollback to an item it removes waits and finds it gone; a rollback first makes it keep the new current item', async () => {
        await m.imageStreams.ensureStream('p', 'race', 1);
        for (let g = 1; g <= 4; g++) await m.imageStreams.addTagItem('p', 'race', 'latest', item(`race-${g}`, g));
        const other = dialect === 'postgres' ? await current().reopen() : m;
        try {
          let release: () => void = () => {};
          const held = new Promise<void>((resolve) => (release = resolve));
          let pruned: () => void = () => {};
          const prunedInside = new Promise<void>((resolve) => (pruned = resolve));
          const prune = m.withTransaction(async (tx) => {
            const removed = await tx.imageStreams.pruneTagHistory('p', 'race', { keepTagRevisions: 1 });
            pruned();
            await held;
            return removed;
          });
          await prunedInside;
          // Without the lock, PostgreSQL would let this see item 1 and then fail on the foreign key.
          const rollback = other.withTransaction((tx) => tx.imageStreams.setCurrentItem('p', 'race', 'latest', 1, 10));
          await sleep(200);
          release();
          const [removed, rolledBack] = await Promise.allSettled([prune, rollback]);
          assert.equal(removed.status, 'fulfilled');
          assert.deepEqual(removed.status === 'fulfilled' ? removed.value.map((i) => i.generation) : [], [3, 2, 1]);
          assert.equal(rolledBack.status, 'rejected');
          assert.ok(rolledBack.status === 'rejected' && rolledBack.reason instanceof TagItemNotFoundError, String(rolledBack.status === 'rejected' ? rolledBack.reason : ''));
          assert.equal((await m.imageStreams.getTag('p', 'race', 'latest'))?.current.generation, 4);

          // The other order: a rollback not yet committed makes the prune wait, which then keeps the new current item.
          for (let g = 5; g <= 7; g++) await m.imageStreams.addTagItem('p', 'race', 'latest', item(`race-${g}`, g));
          let commit: () => void = () => {};
          const open = new Promise<void>((resolve) => (commit = resolve));
          let moved: () => void = () => {};
          const movedInside = new Promise<void>((resolve) => (moved = resolve));
          const back = other.withTransaction(async (tx) => {
            await tx.imageStreams.setCurrentItem('p', 'race', 'latest', 5, 20);
            moved();
            await open;
          });
          await movedInside;
          const later = m.withTransaction((tx) => tx.imageStreams.pruneTagHistory('p', 'race', { keepTagRevisions: 1 }));
          await sleep(200);
          commit();
          const [, prunedLater] = await Promise.all([back, later]);
          assert.deepEqual(prunedLater.map((i) => i.generation), [6, 4]);
          assert.deepEqual((await m.imageStreams.listTagItems('p', 'race', 'latest', { limit: 10 })).map((i) => i.generation), [7, 5]);
          assert.equal((await m.imageStreams.getTag('p', 'race', 'latest'))?.current.generation, 5);
        } finally {
          if (other !== m) await other.close();
        }
      });

      it('deleteStream removes its tags and history, and nothing of other streams', async () => {
        for (const s of ['gone', 'kept']) {
          await m.imageStreams.ensureStream('p', s, 1);
          await m.imageStreams.addTagItem('p', s, 'latest', item('one', 10));
        }
        assert.equal(await m.imageStreams.deleteStream('p', 'gone'), true);
        assert.equal(await m.imageStreams.deleteStream('p', 'gone'), false);
        assert.equal(await m.imageStreams.getStream('p', 'gone'), undefined);
        const again = await m.imageStreams.ensureStream('p', 'gone', 2);
        assert.deepEqual(await m.imageStreams.listTagItems('p', 'gone', 'latest', { limit: 10 }), [], 'recreated empty');
        assert.equal(again.resourceVersion, 1);
        assert.equal((await m.imageStreams.listTagItems('p', 'kept', 'latest', { limit: 10 })).length, 1);
      });

      it('rolls back with the caller\'s transaction', async () => {
        await m.imageStreams.ensureStream('p', 'app', 1);
        await m.imageStreams.addTagItem('p', 'app', 'latest', item('one', 10));
        class Boom extends Error {}
        await assert.rejects(
          m.withTransaction(async (tx) => {
            await tx.images.putImage({
              digest: digest('two'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, configDigest: null,
              metadata: null, layers: [], manifests: [], annotations: null, createdAt: 1,
            });
            await tx.imageStreams.ensureStream('p', 'new', 2);
            await tx.imageStreams.addTagItem('p', 'app', 'latest', item('two', 20));
            await tx.imageStreams.deleteTag('p', 'app', 'latest', 20);
            throw new Boom('abort');
          }),
          Boom,
        );
        assert.equal(await m.images.getImage(digest('two')), undefined);
        assert.equal(await m.imageStreams.getStream('p', 'new'), undefined);
        assert.equal((await m.imageStreams.getTag('p', 'app', 'latest'))?.current.generation, 1);
        assert.equal((await m.imageStreams.listTagItems('p', 'app', 'latest', { limit: 10 })).length, 1);
        assert.equal((await m.imageStreams.getStream('p', 'app'))?.resourceVersion, 2);
      });

      it('numbers concurrent appends to one tag from two handles without gaps or duplicates', async () => {
        await m.imageStreams.ensureStream('p', 'app', 1);
        // SQLite: a second handle in this process would wait for the write
        // lock synchronously (busy_timeout) and so block the thread that
        // holds it; one handle still interleaves the transactions' callers.
        const other = dialect === 'postgres' ? await current().reopen() : m;
        try {
          const appends = (handle: Metadata, label: string) =>
            Promise.all(
              Array.from({ length: 10 }, (_, i) =>
                handle.withTransaction((tx) => tx.imageStreams.addTagItem('p', 'app', 'latest', item(`${label}${i}`, i))),
              ),
            );
          const [a, b] = await Promise.all([appends(m, 'a'), appends(other, 'b')]);
          const generations = [...a, ...b].map((r) => r.generation).sort((x, y) => x - y);
          assert.deepEqual(generations, Array.from({ length: 20 }, (_, i) => i + 1));
          const items = await m.imageStreams.listTagItems('p', 'app', 'latest', { limit: 100 });
          assert.equal(items.length, 20);
          assert.equal((await m.imageStreams.getTag('p', 'app', 'latest'))?.current.generation, 20);
          assert.equal((await m.imageStreams.getStream('p', 'app'))?.resourceVersion, 21);
        } finally {
          if (other !== m) await other.close();
        }
      });

      it('claims due imports under a lease, lets an expired lease be taken over, and finishes only for the owner', async () => {
        for (const [name, at] of [['due-1', 100], ['due-2', 50], ['later', 500], ['never', null]] as const) {
          await m.imageStreams.ensureStream('p', name, 1);
          assert.equal(await m.imageStreams.scheduleImport('p', name, at), true);
        }
        assert.equal(await m.imageStreams.scheduleImport('p', 'none', 1), false);
        const rv = (await m.imageStreams.getStream('p', 'due-1'))?.resourceVersion;

        const claimed = await m.imageStreams.claimDueImports('node-a', 200, 1000, 10);
        assert.deepEqual(claimed.map((s) => s.name), ['due-2', 'due-1'], 'oldest due first');
        for (const s of claimed) {
          assert.equal(s.importLeaseOwner, 'node-a');
          assert.equal(s.importLeaseUntil, 1200);
        }
        assert.deepEqual(await m.imageStreams.claimDueImports('node-b', 300, 1000, 10), [], 'leased streams are not claimed again');
        assert.deepEqual(await m.imageStreams.claimDueImports('node-b', 300, 1000, 0), []);
        assert.equal((await m.imageStreams.getStream('p', 'due-1'))?.resourceVersion, rv, 'leasing is not a change clients see');

        const conditions: ImageStreamCondition[] = [
          { type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'wrong password', tag: '3.3', lastTransitionTime: 210 },
        ];
        assert.equal(await m.imageStreams.finishImport('p', 'due-2', 'node-b', 900, conditions), false, 'not the owner');
        assert.equal(await m.imageStreams.finishImport('p', 'due-2', 'node-a', 900, conditions), true);
        const finished = await m.imageStreams.getStream('p', 'due-2');
        assert.equal(finished?.importLeaseOwner, null);
        assert.equal(finished?.importLeaseUntil, null);
        assert.equal(finished?.nextImportAt, 900);
        assert.deepEqual(finished?.conditions, conditions);

        // node-a died holding due-1: after the lease expires node-b takes it, and node-a can no longer finish it.
        const takeover = await m.imageStreams.claimDueImports('node-b', 1200, 1000, 1);
        assert.deepEqual(takeover.map((s) => [s.name, s.importLeaseOwner, s.importLeaseUntil]), [['due-1', 'node-b', 2200]]);
        assert.equal(await m.imageStreams.finishImport('p', 'due-1', 'node-a', null, []), false);
        assert.equal(await m.imageStreams.finishImport('p', 'due-1', 'node-b', null, []), true);
        assert.deepEqual((await m.imageStreams.claimDueImports('node-c', 10_000, 1000, 10)).map((s) => s.name), ['later', 'due-2']);
      });

      it('records the generation an import covered; a spec change after the import keeps the stream due when its lease ends', async () => {
        const created = await m.imageStreams.createStream('p', 'remote', 1, { dockerImageRepository: 'registry.test/lib/app' }, {});
        assert.equal(created?.importedGeneration, null, 'never imported');
        assert.equal(await m.imageImports.setImportedGeneration('p', 'none', 1), false);
        await m.imageStreams.scheduleImport('p', 'remote', 10);
        const [claimed] = await m.imageStreams.claimDueImports('node-a', 20, 1000, 1);
        assert.equal(claimed?.generation, 1);
        const rv = (await m.imageStreams.getStream('p', 'remote'))?.resourceVersion;
        assert.equal(await m.imageImports.setImportedGeneration('p', 'remote', 1), true);
        const covered = await m.imageStreams.getStream('p', 'remote');
        assert.equal(covered?.importedGeneration, 1);
        assert.equal(covered?.resourceVersion, rv, 'bookkeeping, not a change clients see');
        // Unchanged spec: the finish sets the next time as asked.
        assert.equal(await m.imageStreams.finishImport('p', 'remote', 'node-a', 5000, [], 1), true);
        assert.equal((await m.imageStreams.getStream('p', 'remote'))?.nextImportAt, 5000);

        // The spec changes (and the stream is made due) while the next import runs: its finish leaves it due.
        await m.imageStreams.scheduleImport('p', 'remote', 30);
        await m.imageStreams.claimDueImports('node-a', 40, 1000, 1);
        const changed = await m.imageStreams.putSpec('p', 'remote', { spec: { dockerImageRepository: 'registry.test/lib/other' }, annotations: {} }, undefined);
        assert.equal(changed.generation, 2);
        await m.imageStreams.scheduleImport('p', 'remote', 45);
        assert.equal(await m.imageStreams.finishImport('p', 'remote', 'node-a', null, [], 1), true);
        const due = await m.imageStreams.getStream('p', 'remote');
        assert.equal(due?.nextImportAt, 45, 'still due for the new spec');
        assert.equal(due?.importLeaseOwner, null);
        assert.equal(due?.importedGeneration, 1);
        // Without a generation (the import failed before it knew one) the time is set as asked.
        await m.imageStreams.claimDueImports('node-a', 50, 1000, 1);
        assert.equal(await m.imageStreams.finishImport('p', 'remote', 'node-a', 7000, []), true);
        assert.equal((await m.imageStreams.getStream('p', 'remote'))?.nextImportAt, 7000);
      });

      it('listRecentTagItems gives the newest items of every live tag of several streams in one query', async () => {
        for (const [project, name] of [['p', 'a'], ['p', 'a/b'], ['p', 'c'], ['q', 'a']] as const) await m.imageStreams.ensureStream(project, name, 1);
        for (let g = 1; g <= 5; g++) await m.imageStreams.addTagItem('p', 'a', 'latest', item(`a-latest-${g}`, g));
        await m.imageStreams.addTagItem('p', 'a', 'v1', item('a-v1', 10));
        await m.imageStreams.addTagItem('p', 'a', 'gone', item('a-gone', 11));
        await m.imageStreams.deleteTag('p', 'a', 'gone', 12);
        await m.imageStreams.addTagItem('p', 'a/b', 'x', item('ab-x', 13));
        await m.imageStreams.addTagItem('p', 'c', 'y', item('c-y', 14));
        await m.imageStreams.addTagItem('q', 'a', 'latest', item('q-a', 15));
        await m.imageStreams.ensureStream('p', 'empty', 16);
        // A rollback points the tag at an older item: the newest items are still the newest generations.
        await m.imageStreams.setCurrentItem('p', 'a', 'latest', 2, 17);

        const got = await m.imageStreams.listRecentTagItems('p', ['c', 'a', 'a/b', 'empty', 'missing'], 3);
        assert.deepEqual(
          got.map((t) => [t.stream, t.tag, t.items.map((i) => i.generation)]),
          [
            ['a', 'latest', [5, 4, 3]],
            ['a', 'v1', [1]],
            ['a/b', 'x', [1]],
            ['c', 'y', [1]],
          ],
        );
        assert.deepEqual(got[0]?.items[0], await m.imageStreams.getTagItem('p', 'a', 'latest', 5));
        assert.deepEqual((await m.imageStreams.listRecentTagItems('p', ['a'], 10))[0]?.items.map((i) => i.generation), [5, 4, 3, 2, 1]);
        assert.deepEqual(await m.imageStreams.listRecentTagItems('p', [], 3), []);
      });

      it('findImageStream finds the first stream of the project that records an image or whose repository holds it', async () => {
        for (const [project, name] of [['p', 'b'], ['x', 'a']] as const) await m.imageStreams.ensureStream(project, name, 1);
        assert.equal(await m.imageStreams.findImageStream('p', digest('img')), undefined);
        // History of stream "b" records it; so does "x" in another project.
        await m.imageStreams.addTagItem('p', 'b', 'latest', item('img', 1));
        await m.imageStreams.addTagItem('x', 'a', 'latest', item('img', 1));
        assert.equal(await m.imageStreams.findImageStream('p', digest('img')), 'b');
        assert.equal(await m.imageStreams.findImageStream('x', digest('img')), 'a');
        assert.equal(await m.imageStreams.findImageStream('y', digest('img')), undefined);
        // Repository p/a/sub holds the manifest (pushed by digest): stream "a/sub" sorts before "b".
        await m.repositories.ensureRepository('p/a/sub', 'p', 1);
        await m.manifests.putManifest({ repository: 'p/a/sub', digest: digest('img'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subjectDigest: null, annotations: null, createdAt: 1 }, []);
        assert.equal(await m.imageStreams.findImageStream('p', digest('img')), 'b', 'a repository without a stream does not count');
        await m.imageStreams.ensureStream('p', 'a/sub', 2);
        assert.equal(await m.imageStreams.findImageStream('p', digest('img')), 'a/sub');
        // A repository of another project whose name starts alike is not this project's.
        await m.repositories.ensureRepository('pp/z', 'pp', 1);
        await m.manifests.putManifest({ repository: 'pp/z', digest: digest('other'), mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 10, artifactType: null, subjectDigest: null, annotations: null, createdAt: 1 }, []);
        await m.imageStreams.ensureStream('p', 'p/z', 2);
        assert.equal(await m.imageStreams.findImageStream('p', digest('other')), undefined);
      });

      it('never gives one stream to two concurrent claimers', async () => {
        const names = Array.from({ length: 60 }, (_, i) => `s${i}`);
        await m.withTransaction(async (tx) => {
          for (const [i, name] of names.entries()) {
            await tx.imageStreams.ensureStream('p', name, 1);
            await tx.imageStreams.scheduleImport('p', name, i);
          }
        });
        const other = await current().reopen();
        try {
          const claimAll = async (handle: Metadata, owner: string) => {
            const got: string[] = [];
            for (let round = 0; round < 10; round++) got.push(...(await handle.imageStreams.claimDueImports(owner, 1000, 60_000, 7)).map((s) => s.name));
            return got;
          };
          const [a, b] = await Promise.all([claimAll(m, 'a'), claimAll(other, 'b')]);
          assert.equal(new Set([...a, ...b]).size, a.length + b.length, 'no stream claimed twice');
          assert.deepEqual(sortedBytes([...a, ...b]), sortedBytes(names));
          for (const name of a) assert.equal((await m.imageStreams.getStream('p', name))?.importLeaseOwner, 'a');
        } finally {
          await other.close();
        }
      });

      it('pages from the middle of 10,000 streams and of a 10,000-item history inserted in one transaction each', async () => {
        const streamRows: Insertable<Database['image_streams']>[] = [];
        for (let i = 0; i < 10_000; i++) {
          const suffix = ['x', 'X', 'x-y', 'x.y', 'x/y'][i % 5] ?? 'x';
          streamRows.push({
            project: i % 2 === 0 ? 'big' : 'other', name: `stream${i}${suffix}`, uid: `uid-${i}`, created_at: i, generation: 1, resource_version: 1,
            spec: '{}', annotations: '{}', status_conditions: '[]', next_import_at: null, import_lease_owner: null, import_lease_until: null, import_generation: null,
          });
        }
        await bulkInsert(m, 'image_streams', streamRows);
        const expected = sortedBytes(streamRows.filter((r) => r.project === 'big').map((r) => r.name));
        assert.equal(expected.length, 5000);
        assert.deepEqual(
          (await m.imageStreams.listStreams('big', { after: expected[2500], limit: 100 })).map((s) => s.name),
          expected.slice(2501, 2601),
        );
        assert.deepEqual((await m.imageStreams.listStreams('big', { after: expected.at(-2), limit: 100 })).map((s) => s.name), expected.slice(-1));
        const everything = sortedBytes(streamRows.map((r) => `${r.project}\u0000${r.name}`));
        const [p, n] = (everything[5000] ?? '').split('\u0000');
        assert.ok(p !== undefined && n !== undefined);
        assert.deepEqual(
          (await m.imageStreams.listAllStreams({ after: { project: p, name: n }, limit: 50 })).map((s) => `${s.project}\u0000${s.name}`),
          everything.slice(5001, 5051),
        );

        await m.imageStreams.ensureStream('p', 'long', 1);
        const items: Insertable<Database['image_stream_tag_items']>[] = [];
        for (let g = 1; g <= 10_000; g++) {
          items.push({
            project: 'p', stream: 'long', tag: 'latest', generation: g, created_at: g, image_digest: digest(`img${g}`),
            docker_image_reference: `registry.test/p/long@${digest(`img${g}`)}`, source_kind: 'push', source_ref: null,
          });
        }
        await bulkInsert(m, 'image_stream_tag_items', items);
        await bulkInsert(m, 'image_stream_tags', [{ project: 'p', stream: 'long', tag: 'latest', current_generation: 10_000, updated_at: 10_000 }]);
        const page = await m.imageStreams.listTagItems('p', 'long', 'latest', { beforeGeneration: 5000, limit: 50 });
        assert.deepEqual(page.map((i) => i.generation), Array.from({ length: 50 }, (_, i) => 4999 - i));
        assert.equal(page[0]?.imageDigest, digest('img4999'));
        assert.deepEqual((await m.imageStreams.listTagItems('p', 'long', 'latest', { limit: 2 })).map((i) => i.generation), [10_000, 9999]);
        assert.deepEqual((await m.imageStreams.listTagItems('p', 'long', 'latest', { beforeGeneration: 2, limit: 50 })).map((i) => i.generation), [1]);
        assert.equal((await m.imageStreams.addTagItem('p', 'long', 'latest', item('next', 20_000))).generation, 10_001);
        assert.equal((await m.imageStreams.getTag('p', 'long', 'latest'))?.current.generation, 10_001);
      });
    });

    describe('image import status', () => {
      it('lockStream reads the stream; setConditions replaces the conditions, bumps resourceVersion and leaves the lease', async () => {
        assert.equal(await m.withTransaction((tx) => tx.imageImports.lockStream('p', 'none')), undefined);
        assert.equal(await m.imageImports.setConditions('p', 'none', []), false);
        await m.imageStreams.ensureStream('p', 'app', 1);
        await m.imageStreams.scheduleImport('p', 'app', 5);
        const [claimed] = await m.imageStreams.claimDueImports('node-a', 10, 1000, 1);
        assert.equal(claimed?.name, 'app');
        const conditions: ImageStreamCondition[] = [
          { type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'wrong password', lastTransitionTime: 20 },
        ];
        const locked = await m.withTransaction(async (tx) => {
          const stream = await tx.imageImports.lockStream('p', 'app');
          assert.equal(await tx.imageImports.setConditions('p', 'app', conditions), true);
          return stream;
        });
        assert.equal(locked?.name, 'app');
        const after = await m.imageStreams.getStream('p', 'app');
        assert.deepEqual(after?.conditions, conditions);
        assert.equal(after?.resourceVersion, (locked?.resourceVersion ?? 0) + 1);
        assert.equal(after?.importLeaseOwner, 'node-a', 'a manual import does not touch the lease');
        assert.equal(after?.nextImportAt, 5);
      });

      it('lockStream makes a second transaction on the stream wait for the first', async () => {
        await m.imageStreams.ensureStream('p', 'app', 1);
        const other = dialect === 'postgres' ? await current().reopen() : m;
        try {
          const order: string[] = [];
          let release: () => void = () => {};
          const held = new Promise<void>((resolve) => (release = resolve));
          let locked: () => void = () => {};
          const lockTaken = new Promise<void>((resolve) => (locked = resolve));
          const first = m.withTransaction(async (tx) => {
            await tx.imageImports.lockStream('p', 'app');
            locked();
            await held;
            order.push('first');
            await tx.imageImports.setConditions('p', 'app', [{ type: 'ImportSuccess', status: 'True', lastTransitionTime: 1 }]);
          });
          await lockTaken;
          const second = other.withTransaction(async (tx) => {
            const stream = await tx.imageImports.lockStream('p', 'app');
            order.push('second');
            return stream;
          });
          await sleep(200);
          release();
          const [, seen] = await Promise.all([first, second]);
          assert.deepEqual(order, ['first', 'second']);
          assert.equal(seen?.conditions[0]?.status, 'True', 'the second sees what the first committed');
        } finally {
          if (other !== m) await other.close();
        }
      });
    });

    describe('pull secrets', () => {
      function secret(project: string, name: string, overrides: Partial<PullSecretRecord> = {}): PullSecretRecord {
        return {
          project,
          name,
          type: 'kubernetes.io/dockerconfigjson',
          registries: ['docker.io', 'quay.io'],
          sealed: `v1.sealed-${project}-${name}`,
          createdAt: 100,
          ...overrides,
        };
      }

      it('creates once, reads, lists per project in byte order, and deletes', async () => {
        assert.equal(await m.pullSecrets.createSecret(secret('p', 'hub')), true);
        assert.equal(await m.pullSecrets.createSecret(secret('p', 'hub', { sealed: 'v1.other', createdAt: 200 })), false);
        assert.deepEqual(await m.pullSecrets.getSecret('p', 'hub'), secret('p', 'hub'));
        for (const name of ['b', 'a-b', 'a', 'a.b']) await m.pullSecrets.createSecret(secret('p', name, { registries: [] }));
        await m.pullSecrets.createSecret(secret('q', 'hub'));
        assert.deepEqual((await m.pullSecrets.listSecrets('p')).map((s) => s.name), sortedBytes(['hub', 'b', 'a-b', 'a', 'a.b']));
        assert.deepEqual((await m.pullSecrets.listSecrets('q')).map((s) => s.name), ['hub']);
        assert.deepEqual(await m.pullSecrets.listSecrets('none'), []);
        assert.equal(await m.pullSecrets.deleteSecret('p', 'hub'), true);
        assert.equal(await m.pullSecrets.deleteSecret('p', 'hub'), false);
        assert.equal(await m.pullSecrets.getSecret('p', 'hub'), undefined);
        assert.deepEqual(await m.pullSecrets.getSecret('q', 'hub'), secret('q', 'hub'));
      });

      it('deleteProject removes its pull secrets and nothing of other projects', async () => {
        for (const name of ['a', 'ab']) {
          await m.projects.ensureProject({ name, createdAt: 1, createdBy: 'alice', displayName: null });
          await m.pullSecrets.createSecret(secret(name, 'hub'));
        }
        assert.equal(await m.projects.deleteProject('a'), true);
        assert.deepEqual(await m.pullSecrets.listSecrets('a'), []);
        assert.deepEqual((await m.pullSecrets.listSecrets('ab')).map((s) => s.name), ['hub']);
      });
    });

    describe('transactions', () => {
      it('returns the value of fn and commits its writes', async () => {
        const value = await m.withTransaction(async (tx) => {
          await tx.repositories.ensureRepository('p/r', 'p', 1);
          return 42;
        });
        assert.equal(value, 42);
        assert.ok(await m.repositories.getRepository('p/r'));
      });

      it('rolls back every write when fn throws', async () => {
        await m.repositories.ensureRepository('p/existing', 'p', 1);
        await m.manifests.putManifest(manifest('p/existing', digest('old')), []);
        await m.manifests.putManifest(manifest('p/existing', digest('new')), []);
        await m.tags.putTag('p/existing', 'latest', digest('old'), 1);
        await m.uploads.createUpload({ id: 'kept', repository: 'p/existing', size: 1, createdAt: 1, updatedAt: 1 });

        class Boom extends Error {}
        await assert.rejects(
          m.withTransaction(async (tx) => {
            await tx.repositories.ensureRepository('p/new', 'p', 2);
            await tx.blobs.recordBlob({ digest: digest('b'), size: 3 }, 2);
            await tx.blobs.linkBlob('p/new', digest('b'), 2);
            await tx.manifests.putManifest(manifest('p/new', digest('m')), [{ digest: digest('b'), kind: 'blob' }]);
            await tx.tags.putTag('p/new', 'latest', digest('m'), 2);
            assert.equal(await tx.tags.putTag('p/existing', 'latest', digest('new'), 2), digest('old'));
            await tx.manifests.deleteManifest('p/existing', digest('old'));
            await tx.uploads.createUpload({ id: 'u', repository: 'p/new', size: 0, createdAt: 2, updatedAt: 2 });
            await tx.uploads.updateUpload('kept', 99, 2);
            // The transaction sees its own writes.
            assert.equal(await tx.tags.getTag('p/new', 'latest'), digest('m'));
            throw new Boom('abort');
          }),
          Boom,
        );

        assert.equal(await m.repositories.getRepository('p/new'), undefined);
        assert.equal(await m.blobs.getBlob(digest('b')), undefined);
        assert.equal(await m.manifests.getManifest('p/new', digest('m')), undefined);
        assert.equal(await m.tags.getTag('p/existing', 'latest'), digest('old'));
        assert.ok(await m.manifests.getManifest('p/existing', digest('old')));
        assert.equal(await m.uploads.getUpload('u'), undefined);
        assert.equal((await m.uploads.getUpload('kept'))?.size, 1);
        assert.deepEqual(await m.repositories.listRepositories({ limit: 10 }), ['p/existing']);
      });

      it('does not let a query from outside see a transaction\'s uncommitted writes', async () => {
        await m.repositories.ensureRepository('p/r', 'p', 1);
        let outside: Promise<string[]> | undefined;
        await assert.rejects(
          m.withTransaction(async (tx) => {
            await tx.repositories.ensureRepository('p/uncommitted', 'p', 2);
            // Another async caller queries while the transaction is open.
            // SQLite: it must wait for the connection, not run inside our
            // transaction. PostgreSQL: it runs on another connection.
            outside = m.repositories.listRepositories({ limit: 10 });
            await sleep(50);
            throw new Error('roll back');
          }),
          /roll back/,
        );
        assert.ok(outside);
        assert.deepEqual(await outside, ['p/r']);
      });

      it('two concurrent transactions on the same rows both commit, and neither write is lost', async () => {
        await m.repositories.ensureRepository('p/r', 'p', 1);
        for (const d of ['one', 'two']) await m.manifests.putManifest(manifest('p/r', digest(d)), []);
        await m.uploads.createUpload({ id: 'u', repository: 'p/r', size: 0, createdAt: 1, updatedAt: 1 });

        const order: string[] = [];
        const transaction = (label: 'one' | 'two', delayBefore: number) =>
          (async () => {
            await sleep(delayBefore);
            return m.withTransaction(async (tx) => {
              // The same repository row, tag row and upload row in both.
              await tx.repositories.ensureRepository('p/r', 'p', 2);
              const previous = await tx.tags.putTag('p/r', 'latest', digest(label), 2);
              await tx.uploads.updateUpload('u', label === 'one' ? 10 : 20, 2);
              await tx.repositories.ensureRepository(`p/only-${label}`, 'p', 2);
              // Hold the transaction open so that the other one overlaps it.
              await sleep(80);
              order.push(label);
              return previous;
            });
          })();

        const [previousOne, previousTwo] = await Promise.all([transaction('one', 0), transaction('two', 20)]);
        assert.equal(order.length, 2);
        const [first, second] = order;
        // Whichever committed second saw the first one's tag as the previous value.
        const previous = { one: previousOne, two: previousTwo };
        assert.equal(previous[first as 'one' | 'two'], undefined);
        assert.equal(previous[second as 'one' | 'two'], digest(first ?? ''));
        assert.equal(await m.tags.getTag('p/r', 'latest'), digest(second ?? ''));
        assert.equal((await m.uploads.getUpload('u'))?.size, second === 'one' ? 10 : 20);
        assert.deepEqual(await m.repositories.listRepositories({ limit: 10 }), ['p/only-one', 'p/only-two', 'p/r']);
      });

      it('a second handle on the same database sees committed writes', async () => {
        const other = await current().reopen();
        try {
          await m.repositories.ensureRepository('p/r', 'p', 7);
          assert.deepEqual(await other.repositories.getRepository('p/r'), { name: 'p/r', project: 'p', createdAt: 7 });
        } finally {
          await other.close();
        }
      });
    });
  });
}
