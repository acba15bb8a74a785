import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { parseDigest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { ImageStreamError } from './errors.ts';
import { openRegistryFixture, PULL_SPEC_HOST, type RegistryFixture } from './registry-fixture.ts';

async function keys(f: RegistryFixture): Promise<string[]> {
  const out: string[] = [];
  for await (const key of f.driver.list('blobs/')) out.push(key);
  return out.sort();
}

function code(expected: ImageStreamError['code']) {
  return (error: unknown) => {
    assert.ok(error instanceof ImageStreamError, String(error));
    assert.equal(error.code, expected);
    return true;
  };
}

describe('ImageStreamService', () => {
  let f: RegistryFixture;

  beforeEach(async () => {
    f = await openRegistryFixture();
  });

  afterEach(async () => {
    await f.cleanup();
  });

  it('getStream shows the pull spec and each tag with its newest items; listStreams pages', async () => {
    const one = await f.pushImage('p/app', 'latest');
    f.now += 1;
    const two = await f.pushImage('p/app', 'latest');
    await f.pushImage('p/app', 'v1');
    await f.pushImage('p/other', 'x');
    const view = await f.service.getStream('p', 'app', { itemsPerTag: 5 });
    assert.equal(view.dockerImageRepository, `${PULL_SPEC_HOST}/p/app`);
    assert.deepEqual(view.tags.map((t) => [t.tag, t.items.map((i) => i.imageDigest)]), [
      ['latest', [two.digest, one.digest]],
      ['v1', [view.tags[1]?.items[0]?.imageDigest]],
    ]);
    assert.deepEqual((await f.service.listStreams('p', { limit: 10 })).map((s) => s.name), ['app', 'other']);
    assert.deepEqual((await f.service.listStreams('p', { after: 'app', limit: 10 })).map((s) => s.name), ['other']);
    assert.deepEqual((await f.service.listTagHistory('p', 'app', 'latest', { beforeGeneration: 2, limit: 10 })).map((i) => i.imageDigest), [one.digest]);
    await assert.rejects(f.service.getStream('p', 'none'), code('STREAM_NOT_FOUND'));
  });

  it('getStreamTag gives the current image with full metadata; getStreamImage finds tagged, digest-only and child images', async () => {
    const image = await f.pushImage('p/app', 'v1', { labels: { tier: 'web' }, layerSizes: [10, 20] });
    const view = await f.service.getStreamTag('p', 'app', 'v1');
    assert.equal(view.tag.current.imageDigest, image.digest);
    assert.equal(view.image.digest, image.digest);
    assert.deepEqual(view.image.metadata?.config?.Labels, { tier: 'web' });
    assert.deepEqual(view.image.layers.map((l) => l.size), [10, 20]);
    await assert.rejects(f.service.getStreamTag('p', 'app', 'nope'), code('TAG_NOT_FOUND'));

    assert.equal((await f.service.getStreamImage('p', 'app', image.digest)).item?.tag, 'v1');
    const byDigest = await f.pushImage('p/app', undefined);
    const imageView = await f.service.getStreamImage('p', 'app', byDigest.digest);
    assert.equal(imageView.item, undefined);
    assert.equal(imageView.image.digest, byDigest.digest);
    await assert.rejects(f.service.getStreamImage('p', 'app', `sha256:${'0'.repeat(64)}`), code('IMAGE_NOT_FOUND'));
    await f.pushImage('p/elsewhere', 'x').then((other) =>
      assert.rejects(f.service.getStreamImage('p', 'app', other.digest), code('IMAGE_NOT_FOUND'), 'an image of another stream'),
    );
  });

  it('tags an image into a stream of another project without copying blobs', async () => {
    const image = await f.pushImage('p/app', 'v1');
    const before = await keys(f);
    f.now += 5000;
    const view = await f.service.tag('p', 'app', 'v1', 'q', 'copy', 'prod', 'alice');

    assert.deepEqual(await keys(f), before, 'no blob or manifest bytes were written');
    assert.equal(view.tag.current.imageDigest, image.digest);
    assert.equal(view.tag.current.sourceKind, 'tag');
    assert.equal(view.tag.current.sourceRef, 'p/app:v1');
    assert.equal(view.tag.current.dockerImageReference, `${PULL_SPEC_HOST}/q/copy@${image.digest}`);
    assert.equal(view.tag.current.createdAt, f.now);
    assert.equal(view.image.metadata?.author, 'Test Author <test@example.com>');

    // /v2 serves it from the target repository: tag, manifest and every blob.
    const target = f.repo('q/copy');
    const pulled = await f.registry.manifests.get(target, { tag: 'prod' });
    assert.deepEqual(pulled.bytes, image.manifest);
    for (const d of [image.configDigest, ...image.layers.map((l) => l.digest)]) {
      assert.ok(await f.registry.blobs.stat(target, parseDigest(d)), `blob ${d} linked into q/copy`);
    }
    assert.deepEqual(await f.metadata.manifests.listReferences('q/copy', image.digest), await f.metadata.manifests.listReferences('p/app', image.digest));

    // By digest, into a second tag of the same target.
    const again = await f.service.tag('p', 'app', image.digest, 'q', 'copy', 'pinned');
    assert.equal(again.tag.current.sourceRef, `p/app@${image.digest}`);

    await assert.rejects(f.service.tag('p', 'app', 'nope', 'q', 'copy', 'x'), code('TAG_NOT_FOUND'));
    await assert.rejects(f.service.tag('p', 'none', 'v1', 'q', 'copy', 'x'), code('STREAM_NOT_FOUND'));
    await assert.rejects(f.service.tag('p', 'app', 'v1', 'q', 'copy', '-bad'), code('INVALID'));
    await assert.rejects(f.service.tag('p', 'app', 'sha256:zz', 'q', 'copy', 'x'), code('INVALID'));
  });

  it('tags a multi-platform index across projects with its children and their blobs', async () => {
    const amd64 = await f.pushImage('p/multi', undefined, { architecture: 'amd64' });
    const arm64 = await f.pushImage('p/multi', undefined, { architecture: 'arm64' });
    const index = await f.pushIndex('p/multi', 'latest', [
      { image: amd64, architecture: 'amd64' },
      { image: arm64, architecture: 'arm64' },
    ]);
    const view = await f.service.tag('p', 'multi', 'latest', 'q', 'multi', 'latest');
    assert.equal(view.image.manifests.length, 2);
    const target = f.repo('q/multi');
    assert.equal((await f.registry.manifests.resolve(target, { tag: 'latest' })).digest, index.digest);
    for (const child of [amd64, arm64]) {
      assert.deepEqual((await f.registry.manifests.get(target, { digest: parseDigest(child.digest) })).bytes, child.manifest);
      for (const layer of child.layers) assert.ok(await f.registry.blobs.stat(target, parseDigest(layer.digest)));
    }
    assert.ok((await f.service.getStreamImage('q', 'multi', arm64.digest)).image.metadata?.architecture === 'arm64');
  });

  it('rolls a tag back in one call: /v2 moves, and the history records the rollback as a new item', async () => {
    const one = await f.pushImage('p/app', 'latest');
    f.now += 1;
    const two = await f.pushImage('p/app', 'latest');
    f.now += 1;
    const view = await f.service.rollback('p', 'app', 'latest', 1, 'bob');
    assert.equal(view.tag.current.imageDigest, one.digest);
    assert.equal(view.tag.current.generation, 3);
    assert.equal(view.tag.current.sourceKind, 'rollback');
    assert.equal(view.tag.current.sourceRef, '1');
    assert.equal((await f.registry.manifests.resolve(f.repo('p/app'), { tag: 'latest' })).digest, one.digest);
    const history = await f.service.listTagHistory('p', 'app', 'latest', { limit: 10 });
    assert.deepEqual(history.map((i) => [i.generation, i.imageDigest, i.sourceKind]), [
      [3, one.digest, 'rollback'],
      [2, two.digest, 'push'],
      [1, one.digest, 'push'],
    ]);

    // Rolling back to what the tag already shows changes nothing.
    await f.service.rollback('p', 'app', 'latest', 1);
    assert.equal((await f.service.listTagHistory('p', 'app', 'latest', { limit: 10 })).length, 3);
    // And the rollback itself can be undone.
    assert.equal((await f.service.rollback('p', 'app', 'latest', 2)).image.digest, two.digest);

    await assert.rejects(f.service.rollback('p', 'app', 'latest', 99), code('HISTORY_ITEM_NOT_FOUND'));
    await f.registry.manifests.delete(f.repo('p/app'), { digest: parseDigest(one.digest) });
    await assert.rejects(f.service.rollback('p', 'app', 'latest', 1), code('IMAGE_NOT_FOUND'), 'the manifest is gone from the repository');
  });

  it('deleteTag removes the tag from /v2 and the stream; the history stays', async () => {
    const image = await f.pushImage('p/app', 'v1');
    await f.service.deleteTag('p', 'app', 'v1');
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/app'), { tag: 'v1' }));
    await assert.rejects(f.service.getStreamTag('p', 'app', 'v1'), code('TAG_NOT_FOUND'));
    assert.deepEqual((await f.service.listTagHistory('p', 'app', 'v1', { limit: 10 })).map((i) => i.imageDigest), [image.digest]);
    await assert.rejects(f.service.deleteTag('p', 'app', 'v1'), code('TAG_NOT_FOUND'));
    await assert.rejects(f.service.deleteTag('p', 'none', 'v1'), code('STREAM_NOT_FOUND'));

    // A stream tag with no /v2 tag (as an import makes): only the stream has it.
    await f.metadata.imageStreams.addTagItem('p', 'app', 'imported', {
      createdAt: f.now, imageDigest: image.digest, dockerImageReference: `remote.example.com/lib/app@${image.digest}`, sourceKind: 'import', sourceRef: 'remote.example.com/lib/app:1',
    });
    await f.service.deleteTag('p', 'app', 'imported');
    assert.equal(await f.metadata.imageStreams.getTag('p', 'app', 'imported'), undefined);
  });

  it('createStream writes the stream and every spec tag in one transaction: a source lost after it was resolved leaves nothing', async () => {
    const local = await f.pushImage('p/src', 'v1');
    // An imported image: recorded (here from a push elsewhere), its history item pointing at another registry.
    const imported = await f.pushImage('z/elsewhere', undefined);
    await f.metadata.imageStreams.addTagItem('p', 'src', 'imp', {
      createdAt: f.now, imageDigest: imported.digest, dockerImageReference: `remote.example.com/lib/x@${imported.digest}`, sourceKind: 'import', sourceRef: 'remote.example.com/lib/x:1',
    });
    const remote = await f.service.resolveSource('p', 'src', 'imp');
    assert.deepEqual(remote, { kind: 'remote', repository: f.repo('p/src'), digest: imported.digest, ref: 'p/src:imp', dockerImageReference: `remote.example.com/lib/x@${imported.digest}` });
    const pushed = await f.service.resolveSource('p', 'src', 'v1');
    assert.equal(pushed.kind, 'local');

    await f.registry.manifests.delete(f.repo('p/src'), { digest: parseDigest(local.digest) });
    await assert.rejects(
      f.service.createStream('p', 'new', { spec: { dockerImageRepository: 'remote.example.com/lib/x' }, annotations: {} }, [{ tag: 'r', source: remote }, { tag: 'l', source: pushed }]),
      code('IMAGE_NOT_FOUND'),
    );
    assert.equal(await f.metadata.imageStreams.getStream('p', 'new'), undefined, 'no stream');
    assert.deepEqual(await f.metadata.imageStreams.listTagItems('p', 'new', 'r', { limit: 5 }), [], 'no item of the remote tag');
    assert.equal(await f.metadata.repositories.getRepository('p/new'), undefined);

    // With sources that hold, all of it lands; a second create is refused and changes nothing.
    const other = await f.pushImage('p/src', 'v2');
    const view = await f.service.createStream('p', 'new', { spec: {}, annotations: {} }, [{ tag: 'r', source: remote }, { tag: 'l', source: await f.service.resolveSource('p', 'src', 'v2') }]);
    assert.deepEqual(view.tags.map((t) => [t.tag, t.items.map((i) => [i.imageDigest, i.sourceKind, i.sourceRef])]), [
      ['l', [[other.digest, 'tag', 'p/src:v2']]],
      ['r', [[imported.digest, 'tag', 'p/src:imp']]],
    ]);
    await assert.rejects(f.service.createStream('p', 'new', { spec: {}, annotations: {} }, [{ tag: 'x', source: remote }]), code('ALREADY_EXISTS'));
    assert.equal(await f.metadata.imageStreams.getTag('p', 'new', 'x'), undefined);
  });

  it('a stream created or changed with a remote in its spec is due for import in the same write', async () => {
    await f.service.createStream('p', 'local', { spec: {}, annotations: {} }, []);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'local'))?.nextImportAt, null);
    await f.service.createStream('p', 'remote', { spec: { dockerImageRepository: 'registry.example.com/lib/app' }, annotations: {} }, []);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'remote'))?.nextImportAt, f.now);
    await f.metadata.imageStreams.scheduleImport('p', 'remote', null);
    f.now += 1000;
    const same = await f.service.updateStream('p', 'remote', { spec: { dockerImageRepository: 'registry.example.com/lib/app' }, annotations: { a: 'b' } }, undefined, []);
    assert.equal(same.changed, false);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'remote'))?.nextImportAt, null, 'annotations only: nothing to import');
    const moved = await f.service.updateStream('p', 'remote', { spec: { dockerImageRepository: 'registry.example.com/lib/other' }, annotations: {} }, undefined, []);
    assert.equal(moved.changed, true);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'remote'))?.nextImportAt, f.now);
  });

  /** Records `digest` in `p/src:imp` as an image imported from another registry (its manifest is not in p/src). */
  async function importedInto(tag: string, digest: string): Promise<void> {
    await f.metadata.imageStreams.ensureStream('p', 'src', f.now);
    await f.metadata.imageStreams.addTagItem('p', 'src', tag, {
      createdAt: f.now, imageDigest: digest, dockerImageReference: `remote.example.com/lib/x@${digest}`, sourceKind: 'import', sourceRef: 'remote.example.com/lib/x:1',
    });
  }

  it('a spec tag changed to an imported image takes the /v2 tag away in the same write, so /v2 never serves the image the stream replaced', async () => {
    const pushed = await f.pushImage('p/app', 'v1');
    // Resolved once, so the registry's tag cache holds it: the write must forget it.
    assert.equal((await f.registry.manifests.resolve(f.repo('p/app'), { tag: 'v1' })).digest, pushed.digest);
    const imported = await f.pushImage('z/elsewhere', undefined);
    await importedInto('imp', imported.digest);
    const source = await f.service.resolveSource('p', 'src', 'imp');
    assert.equal(source.kind, 'remote');

    const spec = { tags: [{ name: 'v1', from: { kind: 'ImageStreamTag' as const, name: 'src:imp' } }] };
    const { changed, view } = await f.service.updateStream('p', 'app', { spec, annotations: {} }, undefined, [{ tag: 'v1', source }]);
    assert.equal(changed, true);
    assert.deepEqual(view.tags.map((t) => [t.tag, t.items.map((i) => i.imageDigest)]), [['v1', [imported.digest, pushed.digest]]]);
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/app'), { tag: 'v1' }), (e: unknown) => e instanceof OciError && e.code === 'MANIFEST_UNKNOWN');
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), undefined);
    // The manifest stays by digest.
    assert.equal((await f.registry.manifests.resolve(f.repo('p/app'), { digest: parseDigest(pushed.digest) })).digest, pushed.digest);
  });

  it('tagging or rolling back to an imported image removes the /v2 tag and writes the item in ONE transaction', async () => {
    const pushed = await f.pushImage('p/app', 'v1');
    const imported = await f.pushImage('z/elsewhere', undefined);
    await importedInto('imp', imported.digest);
    // A failure after the /v2 tag is gone, inside the same transaction: here the stream vanishes, so the item cannot be written.
    let armed = true;
    f.registry.manifests.addListener({
      prepareManifestPush: async () => async () => {},
      tagDeleted: async (tx, repository) => {
        if (armed && repository.name === 'p/app') await tx.imageStreams.deleteStream('p', 'app');
      },
    });
    await assert.rejects(f.service.tag('p', 'src', 'imp', 'p', 'app', 'v1'));
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), pushed.digest, '/v2 keeps the tag');
    assert.equal((await f.metadata.imageStreams.getTag('p', 'app', 'v1'))?.current.imageDigest, pushed.digest, 'the stream keeps it too');

    armed = false;
    const tagged = await f.service.tag('p', 'src', 'imp', 'p', 'app', 'v1');
    assert.equal(tagged.tag.current.imageDigest, imported.digest);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), undefined);
    // Back to the pushed image (through /v2 again), then forward to the imported one by rollback: /v2 loses the tag once more.
    await f.service.rollback('p', 'app', 'v1', 1);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), pushed.digest);
    await f.service.rollback('p', 'app', 'v1', 2);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), undefined);
    assert.equal((await f.metadata.imageStreams.getTag('p', 'app', 'v1'))?.current.imageDigest, imported.digest);
  });

  it('updateStream decides whether the spec changed on the locked row: a PUT that raced another still tags in its spec tags', async () => {
    const x = await f.pushImage('p/src', 'v1');
    const spec = { tags: [{ name: 'v1', from: { kind: 'ImageStreamTag' as const, name: 'src:v1' } }] };
    await f.service.createStream('p', 'app', { spec, annotations: {} }, [{ tag: 'v1', source: await f.service.resolveSource('p', 'src', 'v1') }]);
    const y = await f.pushImage('p/app', 'v1');
    // The same spec again: nothing moves.
    const same = await f.service.updateStream('p', 'app', { spec, annotations: {} }, undefined, [{ tag: 'v1', source: await f.service.resolveSource('p', 'src', 'v1') }]);
    assert.equal(same.changed, false);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), y.digest);

    // Another PUT (without resourceVersion) commits just before this one's transaction begins.
    const metadata = f.metadata as { withTransaction: typeof f.metadata.withTransaction };
    const original = f.metadata.withTransaction.bind(f.metadata);
    let raced = false;
    metadata.withTransaction = async (fn) => {
      if (!raced) {
        raced = true;
        await f.metadata.imageStreams.putSpec('p', 'app', { spec: {}, annotations: {} }, undefined);
      }
      return original(fn);
    };
    const source = await f.service.resolveSource('p', 'src', 'v1');
    const moved = await f.service.updateStream('p', 'app', { spec, annotations: {} }, undefined, [{ tag: 'v1', source }]);
    assert.ok(raced);
    assert.equal(moved.changed, true);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'app'))?.generation, 3);
    assert.equal(await f.metadata.tags.getTag('p/app', 'v1'), x.digest, 'the spec tag was applied');
  });
});
