import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseDigest } from '../oci/digest.ts';
import { openRegistryFixture, PULL_SPEC_HOST, type RegistryFixture } from './registry-fixture.ts';

describe('ImageStreamRecorder: pushes through the registry keep image streams in step', () => {
  let f: RegistryFixture;

  beforeEach(async () => {
    f = await openRegistryFixture();
  });

  afterEach(async () => {
    await f.cleanup();
  });

  it('a tagged push creates the stream, a history item and the image with its metadata', async () => {
    const image = await f.pushImage('p/a/b', 'v1', {
      layerSizes: [5000, 17, 1200],
      labels: { 'io.k8s.description': 'demo ✓', version: '1.0' },
      author: 'Jane <jane@example.com>',
      created: '2026-04-01T08:00:00Z',
    });

    const stream = await f.metadata.imageStreams.getStream('p', 'a/b');
    assert.ok(stream, 'stream a/b of project p');
    assert.equal(stream.createdAt, f.now);
    assert.deepEqual(await f.metadata.imageStreams.listStreams('p', { limit: 10 }).then((s) => s.map((x) => x.name)), ['a/b']);

    const items = await f.metadata.imageStreams.listTagItems('p', 'a/b', 'v1', { limit: 10 });
    assert.deepEqual(items, [
      {
        project: 'p',
        stream: 'a/b',
        tag: 'v1',
        generation: 1,
        createdAt: f.now,
        imageDigest: image.digest,
        dockerImageReference: `${PULL_SPEC_HOST}/p/a/b@${image.digest}`,
        sourceKind: 'push',
        sourceRef: null,
      },
    ]);
    assert.equal((await f.metadata.imageStreams.getTag('p', 'a/b', 'v1'))?.current.generation, 1);

    const record = await f.metadata.images.getImage(image.digest);
    assert.ok(record);
    assert.equal(record.configDigest, image.configDigest);
    assert.equal(record.size, image.manifestSize);
    assert.equal(record.metadata?.author, 'Jane <jane@example.com>');
    assert.equal(record.metadata?.created, '2026-04-01T08:00:00Z');
    assert.equal(record.metadata?.architecture, 'amd64');
    assert.deepEqual(record.metadata?.config?.Labels, { 'io.k8s.description': 'demo ✓', version: '1.0' });
    assert.deepEqual(record.metadata?.config?.Cmd, ['/app']);
    assert.deepEqual(
      record.layers,
      image.layers.map((l) => ({ name: l.digest, size: l.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })),
    );
    assert.deepEqual(record.layers.map((l) => l.size), [5000, 17, 1200]);
    assert.equal(record.metadata?.history.at(-1)?.empty_layer, true);
  });

  it('a push by digest records the image and the stream, but no tag', async () => {
    const image = await f.pushImage('p/app', undefined);
    assert.ok(await f.metadata.images.getImage(image.digest));
    assert.ok(await f.metadata.imageStreams.getStream('p', 'app'));
    assert.deepEqual(await f.metadata.imageStreams.listTags('p', 'app', { limit: 10 }), []);
  });

  it('a manifest list records each platform, and each platform image', async () => {
    const amd64 = await f.pushImage('p/multi', undefined, { architecture: 'amd64' });
    const arm = await f.pushImage('p/multi', undefined, { architecture: 'arm', variant: 'v7' });
    const index = await f.pushIndex('p/multi', 'latest', [
      { image: amd64, architecture: 'amd64' },
      { image: arm, architecture: 'arm', variant: 'v7' },
    ]);
    const record = await f.metadata.images.getImage(index.digest);
    assert.ok(record);
    assert.equal(record.metadata, null);
    assert.equal(record.configDigest, null);
    assert.deepEqual(record.manifests, [
      { digest: amd64.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: amd64.manifestSize, platform: { architecture: 'amd64', os: 'linux' } },
      { digest: arm.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: arm.manifestSize, platform: { architecture: 'arm', os: 'linux', variant: 'v7' } },
    ]);
    assert.equal((await f.metadata.images.getImage(arm.digest))?.metadata?.variant, 'v7');
    assert.equal((await f.metadata.imageStreams.getTag('p', 'multi', 'latest'))?.current.imageDigest, index.digest);
  });

  it('a new image under the same tag prepends a history item; a repeated push of the same image does not', async () => {
    const first = await f.pushImage('p/app', 'latest');
    f.now += 1000;
    const second = await f.pushImage('p/app', 'latest');
    const items = await f.metadata.imageStreams.listTagItems('p', 'app', 'latest', { limit: 10 });
    assert.deepEqual(items.map((i) => [i.generation, i.imageDigest]), [[2, second.digest], [1, first.digest]]);
    assert.equal(items[0]?.createdAt, f.now);

    f.now += 1000;
    await f.registry.manifests.put(f.repo('p/app'), { tag: 'latest' }, second.manifest, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal((await f.metadata.imageStreams.listTagItems('p', 'app', 'latest', { limit: 10 })).length, 2);
  });

  it('deleting a tag through /v2 removes it from the stream and keeps its history', async () => {
    const image = await f.pushImage('p/app', 'v1');
    await f.registry.manifests.put(f.repo('p/app'), { tag: 'v2' }, image.manifest, 'application/vnd.oci.image.manifest.v1+json');
    const before = (await f.metadata.imageStreams.getStream('p', 'app'))?.resourceVersion ?? 0;

    await f.registry.manifests.delete(f.repo('p/app'), { tag: 'v1' });
    assert.equal(await f.metadata.imageStreams.getTag('p', 'app', 'v1'), undefined);
    assert.deepEqual((await f.metadata.imageStreams.listTags('p', 'app', { limit: 10 })).map((t) => t.tag), ['v2']);
    assert.deepEqual((await f.metadata.imageStreams.listTagItems('p', 'app', 'v1', { limit: 10 })).map((i) => i.imageDigest), [image.digest]);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'app'))?.resourceVersion, before + 1);

    // By digest: the manifest goes with every tag on it; the stream's history stays.
    await f.registry.manifests.delete(f.repo('p/app'), { digest: parseDigest(image.digest) });
    assert.deepEqual(await f.metadata.imageStreams.listTags('p', 'app', { limit: 10 }), []);
    assert.equal((await f.metadata.imageStreams.listTagItems('p', 'app', 'v2', { limit: 10 })).length, 1);
    assert.ok(await f.metadata.images.getImage(image.digest), 'the image record is an index, kept until GC');
  });

  it('a push whose transaction fails leaves no image-stream rows', async () => {
    class StepFailed extends Error {}
    f.registry.manifests.addListener({
      prepareManifestPush: async () => async () => {
        throw new StepFailed('a later listener fails inside the push transaction');
      },
      tagDeleted: async () => {},
    });
    await assert.rejects(f.pushImage('p/app', 'v1'), StepFailed);
    assert.equal(await f.metadata.imageStreams.getStream('p', 'app'), undefined);
    assert.deepEqual(await f.metadata.images.listImages({ limit: 10 }), []);
    assert.deepEqual(await f.metadata.imageStreams.listAllStreams({ limit: 10 }), []);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), undefined);
  });
});
