/**
 * Pruning tag history through the real resource API plugin (who may prune is
 * in image-stream-rbac.test.ts): a dry run reports and changes nothing; a
 * prune keeps each live tag's newest items and its current item (after a
 * rollback, an old image), removes a deleted tag's history, leaves every
 * manifest and blob in place, and with keepYoungerThanSeconds keeps what is
 * recent; of one stream or of every stream of the project.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { openRegistryFixture, PULL_SPEC_HOST, type PushedImage, type RegistryFixture } from '../../../imagestreams/registry-fixture.ts';
import { parseDigest } from '../../../oci/digest.ts';
import { assertStatus, ok, startImageStreamApi, type Answer, type ImageStreamApi, type Json, type Method } from '../../../../test/support/imagestream-api.ts';

let f: RegistryFixture;
let api: ImageStreamApi;
let app: FastifyInstance;
let admin: string;

const call = (method: Method, path: string, body?: unknown): Promise<Answer> => api.call(method, path, { auth: admin, body });

/** `[stream, tag, generation, image]` of each item a prune answer lists. */
const prunedOf = (answer: Json): unknown[][] =>
  ((answer['status'] as Json)['pruned'] as Json[]).map((i) => [i['stream'], i['tag'], i['generation'], i['image']]);

/** `[generation, image]` of a tag's whole history, through the API. */
async function history(stream: string, tag: string): Promise<unknown[][]> {
  const list = ok(await call('GET', `namespaces/p/imagestreams/${stream}/history/${tag}`));
  return (list['items'] as Json[]).map((i) => [i['generation'], i['image']]);
}

const resourceVersion = async (stream: string): Promise<string> => String((ok(await call('GET', `namespaces/p/imagestreams/${stream}`))['metadata'] as Json)['resourceVersion']);

const pushed: PushedImage[] = [];
/** app:v1 pushed four times, then rolled back to its first image (generation 5). */
const v1: PushedImage[] = [];
const gone: PushedImage[] = [];
const lib: PushedImage[] = [];

async function push(repository: string, tag: string, into: PushedImage[]): Promise<void> {
  const image = await f.pushImage(repository, tag, { layerSizes: [100 + pushed.length] });
  pushed.push(image);
  into.push(image);
  f.now += 1000;
}

before(async () => {
  f = await openRegistryFixture();
  api = await startImageStreamApi({ metadata: f.metadata, imageStreams: f.service, clock: () => f.now, pullSpecHost: PULL_SPEC_HOST });
  ({ app, admin } = api);
  ok(await call('POST', 'projects', { metadata: { name: 'p' } }), 201);

  for (let i = 0; i < 4; i++) await push('p/app', 'v1', v1);
  ok(await call('POST', 'namespaces/p/imagestreams/app/rollback', { tag: 'v1', generation: 1 }));
  for (let i = 0; i < 2; i++) await push('p/app', 'gone', gone);
  ok(await call('DELETE', 'namespaces/p/imagestreamtags/app:gone'));
  for (let i = 0; i < 3; i++) await push('p/lib', 'latest', lib);
});

after(async () => {
  await app?.close();
  await f?.cleanup();
});

describe('pruning image stream history', () => {
  const d = (images: PushedImage[], i: number) => images[i]?.digest;

  it('a dry run lists what would go and changes nothing', async () => {
    const rv = await resourceVersion('app');
    const dry = ok(await call('POST', 'namespaces/p/imagestreams/app/prune', { apiVersion: 'berth.dev/v1', kind: 'ImageStreamPrune', spec: { keepTagRevisions: 2, dryRun: true } }));
    assert.equal(dry['kind'], 'ImageStreamPrune');
    assert.equal(dry['apiVersion'], 'berth.dev/v1');
    assert.deepEqual(dry['metadata'], { namespace: 'p', name: 'app' });
    assert.deepEqual(dry['spec'], { keepTagRevisions: 2, keepYoungerThanSeconds: 0, dryRun: true });
    assert.equal((dry['status'] as Json)['imageStreams'], 1);
    assert.deepEqual(prunedOf(dry), [
      ['app', 'gone', 2, d(gone, 1)],
      ['app', 'gone', 1, d(gone, 0)],
      ['app', 'v1', 3, d(v1, 2)],
      ['app', 'v1', 2, d(v1, 1)],
      ['app', 'v1', 1, d(v1, 0)],
    ]);
    const item = ((dry['status'] as Json)['pruned'] as Json[])[2];
    assert.deepEqual(item, {
      stream: 'app',
      tag: 'v1',
      created: new Date(Date.UTC(2026, 4, 1) + 2000).toISOString(),
      dockerImageReference: `${PULL_SPEC_HOST}/p/app@${d(v1, 2)}`,
      image: d(v1, 2),
      generation: 3,
      source: { kind: 'push' },
    });
    assert.equal((await history('app', 'v1')).length, 5);
    assert.equal((await history('app', 'gone')).length, 2);
    assert.equal(await resourceVersion('app'), rv);
  });

  it('a prune keeps the newest items and the current one, removes a deleted tag\'s history, and no manifest or blob', async () => {
    const rv = await resourceVersion('app');
    const done = ok(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keepTagRevisions: 2, dryRun: false } }));
    assert.deepEqual(done['spec'], { keepTagRevisions: 2, keepYoungerThanSeconds: 0, dryRun: false });
    assert.equal(prunedOf(done).length, 5);
    // Generation 5 is the rollback to the first image: the current item, kept with generation 4.
    assert.deepEqual(await history('app', 'v1'), [[5, d(v1, 0)], [4, d(v1, 3)]]);
    assert.deepEqual(await history('app', 'gone'), []);
    assert.notEqual(await resourceVersion('app'), rv);
    const stream = ok(await call('GET', 'namespaces/p/imagestreams/app'));
    assert.deepEqual(((stream['status'] as Json)['tags'] as Json[]).map((t) => [t['tag'], (t['items'] as Json[]).map((i) => i['generation'])]), [['v1', [5, 4]]]);
    assert.equal((ok(await call('GET', 'namespaces/p/imagestreamtags/app:v1'))['image'] as Json & { metadata: Json })['metadata']['name'], d(v1, 0));

    // Metadata only: every manifest is still served by digest, every layer is still stored, the images are still the project's.
    for (const image of pushed) {
      const repository = lib.includes(image) ? 'p/lib' : 'p/app';
      assert.equal((await f.registry.manifests.resolve(f.repo(repository), { digest: parseDigest(image.digest) })).digest, image.digest);
      for (const layer of image.layers) assert.ok(await f.metadata.blobs.getBlob(layer.digest), `layer ${layer.digest} is still recorded`);
      ok(await call('GET', `namespaces/p/images/${image.digest}`));
    }
    assert.deepEqual(prunedOf(ok(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keepTagRevisions: 2 } }))), [], 'nothing left');
  });

  it('of every stream of the project, with the defaults (keep 3) and with fewer kept', async () => {
    const defaults = ok(await call('POST', 'namespaces/p/imagestreamprunes'));
    assert.deepEqual(defaults['metadata'], { namespace: 'p' });
    assert.deepEqual(defaults['spec'], { keepTagRevisions: 3, keepYoungerThanSeconds: 0, dryRun: false });
    assert.deepEqual(defaults['status'], { imageStreams: 2, pruned: [] });
    const one = ok(await call('POST', 'namespaces/p/imagestreamprunes', { spec: { keepTagRevisions: 1 } }));
    assert.deepEqual(prunedOf(one), [
      ['app', 'v1', 4, d(v1, 3)],
      ['lib', 'latest', 2, d(lib, 1)],
      ['lib', 'latest', 1, d(lib, 0)],
    ]);
    assert.deepEqual(await history('lib', 'latest'), [[3, d(lib, 2)]]);
    assert.deepEqual(await history('app', 'v1'), [[5, d(v1, 0)]]);
  });

  it('keepYoungerThanSeconds keeps what was recorded recently', async () => {
    f.now += 2 * 3600_000;
    for (let i = 0; i < 2; i++) await push('p/lib', 'latest', lib);
    // lib:latest is now generations 5, 4 (just pushed) and 3 (two hours old).
    const spec = { keepTagRevisions: 1, keepYoungerThanSeconds: 3600 };
    assert.deepEqual(prunedOf(ok(await call('POST', 'namespaces/p/imagestreams/lib/prune', { spec }))), [['lib', 'latest', 3, d(lib, 2)]]);
    assert.deepEqual(await history('lib', 'latest'), [[5, d(lib, 4)], [4, d(lib, 3)]]);
  });

  it('refuses what it cannot do, as Status', async () => {
    assertStatus(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keepTagRevisions: 0 } }), 422, 'Invalid', /spec\.keepTagRevisions: must be at least 1/);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keepTagRevisions: 1.5 } }), 422, 'Invalid', /spec\.keepTagRevisions/);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keepYoungerThanSeconds: -1 } }), 422, 'Invalid', /spec\.keepYoungerThanSeconds/);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/app/prune', { spec: { keep: 1 } }), 422, 'Invalid', /unknown field "spec\.keep"/);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/app/prune', { metadata: { name: 'lib' } }), 422, 'Invalid', /metadata\.name/);
    assertStatus(await call('POST', 'namespaces/p/imagestreamprunes', { metadata: { namespace: 'q' } }), 422, 'Invalid', /metadata\.namespace/);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/nosuch/prune', {}), 404, 'NotFound');
    assertStatus(await call('POST', 'namespaces/nosuch/imagestreamprunes', {}), 404, 'NotFound', /project "nosuch" not found/);
    assert.deepEqual(await history('lib', 'latest'), [[5, d(lib, 4)], [4, d(lib, 3)]], 'a refused prune removed nothing');
  });
});
