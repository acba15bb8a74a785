/**
 * Image streams that track another registry, through the real resource API
 * plugin with the real importer and import scheduler, against CNCF
 * Distribution (`docker-registry`) as the external registry: streams created
 * with `spec.dockerImageRepository` or DockerImage spec tags are imported
 * once in the background (and again when their spec changes).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { request } from 'undici';
import { SecretBox } from '../../../identity/secret-box.ts';
import { DOCKER_REPOSITORY_CHECK_ANNOTATION, ImageStreamImporter } from '../../../imagestreams/image-importer.ts';
import { ImportScheduler } from '../../../imagestreams/import-scheduler.ts';
import { PullSecretService } from '../../../imagestreams/pull-secrets.ts';
import { openRegistryFixture, PULL_SPEC_HOST, type RegistryFixture } from '../../../imagestreams/registry-fixture.ts';
import { RemoteRegistryClient } from '../../../remote/remote-client.ts';
import { assertStatus, ok, startHeldProxy, startImageStreamApi, V1, waitFor, type Answer, type ImageStreamApi, type Json, type Method } from '../../../../test/support/imagestream-api.ts';
import { startRemoteRegistry, testImage, testIndex } from '../../../../test/support/remote-registry.ts';
import type { RemoteRegistry } from '../../../../test/support/remote-registry.ts';

let f: RegistryFixture;
let api: ImageStreamApi;
let app: FastifyInstance;
let remote: RemoteRegistry;
let scheduler: ImportScheduler;
let admin: string;

const images = { latest: testImage('remote-latest', 'docker'), '1.0': testImage('remote-1.0', 'oci'), newer: testImage('remote-newer', 'oci') };
const multi = testIndex('remote-multi', 'oci');

const call = (method: Method, path: string, body?: unknown): Promise<Answer> => api.call(method, path, { auth: admin, body });

const statusTags = (stream: Json) => (stream.status?.['tags'] as Json[]).map((t) => [t['tag'], (t['items'] as Json[]).map((i) => i['image'])]);

/** Waits until the stream's background import has finished (lease and schedule settled) and returns it. */
async function settled(name: string): Promise<Json> {
  await waitFor(`the import of ${name} to settle`, async () => {
    const s = await f.metadata.imageStreams.getStream('p', name);
    return s !== undefined && s.importLeaseOwner === null && s.importedGeneration === s.generation && s.annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION] !== undefined ? s : undefined;
  });
  return ok(await call('GET', `namespaces/p/imagestreams/${encodeURIComponent(name)}`));
}

before(async () => {
  remote = await startRemoteRegistry({ auth: 'none' });
  await remote.pushImage('lib/app', 'latest', images.latest);
  await remote.pushImage('lib/app', '1.0', images['1.0']);
  await remote.pushIndex('lib/app', 'multi', multi);

  f = await openRegistryFixture();
  const metadata = f.metadata;
  const pullSecrets = new PullSecretService({ metadata, secretBox: new SecretBox(randomBytes(32)), clock: Date.now });
  const importer = new ImageStreamImporter({
    metadata,
    secrets: pullSecrets,
    clock: Date.now,
    // The test registry speaks plain HTTP, whatever the stream's import policy says.
    clientFactory: (registry, o) => new RemoteRegistryClient({ registry, credentials: o.credentials, insecure: true, timeoutMs: 10_000, maxRetries: 1 }),
    onImportRequested: () => scheduler.wake(),
  });
  // Polls rarely on its own: what the API makes due is imported at once because it wakes the scheduler.
  scheduler = new ImportScheduler({ metadata, importer, intervalMs: 60 * 60_000, pollMs: 10 * 60_000, clock: Date.now });
  scheduler.start();
  api = await startImageStreamApi({ metadata, imageStreams: f.service, clock: () => f.now, pullSpecHost: PULL_SPEC_HOST, importer, pullSecrets });
  ({ app, admin } = api);
  ok(await call('POST', 'projects', { metadata: { name: 'p' } }), 201);
  ok(await call('POST', 'projects', { metadata: { name: 'q' } }), 201);
});

after(async () => {
  await scheduler?.stop();
  await app?.close();
  await f?.cleanup();
  await remote?.stop();
});

describe('streams that track an external registry, through the API', () => {
  it('a stream created with spec.dockerImageRepository gets every remote tag once, in the background', async () => {
    const ref = `${remote.hostPort}/lib/app`;
    const created = ok(await call('POST', 'namespaces/p/imagestreams', { apiVersion: 'v1', kind: 'ImageStream', metadata: { name: 'app' }, spec: { dockerImageRepository: ref } }), 201);
    assert.equal((created.metadata as Json)['generation'], 1);

    const stream = await settled('app');
    assert.deepEqual(statusTags(stream), [
      ['1.0', [images['1.0'].digest]],
      ['latest', [images.latest.digest]],
      ['multi', [multi.digest]],
    ]);
    const latest = ((stream.status?.['tags'] as Json[]).find((t) => t['tag'] === 'latest')?.['items'] as Json[])[0];
    assert.deepEqual(latest, {
      created: latest?.['created'],
      dockerImageReference: `${ref}@${images.latest.digest}`,
      image: images.latest.digest,
      generation: 1,
      source: { kind: 'import', ref: `${ref}:latest` },
    });
    const annotations = (stream.metadata as Json)['annotations'] as Record<string, string>;
    assert.match(annotations[DOCKER_REPOSITORY_CHECK_ANNOTATION] ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(stream.status?.['conditions'], undefined, 'no failure');
    assert.deepEqual(stream.spec, { dockerImageRepository: ref, tags: [] }, 'the spec is left as the client wrote it');
    // The images' metadata came with them: the tag's Image is complete.
    const istag = ok(await call('GET', 'namespaces/p/imagestreamtags/app:latest'));
    assert.equal(((istag.image as Json)['dockerImageMetadata'] as Json)['Author'], 'test remote-latest');
    assert.equal((istag.image as Json)['dockerImageReference'], `${ref}@${images.latest.digest}`);

    // Once: nothing in the spec is scheduled, so nothing is due any more, and a later push to the remote is not picked up.
    const record = await f.metadata.imageStreams.getStream('p', 'app');
    assert.equal(record?.nextImportAt, null);
    await remote.pushImage('lib/app', 'latest', images.newer);
    assert.equal(await scheduler.pollOnce(), 0);
    assert.equal((await f.metadata.imageStreams.getTag('p', 'app', 'latest'))?.current.imageDigest, images.latest.digest);
    await remote.pushImage('lib/app', 'latest', images.latest);
  });

  it('a DockerImage spec tag without scheduled is imported once when created and once more when its spec changes', async () => {
    const doc = { metadata: { name: 'pinned' }, spec: { tags: [{ name: 'stable', from: { kind: 'DockerImage', name: `${remote.hostPort}/lib/app:1.0` } }] } };
    ok(await call('POST', 'namespaces/p/imagestreams', doc), 201);
    let stream = await settled('pinned');
    assert.deepEqual(statusTags(stream), [['stable', [images['1.0'].digest]]]);
    assert.equal(await scheduler.pollOnce(), 0, 'not scheduled: not due again');

    // A PUT that leaves the spec alone (annotations only) imports nothing.
    const unchanged = ok(await call('PUT', 'namespaces/p/imagestreams/pinned', { ...stream, metadata: { ...(stream.metadata as Json), annotations: { team: 'a' } } }));
    assert.equal((unchanged.metadata as Json)['generation'], 1);
    assert.equal((await f.metadata.imageStreams.getStream('p', 'pinned'))?.nextImportAt, null);

    // A changed spec is imported again, once.
    const changed = { ...unchanged, spec: { tags: [{ name: 'stable', from: { kind: 'DockerImage', name: `${remote.hostPort}/lib/app:latest` } }] } };
    assert.equal((ok(await call('PUT', 'namespaces/p/imagestreams/pinned', changed)).metadata as Json)['generation'], 2);
    stream = await settled('pinned');
    assert.deepEqual(statusTags(stream), [['stable', [images.latest.digest, images['1.0'].digest]]]);
    assert.equal(await scheduler.pollOnce(), 0);
  });

  it('a scheduled spec tag is imported at creation and then re-checked on the interval', async () => {
    const doc = { metadata: { name: 'tracked' }, spec: { tags: [{ name: 'v1', from: { kind: 'DockerImage', name: `${remote.hostPort}/lib/app:1.0` }, importPolicy: { scheduled: true } }] } };
    ok(await call('POST', 'namespaces/p/imagestreams', doc), 201);
    await settled('tracked');
    const record = await f.metadata.imageStreams.getStream('p', 'tracked');
    assert.ok((record?.nextImportAt ?? 0) > Date.now() + 30 * 60_000, 'next check one interval on');
    assert.equal((await f.metadata.imageStreams.getTag('p', 'tracked', 'v1'))?.current.imageDigest, images['1.0'].digest);
  });

  it('a remote repository that does not exist is a condition on the stream, with the check time', async () => {
    ok(await call('POST', 'namespaces/p/imagestreams', { metadata: { name: 'ghost' }, spec: { dockerImageRepository: `${remote.hostPort}/lib/nothing` } }), 201);
    const stream = await settled('ghost');
    assert.deepEqual(stream.status?.['tags'], []);
    const conditions = stream.status?.['conditions'] as Json[];
    assert.equal(conditions.length, 1);
    assert.equal(conditions[0]?.['type'], 'ImportSuccess');
    assert.equal(conditions[0]?.['status'], 'False');
    assert.equal(conditions[0]?.['reason'], 'NotFound');
    assert.match(String(conditions[0]?.['message']), /lib\/nothing/);
  });

  it('a spec changed while its import runs is imported again afterwards', async () => {
    const specA = { tags: [{ name: 'a', from: { kind: 'DockerImage' as const, name: `${remote.hostPort}/lib/app:1.0` } }] };
    const specB = { tags: [{ name: 'b', from: { kind: 'DockerImage' as const, name: `${remote.hostPort}/lib/app:latest` } }] };
    await f.metadata.imageStreams.createStream('p', 'moving', Date.now(), specA, {});
    await f.metadata.imageStreams.scheduleImport('p', 'moving', Date.now());
    // Another process claims it with spec A (generation 1) ...
    const [claimed] = await f.metadata.imageStreams.claimDueImports('racer', Date.now(), 60_000, 1);
    assert.equal(claimed?.name, 'moving');
    assert.equal(claimed.generation, 1);
    // ... and a PUT writes spec B while that import runs.
    await f.metadata.imageStreams.putSpec('p', 'moving', { spec: specB, annotations: {} }, undefined);
    await f.metadata.imageStreams.scheduleImport('p', 'moving', Date.now());
    const racer = new ImageStreamImporter({
      metadata: f.metadata,
      secrets: new PullSecretService({ metadata: f.metadata, secretBox: new SecretBox(randomBytes(32)), clock: Date.now }),
      clock: Date.now,
      clientFactory: (registry, o) => new RemoteRegistryClient({ registry, credentials: o.credentials, insecure: true, timeoutMs: 10_000, maxRetries: 1 }),
    });
    const outcome = await racer.importScheduled(claimed);
    assert.equal(outcome.importedGeneration, 1, 'it covered only the spec it was planned from');
    await f.metadata.imageStreams.finishImport('p', 'moving', 'racer', null, outcome.conditions, outcome.importedGeneration);
    const after = await f.metadata.imageStreams.getStream('p', 'moving');
    assert.equal(after?.generation, 2);
    assert.notEqual(after?.importedGeneration, 2);
    assert.ok(after?.nextImportAt !== null && after?.nextImportAt !== undefined, 'still due: spec B was not imported');
    // The next run imports spec B, and then nothing is due.
    assert.equal(await scheduler.pollOnce(), 1);
    const done = await f.metadata.imageStreams.getStream('p', 'moving');
    assert.equal(done?.importedGeneration, 2);
    assert.equal(done?.nextImportAt, null);
    assert.equal((await f.metadata.imageStreams.getTag('p', 'moving', 'a'))?.current.imageDigest, images['1.0'].digest);
    assert.equal((await f.metadata.imageStreams.getTag('p', 'moving', 'b'))?.current.imageDigest, images.latest.digest);
  });

  it('an imported image tags into another stream, across projects and by digest, as a stream-only item with its remote reference', async () => {
    const ref = `${remote.hostPort}/lib/app`;
    const tagged = ok(await call('PUT', 'namespaces/p/imagestreamtags/copy:prod', { tag: { from: { kind: 'ImageStreamTag', name: 'app:latest' } } }), 201);
    assert.equal(((tagged.image as Json)['metadata'] as Json)['name'], images.latest.digest);
    assert.equal((tagged.image as Json)['dockerImageReference'], `${ref}@${images.latest.digest}`);
    const history = ok(await call('GET', 'namespaces/p/imagestreams/copy/history/prod'));
    assert.deepEqual(history.items?.map((i) => [i['image'], i['dockerImageReference'], i['source']]), [
      [images.latest.digest, `${ref}@${images.latest.digest}`, { kind: 'tag', ref: 'p/app:latest' }],
    ]);
    // Only the stream knows it: no manifest was copied and /v2 has no such tag (blobs stay remote).
    assert.equal(await f.metadata.repositories.getRepository('p/copy'), undefined);
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/copy'), { tag: 'prod' }));
    // The same again is no change.
    const again = ok(await call('PUT', 'namespaces/p/imagestreamtags/copy:prod', { tag: { from: { kind: 'ImageStreamTag', name: 'app:latest' } } }));
    assert.equal(again['generation'], 1);

    // Across projects, by digest; and from a stream-only tag onwards (the remote reference travels with it).
    const byDigest = ok(await call('PUT', 'namespaces/q/imagestreamtags/mirror:one', { tag: { from: { kind: 'ImageStreamImage', name: `app@${images['1.0'].digest}`, namespace: 'p' } } }), 201);
    assert.equal((byDigest.image as Json)['dockerImageReference'], `${ref}@${images['1.0'].digest}`);
    const onwards = ok(await call('PUT', 'namespaces/q/imagestreamtags/mirror:two', { tag: { from: { kind: 'ImageStreamTag', name: 'copy:prod', namespace: 'p' } } }), 201);
    assert.equal((onwards.image as Json)['dockerImageReference'], `${ref}@${images.latest.digest}`);
    const q = ok(await call('GET', 'namespaces/q/imagestreams/mirror'));
    assert.deepEqual(statusTags(q), [['one', [images['1.0'].digest]], ['two', [images.latest.digest]]]);
  });

  it('an imported tag rolls back to an earlier item in one call', async () => {
    // pinned:stable holds 1.0 (generation 1), then latest (generation 2): both imported.
    const rolled = ok(await call('POST', 'namespaces/p/imagestreams/pinned/rollback', { tag: 'stable', generation: 1 }));
    assert.equal(rolled['generation'], 3);
    assert.equal(((rolled.image as Json)['metadata'] as Json)['name'], images['1.0'].digest);
    const history = ok(await call('GET', 'namespaces/p/imagestreams/pinned/history/stable'));
    assert.deepEqual(history.items?.map((i) => [i['generation'], i['image'], i['source']]), [
      [3, images['1.0'].digest, { kind: 'rollback', ref: '1' }],
      [2, images.latest.digest, { kind: 'import', ref: `${remote.hostPort}/lib/app:latest` }],
      [1, images['1.0'].digest, { kind: 'import', ref: `${remote.hostPort}/lib/app:1.0` }],
    ]);
    assert.equal(history.items?.[0]?.['dockerImageReference'], `${remote.hostPort}/lib/app@${images['1.0'].digest}`);
    assertStatus(await call('POST', 'namespaces/p/imagestreams/pinned/rollback', { tag: 'stable', generation: 9 }), 404, 'NotFound');
  });

  it('a pushed tag moved to an imported image leaves /v2; rolled back to the pushed one, /v2 serves it again', async () => {
    const pushed = await f.pushImage('p/mixed', 'v1');
    assert.equal((await f.registry.manifests.resolve(f.repo('p/mixed'), { tag: 'v1' })).digest, pushed.digest);
    ok(await call('PUT', 'namespaces/p/imagestreamtags/mixed:v1', { tag: { from: { kind: 'ImageStreamTag', name: 'app:latest' } } }));
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/mixed'), { tag: 'v1' }), 'no /v2 tag serves what the stream no longer shows');
    assert.equal(ok(await call('GET', 'namespaces/p/imagestreamtags/mixed:v1'))['generation'], 2);
    const rolled = ok(await call('POST', 'namespaces/p/imagestreams/mixed/rollback', { tag: 'v1', generation: 1 }));
    assert.equal(((rolled.image as Json)['metadata'] as Json)['name'], pushed.digest);
    assert.equal((await f.registry.manifests.resolve(f.repo('p/mixed'), { tag: 'v1' })).digest, pushed.digest);
    const history = ok(await call('GET', 'namespaces/p/imagestreams/mixed/history/v1'));
    assert.deepEqual(history.items?.map((i) => [i['image'], (i['source'] as Json)['kind']]), [
      [pushed.digest, 'rollback'],
      [images.latest.digest, 'tag'],
      [pushed.digest, 'push'],
    ]);
  });

  it('POST with spec tags from imported and pushed tags writes all of them, or nothing when a source is missing', async () => {
    const doc = {
      metadata: { name: 'assembled' },
      spec: {
        tags: [
          { name: 'remote', from: { kind: 'ImageStreamTag', name: 'app:1.0' } },
          { name: 'local', from: { kind: 'ImageStreamTag', name: 'mixed:v1' } },
        ],
      },
    };
    const created = ok(await call('POST', 'namespaces/p/imagestreams', doc), 201);
    const pushed = (await f.metadata.imageStreams.getTag('p', 'mixed', 'v1'))?.current.imageDigest;
    assert.deepEqual(statusTags(created), [['local', [pushed]], ['remote', [images['1.0'].digest]]]);
    assert.equal((await f.registry.manifests.resolve(f.repo('p/assembled'), { tag: 'local' })).digest, pushed);
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/assembled'), { tag: 'remote' }));

    // The second source does not exist: 404, and neither the stream nor the first tag was written.
    const missing = `sha256:${'0'.repeat(64)}`;
    const half = { metadata: { name: 'half' }, spec: { tags: [doc.spec.tags[1], { name: 'gone', from: { kind: 'ImageStreamImage', name: `app@${missing}` } }] } };
    assertStatus(await call('POST', 'namespaces/p/imagestreams', half), 404, 'NotFound', /spec\.tags\[1\]\.from/);
    assertStatus(await call('GET', 'namespaces/p/imagestreams/half'), 404, 'NotFound');
    await assert.rejects(f.registry.manifests.resolve(f.repo('p/half'), { tag: 'local' }));
    // An existing stream is refused whole: its tags stay as they were.
    const clash = { metadata: { name: 'assembled' }, spec: { tags: [{ name: 'extra', from: { kind: 'ImageStreamTag', name: 'app:latest' } }] } };
    assertStatus(await call('POST', 'namespaces/p/imagestreams', clash), 409, 'AlreadyExists');
    assert.deepEqual(statusTags(ok(await call('GET', 'namespaces/p/imagestreams/assembled'))).map((t) => t[0]), ['local', 'remote']);
  });

  it('referencePolicy Local shows this registry\'s pull spec as dockerImageReference; Source the remote one', async () => {
    const remoteRef = `${remote.hostPort}/lib/app`;
    const localRef = `${PULL_SPEC_HOST}/p/local-ref@${images['1.0'].digest}`;
    const doc = { metadata: { name: 'local-ref' }, spec: { tags: [{ name: 'v1', from: { kind: 'DockerImage', name: `${remoteRef}:1.0` }, referencePolicy: { type: 'Local' } }] } };
    ok(await call('POST', 'namespaces/p/imagestreams', doc), 201);
    const stream = await settled('local-ref');
    const item = ((stream.status?.['tags'] as Json[])[0]?.['items'] as Json[])[0];
    assert.equal(item?.['dockerImageReference'], localRef);
    assert.deepEqual(item?.['source'], { kind: 'import', ref: `${remoteRef}:1.0` }, 'where it came from stays visible');
    assert.deepEqual((stream.spec?.['tags'] as Json[])[0]?.['referencePolicy'], { type: 'Local' });
    const history = ok(await call('GET', 'namespaces/p/imagestreams/local-ref/history/v1'));
    assert.equal(history.items?.[0]?.['dockerImageReference'], localRef);
    const istag = ok(await call('GET', 'namespaces/p/imagestreamtags/local-ref:v1'));
    assert.equal((istag.image as Json)['dockerImageReference'], localRef);
    assert.deepEqual(istag['tag'] && (istag['tag'] as Json)['referencePolicy'], { type: 'Local' });
    const isimage = ok(await call('GET', `namespaces/p/imagestreamimages/local-ref@${images['1.0'].digest}`));
    assert.equal((isimage.image as Json)['dockerImageReference'], localRef);

    // Tagged onwards into a stream with the default policy, it is the remote image again.
    const copied = ok(await call('PUT', 'namespaces/p/imagestreamtags/copy:from-local', { tag: { from: { kind: 'ImageStreamTag', name: 'local-ref:v1' } } }), 201);
    assert.equal((copied.image as Json)['dockerImageReference'], `${remoteRef}@${images['1.0'].digest}`);

    // Back to Source: the same item shows the remote reference (the spec change imports nothing new).
    const source = { ...stream, spec: { tags: [{ ...doc.spec.tags[0], referencePolicy: { type: 'Source' } }] } };
    ok(await call('PUT', 'namespaces/p/imagestreams/local-ref', source));
    const after = await settled('local-ref');
    const items = (after.status?.['tags'] as Json[])[0]?.['items'] as Json[];
    assert.deepEqual(items.map((i) => i['dockerImageReference']), [`${remoteRef}@${images['1.0'].digest}`]);
  });

  it('POST …/import with Accept: application/x-ndjson answers with progress lines as the import runs, then the stream', async () => {
    // A remote that holds every manifest until this test has seen the first line: that line must
    // arrive while the import runs, before it has written anything (no timing involved).
    const slow = await startHeldProxy(remote);
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const seen: { event: Json; tagsInStream: number; released: boolean }[] = [];
      const res = await request(`${address}${V1}/namespaces/p/imagestreams/progress/import`, {
        method: 'POST',
        headers: { authorization: admin, 'content-type': 'application/json', accept: 'application/x-ndjson' },
        body: JSON.stringify({ from: `${slow.hostPort}/lib/app`, all: true, confirm: true, insecure: true }),
      });
      assert.equal(res.statusCode, 200);
      assert.match(String(res.headers['content-type']), /^application\/x-ndjson/);
      let buffered = '';
      let released = false;
      for await (const chunk of res.body) {
        buffered += String(chunk);
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const event = JSON.parse(buffered.slice(0, nl)) as Json;
          buffered = buffered.slice(nl + 1);
          const tags = await f.metadata.imageStreams.listTags('p', 'progress', { limit: 10 });
          seen.push({ event, tagsInStream: tags.length, released });
          if (!released) {
            released = true;
            slow.release();
          }
        }
      }
      assert.equal(buffered, '');
      const events = seen.map((s) => s.event);
      assert.deepEqual(events[0], { type: 'progress', phase: 'tags', found: 3 });
      const manifests = events.filter((e) => e['phase'] === 'manifest');
      assert.deepEqual(manifests.map((e) => e['done']), [1, 2, 3]);
      assert.deepEqual(manifests.map((e) => e['tag']).sort(), ['1.0', 'latest', 'multi']);
      assert.ok(manifests.every((e) => e['total'] === 3));
      const last = events.at(-1);
      assert.equal(last?.['type'], 'result');
      const stream = last?.['object'] as Json;
      assert.equal(stream['kind'], 'ImageStream');
      assert.deepEqual(statusTags(stream).map((t) => t[0]), ['1.0', 'latest', 'multi']);
      assert.equal((stream['importResult'] as Json)['tagsFound'], 3);
      // The first line came while every manifest was still held: before the import wrote anything to the stream.
      assert.equal(seen[0]?.released, false);
      assert.equal(seen[0]?.tagsInStream, 0, JSON.stringify(seen.map((s) => [s.event['type'], s.tagsInStream])));
      assert.ok(slow.held() >= 3, 'every manifest went through the held proxy');
    } finally {
      await slow.stop();
    }

    // A bad request is refused before the answer begins: its own status and a plain Status body, no lines.
    const bad = await app.inject({
      method: 'POST',
      url: `${V1}/namespaces/p/imagestreams/progress/import`,
      headers: { authorization: admin, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      payload: JSON.stringify({ from: 'Not A Reference!' }),
    });
    assert.equal(bad.statusCode, 422, bad.body);
    assert.match(String(bad.headers['content-type']), /^application\/json/);
    assert.deepEqual([(JSON.parse(bad.body) as Json)['kind'], (JSON.parse(bad.body) as Json)['reason']], ['Status', 'Invalid']);
    // What is refused before the import starts keeps its own status and a plain Status body.
    const missing = await app.inject({
      method: 'POST',
      url: `${V1}/namespaces/p/imagestreams/nosuch/import`,
      headers: { authorization: admin, 'content-type': 'application/json', accept: 'application/x-ndjson' },
      payload: JSON.stringify({ from: `${remote.hostPort}/lib/app` }),
    });
    assert.equal(missing.statusCode, 404);
    assert.equal((JSON.parse(missing.body) as Json)['reason'], 'NotFound');
  });
});
