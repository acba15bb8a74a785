/**
 * ImageStreamImporter against real CNCF Distribution (`docker-registry`) as
 * the external registry: anonymous and htpasswd (through a pull secret),
 * schema2, OCI and an index, re-imports, failures as conditions.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, beforeEach, afterEach, describe, it } from 'node:test';
import { ANONYMOUS } from '../authz/authorizer.ts';
import { SecretBox } from '../identity/secret-box.ts';
import { openKyselyMetadata } from '../metadata/open-metadata.ts';
import type { KyselyMetadata } from '../metadata/open-metadata.ts';
import { RemoteRegistryClient } from '../remote/remote-client.ts';
import { startRemoteRegistry, testImage, testIndex } from '../../test/support/remote-registry.ts';
import type { RemoteRegistry } from '../../test/support/remote-registry.ts';
import { ImageStreamError } from './errors.ts';
import { DOCKER_REPOSITORY_CHECK_ANNOTATION, ImageStreamImporter } from './image-importer.ts';
import type { RemoteClientFactory } from './image-importer.ts';
import type { ImportProgress } from './import-contract.ts';
import { PullSecretService } from './pull-secrets.ts';

function clientFactoryFor(remote: RemoteRegistry): RemoteClientFactory {
  // The test registry speaks plain HTTP (or TLS with its own CA): say so whatever the import asked.
  return (registry, options) =>
    new RemoteRegistryClient({
      registry,
      credentials: options.credentials,
      insecure: remote.caPem === undefined,
      ...(remote.caPem === undefined ? {} : { ca: remote.caPem }),
      timeoutMs: 10_000,
      retryBaseDelayMs: 10,
      maxRetries: 1,
    });
}

interface Harness {
  metadata: KyselyMetadata;
  secrets: PullSecretService;
  importer: ImageStreamImporter;
  now: number;
}

async function harness(remote: RemoteRegistry): Promise<Harness> {
  const metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  const h = { metadata, now: Date.UTC(2026, 4, 1) } as Harness;
  const clock = () => h.now;
  h.secrets = new PullSecretService({ metadata, secretBox: new SecretBox(randomBytes(32)), clock });
  h.importer = new ImageStreamImporter({ metadata, secrets: h.secrets, clock, clientFactory: clientFactoryFor(remote), scheduleIntervalMs: 60_000 });
  return h;
}

function authJson(host: string, user: string, password: string): string {
  return JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${user}:${password}`).toString('base64') } } });
}

describe('import from an anonymous registry', () => {
  let remote: RemoteRegistry;
  let h: Harness;
  const docker = testImage('docker-one', 'docker');
  const oci = testImage('oci-one', 'oci');
  const index = testIndex('multi', 'oci');

  before(async () => {
    remote = await startRemoteRegistry({ auth: 'none' });
    await remote.pushImage('lib/app', 'latest', docker);
    await remote.pushImage('lib/app', '1.0', oci);
    await remote.pushIndex('lib/app', 'multi', index);
  });
  after(async () => {
    await remote.stop();
  });
  beforeEach(async () => {
    h = await harness(remote);
  });
  afterEach(async () => {
    await h.metadata.close();
  });

  it('refuses to create a stream without confirm, naming --confirm', async () => {
    await assert.rejects(
      h.importer.importStream('p', 'app', { from: `${remote.hostPort}/lib/app` }, ANONYMOUS),
      (e: unknown) => e instanceof ImageStreamError && e.code === 'STREAM_NOT_FOUND' && /--confirm/.test(e.message),
    );
    assert.equal(await h.metadata.imageStreams.getStream('p', 'app'), undefined);
  });

  it('imports one tag (latest by default): image metadata, a history item with the remote pull spec, spec from, check time', async () => {
    const progress: ImportProgress[] = [];
    const result = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/lib/app`, confirm: true }, ANONYMOUS, (p) => progress.push(p));
    assert.deepEqual(result, { project: 'p', stream: 'app', tagsFound: 1, imported: [{ tag: 'latest', digest: docker.digest, changed: true }], failed: [] });
    assert.deepEqual(progress, [{ phase: 'tags', found: 1 }, { phase: 'manifest', done: 1, total: 1, tag: 'latest' }]);

    const tag = await h.metadata.imageStreams.getTag('p', 'app', 'latest');
    assert.equal(tag?.current.generation, 1);
    assert.equal(tag?.current.imageDigest, docker.digest);
    assert.equal(tag?.current.sourceKind, 'import');
    assert.equal(tag?.current.dockerImageReference, `${remote.hostPort}/lib/app@${docker.digest}`);
    assert.equal(tag?.current.sourceRef, `${remote.hostPort}/lib/app:latest`);

    const image = await h.metadata.images.getImage(docker.digest);
    assert.equal(image?.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
    assert.equal(image?.metadata?.author, 'test docker-one');
    assert.deepEqual(image?.metadata?.config?.Labels, { seed: 'docker-one' });
    assert.deepEqual(image?.layers.map((l) => l.size), docker.layers.map((l) => l.length));

    const stream = await h.metadata.imageStreams.getStream('p', 'app');
    assert.deepEqual(stream?.spec, {
      tags: [{ name: 'latest', from: { kind: 'DockerImage', name: `${remote.hostPort}/lib/app:latest` }, importPolicy: { scheduled: false, insecure: false } }],
    });
    assert.equal(stream?.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION], new Date(h.now).toISOString());
    assert.deepEqual(stream?.conditions, []);
    assert.equal(stream?.nextImportAt, null, 'not scheduled');
    assert.equal(await h.metadata.repositories.getRepository('p/app'), undefined, 'metadata only: no local repository, no blobs');
  });

  it('imports every tag with all: schema2, OCI and an index with its platform images; records dockerImageRepository', async () => {
    const progress: ImportProgress[] = [];
    const result = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/lib/app`, all: true, confirm: true }, ANONYMOUS, (p) => progress.push(p));
    assert.equal(result.tagsFound, 3);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(
      result.imported.map((t) => [t.tag, t.digest, t.changed]).sort(),
      [['1.0', oci.digest, true], ['latest', docker.digest, true], ['multi', index.digest, true]].sort(),
    );
    assert.deepEqual(progress[0], { phase: 'tags', found: 3 });
    assert.deepEqual(progress.slice(1).map((p) => (p.phase === 'manifest' ? p.done : -1)), [1, 2, 3]);

    const indexImage = await h.metadata.images.getImage(index.digest);
    assert.equal(indexImage?.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.equal(indexImage?.metadata, null);
    assert.deepEqual(indexImage?.manifests.map((m) => [m.digest, m.platform?.architecture]), index.images.map((i, n) => [i.digest, n === 0 ? 'amd64' : 'arm64']));
    for (const child of index.images) {
      const childImage = await h.metadata.images.getImage(child.digest);
      assert.ok(childImage, 'each platform image is recorded');
      assert.equal(childImage.metadata?.author, `test multi-${childImage.metadata?.architecture}`);
    }
    assert.equal((await h.metadata.images.getImage(oci.digest))?.metadata?.author, 'test oci-one');

    const stream = await h.metadata.imageStreams.getStream('p', 'app');
    assert.equal(stream?.spec.dockerImageRepository, `${remote.hostPort}/lib/app`);
    assert.equal(stream?.spec.tags, undefined, 'no flags: no spec tags for an --all import');
    assert.deepEqual((await h.metadata.imageStreams.listTags('p', 'app', { limit: 10 })).map((t) => t.tag), ['1.0', 'latest', 'multi']);

    // Without --from the spec's repository is used again.
    const again = await h.importer.importStream('p', 'app', { all: true }, ANONYMOUS);
    assert.deepEqual(again.imported.map((t) => t.changed), [false, false, false]);
  });

  it('a re-import of an unchanged tag adds nothing but updates the check time; a new push is found (generation 2)', async () => {
    const from = `${remote.hostPort}/lib/moving:stable`;
    const first = testImage('moving-1', 'oci');
    await remote.pushImage('lib/moving', 'stable', first);
    await h.importer.importStream('p', 'moving', { from, confirm: true }, ANONYMOUS);
    const rv = (await h.metadata.imageStreams.getStream('p', 'moving'))?.resourceVersion ?? 0;

    h.now += 60_000;
    const unchanged = await h.importer.importStream('p', 'moving', {}, ANONYMOUS);
    assert.deepEqual(unchanged.imported, [{ tag: 'stable', digest: first.digest, changed: false }]);
    assert.deepEqual((await h.metadata.imageStreams.listTagItems('p', 'moving', 'stable', { limit: 10 })).map((i) => i.generation), [1]);
    const checked = await h.metadata.imageStreams.getStream('p', 'moving');
    assert.equal(checked?.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION], new Date(h.now).toISOString());
    assert.equal(checked?.generation, 1, 'the spec did not change');
    assert.ok((checked?.resourceVersion ?? 0) > rv);

    const second = testImage('moving-2', 'docker');
    await remote.pushImage('lib/moving', 'stable', second);
    h.now += 60_000;
    const moved = await h.importer.importStream('p', 'moving', {}, ANONYMOUS);
    assert.deepEqual(moved.imported, [{ tag: 'stable', digest: second.digest, changed: true }]);
    const items = await h.metadata.imageStreams.listTagItems('p', 'moving', 'stable', { limit: 10 });
    assert.deepEqual(items.map((i) => [i.generation, i.imageDigest]), [[2, second.digest], [1, first.digest]]);
    assert.equal(items[0]?.dockerImageReference, `${remote.hostPort}/lib/moving@${second.digest}`);
  });

  it('records a missing tag as a NotFound condition and a bad --from as a typed error; success clears the condition', async () => {
    const result = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/lib/app:nope`, confirm: true }, ANONYMOUS);
    assert.deepEqual(result.imported, []);
    assert.equal(result.failed[0]?.tag, 'nope');
    assert.equal(result.failed[0]?.reason, 'NotFound');
    const [condition] = (await h.metadata.imageStreams.getStream('p', 'app'))?.conditions ?? [];
    assert.equal(condition?.type, 'ImportSuccess');
    assert.equal(condition?.status, 'False');
    assert.equal(condition?.reason, 'NotFound');
    assert.equal(condition?.tag, 'nope');
    assert.match(condition?.message ?? '', /lib\/app:nope/);

    await assert.rejects(
      h.importer.importStream('p', 'app', { from: 'UPPER/Case:x' }, ANONYMOUS),
      (e: unknown) => e instanceof ImageStreamError && e.code === 'INVALID' && /--from/.test(e.message),
    );

    await remote.pushImage('lib/app', 'nope', oci);
    const fixed = await h.importer.importStream('p', 'app', {}, ANONYMOUS);
    assert.deepEqual(fixed.failed, []);
    assert.equal(fixed.imported.find((t) => t.tag === 'nope')?.digest, oci.digest);
    assert.deepEqual((await h.metadata.imageStreams.getStream('p', 'app'))?.conditions, []);
  });

  it('records scheduled and insecure in the import policy and schedules the stream', async () => {
    await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/lib/app:1.0`, confirm: true, scheduled: true, insecure: true }, ANONYMOUS);
    const stream = await h.metadata.imageStreams.getStream('p', 'app');
    assert.deepEqual(stream?.spec.tags?.[0]?.importPolicy, { scheduled: true, insecure: true });
    assert.equal(stream?.nextImportAt, h.now + 60_000);

    await h.importer.importStream('p', 'app', { scheduled: false }, ANONYMOUS);
    const off = await h.metadata.imageStreams.getStream('p', 'app');
    assert.deepEqual(off?.spec.tags?.[0]?.importPolicy, { scheduled: false, insecure: true });
    assert.equal(off?.nextImportAt, null);
  });
});

describe('import from a registry with htpasswd basic auth', () => {
  let remote: RemoteRegistry;
  let h: Harness;
  const image = testImage('private-one', 'oci');

  before(async () => {
    remote = await startRemoteRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' } });
    await remote.pushImage('team/app', 'latest', image);
    await remote.pushImage('team/app', '2.0', image);
  });
  after(async () => {
    await remote.stop();
  });
  beforeEach(async () => {
    h = await harness(remote);
  });
  afterEach(async () => {
    await h.metadata.close();
  });

  it('imports with the project pull secret for the registry host', async () => {
    await h.secrets.create('p', 'team', authJson(remote.hostPort, 'alice', 'wonderland'));
    const result = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/team/app`, all: true, confirm: true }, ANONYMOUS);
    assert.deepEqual(result.failed, []);
    assert.deepEqual(result.imported.map((t) => t.tag).sort(), ['2.0', 'latest']);
    assert.equal((await h.metadata.images.getImage(image.digest))?.metadata?.author, 'test private-one');
  });

  it('a wrong password gives a clear Unauthorized condition on the stream and imports nothing', async () => {
    await h.secrets.create('p', 'team', authJson(remote.hostPort, 'alice', 'not-the-password'));
    const result = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/team/app`, all: true, confirm: true }, ANONYMOUS);
    assert.deepEqual(result.imported, []);
    assert.equal(result.failed.length, 1);
    assert.equal(result.failed[0]?.reason, 'Unauthorized');
    const stream = await h.metadata.imageStreams.getStream('p', 'app');
    assert.deepEqual(await h.metadata.imageStreams.listTags('p', 'app', { limit: 10 }), []);
    assert.equal(await h.metadata.images.getImage(image.digest), undefined);
    assert.equal(stream?.conditions.length, 1);
    const [condition] = stream?.conditions ?? [];
    assert.equal(condition?.type, 'ImportSuccess');
    assert.equal(condition?.status, 'False');
    assert.equal(condition?.reason, 'Unauthorized');
    assert.equal(condition?.tag, undefined, 'listing the tags failed: a stream-level condition');
    assert.match(condition?.message ?? '', new RegExp(`refused the credentials of user "alice" from project p's pull secret for ${remote.hostPort.replace(/\./g, '\\.')}`));
    assert.doesNotMatch(condition?.message ?? '', /not-the-password/);

    // Without any secret the message says so; a single tag failing is a tag condition.
    await h.secrets.delete('p', 'team');
    const anonymous = await h.importer.importStream('p', 'app', { from: `${remote.hostPort}/team/app:2.0` }, ANONYMOUS);
    assert.equal(anonymous.failed[0]?.reason, 'Unauthorized');
    const conditions = (await h.metadata.imageStreams.getStream('p', 'app'))?.conditions ?? [];
    assert.deepEqual(conditions.map((c) => [c.tag, c.reason]), [['2.0', 'Unauthorized']], 'the stream-level condition went with a run that listed nothing');
    assert.match(conditions[0]?.message ?? '', /anonymous access \(no pull secret of project p/);

    // Fixing the secret and re-importing clears it.
    await h.secrets.create('p', 'team', authJson(remote.hostPort, 'alice', 'wonderland'));
    const fixed = await h.importer.importStream('p', 'app', {}, ANONYMOUS);
    assert.deepEqual(fixed.failed, []);
    assert.deepEqual((await h.metadata.imageStreams.getStream('p', 'app'))?.conditions, []);
  });
});
