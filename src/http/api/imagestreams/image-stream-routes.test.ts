import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../../authz/authorizer.ts';
import type { ImageImporter, ImportPlan, ImportRequest, ImportResult, PullSecrets, PullSecretView } from '../../../imagestreams/import-contract.ts';
import { openRegistryFixture, PULL_SPEC_HOST, type PushedImage, type RegistryFixture } from '../../../imagestreams/registry-fixture.ts';
import { MEDIA_TYPES } from '../../../oci/media-types.ts';
import { assertStatus, basic, ok, startImageStreamApi, V1, type Answer, type ImageStreamApi, type Json, type Method } from '../../../../test/support/imagestream-api.ts';

// --- test doubles of the import contract (the real importer and secret store are written elsewhere) ----------

/** TEST DOUBLE of ImageImporter: records each call and "imports" one tag by recording an already pushed image. */
class RecordingImporter implements ImageImporter {
  readonly calls: { project: string; stream: string; request: ImportRequest; actor: Principal }[] = [];
  /** What the next import records: tag → an image the registry already holds. */
  next: { tag: string; image: PushedImage } | undefined;
  readonly #f: () => RegistryFixture;
  constructor(f: () => RegistryFixture) {
    this.#f = f;
  }
  async planImport(project: string, stream: string, request: ImportRequest, actor: Principal): Promise<ImportPlan> {
    this.calls.push({ project, stream, request, actor });
    return { project, stream };
  }
  async runImport({ project, stream }: ImportPlan): Promise<ImportResult> {
    const next = this.next;
    if (next === undefined) return { project, stream, tagsFound: 0, imported: [], failed: [{ tag: 'latest', reason: 'NotFound', message: 'no such tag' }] };
    await this.#f().metadata.imageStreams.addTagItem(project, stream, next.tag, {
      createdAt: this.#f().now,
      imageDigest: next.image.digest,
      dockerImageReference: `remote.example.com/lib/thing@${next.image.digest}`,
      sourceKind: 'import',
      sourceRef: 'remote.example.com/lib/thing:1.0',
    });
    return { project, stream, tagsFound: 1, imported: [{ tag: next.tag, digest: next.image.digest, changed: true }], failed: [] };
  }
  /** How often the routes woke the scheduler. */
  wakes = 0;
  wakeScheduler(): void {
    this.wakes++;
  }
}

/** TEST DOUBLE of PullSecrets: in memory, keeps the auth.json text it was given (so a leak would show). */
class MemoryPullSecrets implements PullSecrets {
  readonly #secrets = new Map<string, { view: PullSecretView; config: string }>();
  async create(project: string, name: string, dockerConfigJson: string): Promise<PullSecretView> {
    const auths = (JSON.parse(dockerConfigJson) as { auths: Record<string, unknown> }).auths;
    const view: PullSecretView = { project, name, type: 'kubernetes.io/dockerconfigjson', registries: Object.keys(auths).sort(), createdAt: Date.UTC(2026, 4, 1) };
    this.#secrets.set(`${project}/${name}`, { view, config: dockerConfigJson });
    return view;
  }
  async list(project: string): Promise<PullSecretView[]> {
    return [...this.#secrets.values()].filter((s) => s.view.project === project).map((s) => s.view);
  }
  async get(project: string, name: string): Promise<PullSecretView> {
    const found = this.#secrets.get(`${project}/${name}`);
    if (found === undefined) throw new Error('not found');
    return found.view;
  }
  async delete(project: string, name: string): Promise<void> {
    this.#secrets.delete(`${project}/${name}`);
  }
  async credentialsFor(): Promise<undefined> {
    return undefined;
  }
  configOf(project: string, name: string): string | undefined {
    return this.#secrets.get(`${project}/${name}`)?.config;
  }
}

// --- the app ---------------------------------------------------------------------------------------------------

let f: RegistryFixture;
let api: ImageStreamApi;
let app: FastifyInstance;
const importer = new RecordingImporter(() => f);
const secrets = new MemoryPullSecrets();
let admin: string;

const alice = basic('alice', 'alice-password');
const bob = basic('bob', 'bob-password'); // registry-viewer in alpha
const carol = basic('carol', 'carol-password'); // registry-editor in alpha
const dave = basic('dave', 'dave-password'); // registry-editor in beta only

const call = (method: Method, path: string, auth?: string, body?: unknown): Promise<Answer> => api.call(method, path, { auth, body });

const tagsOf = (stream: Json) => (stream.status?.['tags'] as Json[]).map((t) => [t['tag'], (t['items'] as Json[]).map((i) => i['image'])]);

before(async () => {
  f = await openRegistryFixture();
  api = await startImageStreamApi({ metadata: f.metadata, imageStreams: f.service, clock: () => f.now, pullSpecHost: PULL_SPEC_HOST, importer, pullSecrets: secrets });
  ({ app, admin } = api);

  for (const name of ['alice', 'bob', 'carol', 'dave']) ok(await call('POST', 'users', admin, { metadata: { name }, spec: { password: `${name}-password` } }), 201);
  ok(await call('POST', 'projects', alice, { metadata: { name: 'alpha' } }), 201);
  ok(await call('POST', 'projects', alice, { metadata: { name: 'beta' } }), 201);
  ok(await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice, { kind: 'User', name: 'bob' }), 201);
  ok(await call('POST', 'namespaces/alpha/rolebindings/registry-editor/subjects', alice, { kind: 'User', name: 'carol' }), 201);
  ok(await call('POST', 'namespaces/beta/rolebindings/registry-editor/subjects', alice, { kind: 'User', name: 'dave' }), 201);
});

after(async () => {
  await app.close();
  await f.cleanup();
});

describe('image streams API', () => {
  it('accepts the OpenShift ImageStream document verbatim and answers with its status shape', async () => {
    const seed = { apiVersion: 'v1', kind: 'ImageStream', metadata: { name: 'ruby' }, spec: { dockerImageRepository: 'openshift/ruby-20-centos7' } };
    const created = ok(await call('POST', 'namespaces/alpha/imagestreams', carol, seed), 201);
    const meta = created.metadata as Json;
    assert.equal(created['apiVersion'], 'berth.dev/v1');
    assert.equal(created['kind'], 'ImageStream');
    assert.equal(meta['name'], 'ruby');
    assert.equal(meta['namespace'], 'alpha');
    assert.match(String(meta['uid']), /^[0-9a-f-]{36}$/);
    assert.equal(meta['resourceVersion'], '1');
    assert.equal(meta['generation'], 1);
    assert.match(String(meta['creationTimestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(meta['annotations'], {});
    assert.deepEqual(created.spec, { dockerImageRepository: 'openshift/ruby-20-centos7', tags: [] });
    assert.deepEqual(created.status, { dockerImageRepository: `${PULL_SPEC_HOST}/alpha/ruby`, tags: [] });
    assert.deepEqual(ok(await call('GET', 'namespaces/alpha/imagestreams/ruby', bob)), created);
    const openshift = ok(await call('POST', 'namespaces/alpha/imagestreams', carol, { ...seed, apiVersion: 'image.openshift.io/v1', metadata: { name: 'ruby2' } }), 201);
    assert.equal(openshift['apiVersion'], 'berth.dev/v1');
    assert.equal(importer.wakes, 2, 'each creation woke the scheduler once (the write itself made the stream due)');

    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', carol, seed), 409, 'AlreadyExists');
    const unknown = await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: { name: 'x', labels: { a: 'b' } }, spec: { dockerImageRepo: 'x' } });
    assertStatus(unknown, 422, 'Invalid', /metadata\.labels/);
    assert.match(String(unknown.json['message']), /spec\.dockerImageRepo/);
    const causes = (unknown.json['details'] as Json)['causes'] as Json[];
    assert.deepEqual(causes.map((c) => c['field']).sort(), ['metadata', 'spec']);
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: {} }), 422, 'Invalid', /metadata\.name/);
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: { name: 'Bad_Name' } }), 422, 'Invalid', /metadata\.name/);
    assertStatus(await call('POST', 'namespaces/nope/imagestreams', admin, seed), 404, 'NotFound', /project "nope" not found/);
    assertStatus(await call('GET', 'namespaces/nope/imagestreams', admin), 404, 'NotFound', /project "nope" not found/);

    // Creating it asked the scheduler for a first import at once (stream
    // creation reads the system clock: the plugin gets no clock of its own).
    const due = await f.metadata.imageStreams.claimDueImports('test-scheduler', Date.now() + 1000, 60_000, 10);
    assert.deepEqual(due.map((s) => s.name).sort(), ['ruby', 'ruby2']);
    // A failed import recorded by the importer shows as the tag's condition.
    await f.metadata.imageStreams.finishImport('alpha', 'ruby', 'test-scheduler', null, [
      { type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'authentication required', tag: 'latest', lastTransitionTime: f.now },
    ]);
    await f.metadata.imageStreams.finishImport('alpha', 'ruby2', 'test-scheduler', null, []);
    const failed = ok(await call('GET', 'namespaces/alpha/imagestreams/ruby', bob));
    assert.deepEqual(failed.status?.['tags'], [
      { tag: 'latest', items: [], conditions: [{ type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'authentication required', lastTransitionTime: new Date(f.now).toISOString(), generation: 1 }] },
    ]);
  });

  it('PUT replaces the spec under a resourceVersion precondition (stale → 409 Conflict); server annotations stay', async () => {
    const current = ok(await call('GET', 'namespaces/alpha/imagestreams/ruby', carol));
    const rv = String((current.metadata as Json)['resourceVersion']);
    await f.metadata.imageStreams.putSpec('alpha', 'ruby', { spec: { dockerImageRepository: 'openshift/ruby-20-centos7' }, annotations: { 'image.berth.dev/dockerRepositoryCheck': '2026-05-01T00:00:00Z' } }, undefined);
    const stale = { ...current, metadata: { ...(current.metadata as Json), resourceVersion: rv } };
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreams/ruby', carol, stale), 409, 'Conflict', /resourceVersion/);

    const fresh = ok(await call('GET', 'namespaces/alpha/imagestreams/ruby', carol));
    const spec = { dockerImageRepository: 'openshift/ruby-20-centos7', tags: [{ name: '3.3', from: { kind: 'DockerImage', name: 'docker.io/library/ruby:3.3' }, importPolicy: { scheduled: true }, referencePolicy: { type: 'Local' } }] };
    const updated = ok(await call('PUT', 'namespaces/alpha/imagestreams/ruby', carol, { ...fresh, metadata: { ...(fresh.metadata as Json), annotations: { team: 'web', 'image.berth.dev/dockerRepositoryCheck': 'forged', 'image.berth.dev/other': 'x' } }, spec }));
    const meta = updated.metadata as Json;
    assert.equal(meta['generation'], 2);
    assert.ok(Number(meta['resourceVersion']) > Number((fresh.metadata as Json)['resourceVersion']));
    assert.deepEqual(meta['annotations'], { team: 'web', 'image.berth.dev/dockerRepositoryCheck': '2026-05-01T00:00:00Z' });
    assert.deepEqual(updated.spec, {
      dockerImageRepository: 'openshift/ruby-20-centos7',
      tags: [{ name: '3.3', from: { kind: 'DockerImage', name: 'docker.io/library/ruby:3.3' }, importPolicy: { scheduled: true, insecure: false }, referencePolicy: { type: 'Local' } }],
    });
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreams/ruby', carol, { metadata: { name: 'other' } }), 422, 'Invalid', /metadata\.name/);
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreams/missing', carol, { metadata: {} }), 404, 'NotFound');
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreams/ruby', bob, { metadata: {} }), 403, 'Forbidden', /user "bob" may not update image streams in project "alpha"/);
  });

  it('a spec stored in an earlier form (no importPolicy, referencePolicy Source), PUT back as a GET shows it, keeps its generation', async () => {
    ok(await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: { name: 'older' } }), 201);
    const earlier = { dockerImageRepository: 'registry.example.com/lib/older', tags: [{ name: 'v1', from: { kind: 'DockerImage' as const, name: 'registry.example.com/lib/older:v1' }, annotations: {}, referencePolicy: { type: 'Source' as const } }] };
    const stored = await f.metadata.imageStreams.putSpec('alpha', 'older', { spec: earlier, annotations: {} }, undefined);
    const shown = ok(await call('GET', 'namespaces/alpha/imagestreams/older', carol));
    const again = ok(await call('PUT', 'namespaces/alpha/imagestreams/older', carol, shown));
    assert.equal((again.metadata as Json)['generation'], stored.generation);
    assert.deepEqual((await f.metadata.imageStreams.getStream('alpha', 'older'))?.spec, earlier, 'the stored text stays as it was');
    // A real change still moves it.
    const tags = [{ name: 'v1', from: { kind: 'DockerImage', name: 'registry.example.com/lib/older:v1' }, importPolicy: { scheduled: true } }];
    const moved = ok(await call('PUT', 'namespaces/alpha/imagestreams/older', carol, { ...again, spec: { ...(again.spec as Json), tags } }));
    assert.equal((moved.metadata as Json)['generation'], stored.generation + 1);
  });

  let first: PushedImage;
  let second: PushedImage;

  it('after pushes, tags, history and image metadata are what was pushed', async () => {
    first = await f.pushImage('alpha/app', 'v1', { author: 'Ann <ann@example.com>', created: '2026-03-01T10:00:00Z', labels: { tier: 'web' }, layerSizes: [10, 20, 30] });
    f.now += 1000;
    second = await f.pushImage('alpha/app', 'v1', { author: 'Ben', created: '2026-04-01T10:00:00Z', labels: { tier: 'api' }, layerSizes: [40] });
    await f.pushImage('alpha/app', undefined); // by digest only: no history item

    const stream = ok(await call('GET', 'namespaces/alpha/imagestreams/app', bob));
    assert.deepEqual(tagsOf(stream), [['v1', [second.digest, first.digest]]]);
    const items = (stream.status?.['tags'] as Json[])[0]?.['items'] as Json[];
    assert.deepEqual(items[0], {
      created: new Date(f.now).toISOString(),
      dockerImageReference: `${PULL_SPEC_HOST}/alpha/app@${second.digest}`,
      image: second.digest,
      generation: 2,
      source: { kind: 'push' },
    });
    assert.equal(items[1]?.['generation'], 1);

    const istag = ok(await call('GET', 'namespaces/alpha/imagestreamtags/app:v1', bob));
    assert.equal(istag['kind'], 'ImageStreamTag');
    assert.deepEqual(istag.metadata, { name: 'app:v1', namespace: 'alpha', creationTimestamp: new Date(f.now).toISOString() });
    assert.equal(istag['generation'], 2);
    assert.equal(istag['tag'], null);
    const image = istag.image as Json;
    assert.equal((image.metadata as Json)['name'], second.digest);
    assert.equal(image['dockerImageReference'], `${PULL_SPEC_HOST}/alpha/app@${second.digest}`);
    assert.equal(image['dockerImageManifestMediaType'], MEDIA_TYPES.ociManifest);
    assert.equal(image['dockerImageConfigDigest'], second.configDigest);
    const dim = image['dockerImageMetadata'] as Json;
    assert.equal(dim['Author'], 'Ben');
    assert.equal(dim['Created'], '2026-04-01T10:00:00Z');
    assert.equal(dim['Architecture'], 'amd64');
    assert.equal(dim['Os'], 'linux');
    assert.deepEqual(dim['Config'], { Env: ['PATH=/usr/bin'], Cmd: ['/app'], ExposedPorts: { '8080/tcp': {} }, Labels: { tier: 'api' } });
    assert.deepEqual(image['dockerImageLayers'], second.layers.map((l) => ({ name: l.digest, size: l.size, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' })));
    assert.deepEqual((image['dockerImageHistory'] as Json[]).map((h) => [h['createdBy'], h['emptyLayer']]), [['COPY layer0 /', false], ['CMD ["/app"]', true]]);

    // The older image by digest, through the stream and through the project.
    const isimage = ok(await call('GET', `namespaces/alpha/imagestreamimages/app@${first.digest}`, bob));
    assert.equal(isimage['kind'], 'ImageStreamImage');
    assert.equal((isimage.metadata as Json)['name'], `app@${first.digest}`);
    const older = isimage.image as Json;
    assert.equal((older['dockerImageMetadata'] as Json)['Author'], 'Ann <ann@example.com>');
    assert.deepEqual((older['dockerImageMetadata'] as Json)['Config'] && ((older['dockerImageMetadata'] as Json)['Config'] as Json)['Labels'], { tier: 'web' });
    assert.deepEqual((older['dockerImageLayers'] as Json[]).map((l) => l['size']), [10, 20, 30]);
    assert.equal(ok(await call('GET', `namespaces/alpha/images/${first.digest}`, bob))['dockerImageReference'], `${PULL_SPEC_HOST}/alpha/app@${first.digest}`);
    // Only through a project that holds it.
    assertStatus(await call('GET', `namespaces/beta/images/${first.digest}`, alice), 404, 'NotFound');
    assertStatus(await call('GET', `namespaces/alpha/images/sha256:${'0'.repeat(64)}`, bob), 404, 'NotFound');
    assertStatus(await call('GET', 'namespaces/alpha/images/nodigest', bob), 400, 'BadRequest');
    assertStatus(await call('GET', 'namespaces/alpha/imagestreamtags/app:nope', bob), 404, 'NotFound');
    assertStatus(await call('GET', 'namespaces/alpha/imagestreamtags/app', bob), 400, 'BadRequest');

    // History pages newest first.
    const page1 = ok(await call('GET', 'namespaces/alpha/imagestreams/app/history/v1?limit=1', bob));
    assert.equal(page1['kind'], 'TagEventList');
    assert.deepEqual(page1.items?.map((i) => i['image']), [second.digest]);
    const cont = String(page1.metadata?.['continue']);
    const page2 = ok(await call('GET', `namespaces/alpha/imagestreams/app/history/v1?limit=1&continue=${cont}`, bob));
    assert.deepEqual(page2.items?.map((i) => i['image']), [first.digest]);
    assert.deepEqual(page2.metadata, {});
    assertStatus(await call('GET', 'namespaces/alpha/imagestreams/app/history/v1?continue=garbage!', bob), 400, 'BadRequest');
  });

  it('a stream name with "/" is percent-encoded in URLs; a manifest list records each platform', async () => {
    const amd = await f.pushImage('alpha/team/multi', undefined, { architecture: 'amd64' });
    const arm = await f.pushImage('alpha/team/multi', undefined, { architecture: 'arm64', variant: 'v8' });
    const index = await f.pushIndex('alpha/team/multi', 'latest', [
      { image: amd, architecture: 'amd64' },
      { image: arm, architecture: 'arm64', variant: 'v8' },
    ]);
    const stream = ok(await call('GET', 'namespaces/alpha/imagestreams/team%2Fmulti', bob));
    assert.equal((stream.metadata as Json)['name'], 'team/multi');
    assert.equal((stream.status as Json)['dockerImageRepository'], `${PULL_SPEC_HOST}/alpha/team/multi`);
    assert.deepEqual(tagsOf(stream), [['latest', [index.digest]]]);
    const image = ok(await call('GET', 'namespaces/alpha/imagestreamtags/team%2Fmulti:latest', bob)).image as Json;
    assert.equal(image['dockerImageManifestMediaType'], MEDIA_TYPES.ociIndex);
    assert.deepEqual(image['dockerImageLayers'], []);
    assert.equal(image['dockerImageMetadata'], undefined);
    assert.deepEqual(image['dockerImageManifests'], [
      { digest: amd.digest, mediaType: MEDIA_TYPES.ociManifest, manifestSize: amd.manifestSize, architecture: 'amd64', os: 'linux' },
      { digest: arm.digest, mediaType: MEDIA_TYPES.ociManifest, manifestSize: arm.manifestSize, architecture: 'arm64', os: 'linux', variant: 'v8' },
    ]);
    // A child of the index is an image of the stream (and of the project) too.
    const child = ok(await call('GET', `namespaces/alpha/imagestreamimages/team%2Fmulti@${arm.digest}`, bob)).image as Json;
    assert.equal((child['dockerImageMetadata'] as Json)['Architecture'], 'arm64');
    assert.equal(child['dockerImageReference'], `${PULL_SPEC_HOST}/alpha/team/multi@${arm.digest}`);
  });

  it('tags across streams and projects: push on the target and pull on the source', async () => {
    const from = { kind: 'ImageStreamTag', name: 'app:v1', namespace: 'alpha' };
    // carol may pull alpha but not push into beta: refused before the body is looked at.
    assertStatus(await call('PUT', 'namespaces/beta/imagestreamtags/copied:prod', carol, { tag: { from } }), 403, 'Forbidden', /may not tag images in project "beta"/);
    // dave may push into beta but not pull alpha.
    assertStatus(await call('PUT', 'namespaces/beta/imagestreamtags/copied:prod', dave, { tag: { from } }), 403, 'Forbidden', /user "dave" may not pull "alpha\/app"/);
    // Refused whether or not the source exists.
    assertStatus(await call('PUT', 'namespaces/beta/imagestreamtags/copied:prod', dave, { tag: { from: { ...from, name: 'ghost:v1' } } }), 403, 'Forbidden');
    // A viewer cannot tag at all.
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreamtags/app:latest', bob, { tag: { from: { kind: 'ImageStreamTag', name: 'app:v1' } } }), 403, 'Forbidden');

    ok(await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice, { kind: 'User', name: 'dave' }), 201);
    const tagged = ok(await call('PUT', 'namespaces/beta/imagestreamtags/copied:prod', dave, { apiVersion: 'image.openshift.io/v1', kind: 'ImageStreamTag', tag: { from } }), 201);
    assert.equal((tagged.image as Json)['metadata'] && ((tagged.image as Json)['metadata'] as Json)['name'], second.digest);
    const history = ok(await call('GET', 'namespaces/beta/imagestreams/copied/history/prod', dave));
    assert.deepEqual(history.items?.map((i) => i['source']), [{ kind: 'tag', ref: 'alpha/app:v1' }]);
    // The /v2 tag moved too (no blob was copied: the target repository links the same manifest).
    assert.equal((await f.registry.manifests.resolve(f.repo('beta/copied'), { tag: 'prod' })).digest, second.digest);
    // Again: the tag existed, so 200; by digest through ImageStreamImage.
    const again = await call('PUT', 'namespaces/beta/imagestreamtags/copied:prod', dave, { tag: { from: { kind: 'ImageStreamImage', name: `app@${first.digest}`, namespace: 'alpha' } } });
    assert.equal(ok(again)['generation'], 2);
    assert.equal(((again.json.image as Json)['metadata'] as Json)['name'], first.digest);
    // Within one project, the namespace defaults to the target's.
    ok(await call('PUT', 'namespaces/alpha/imagestreamtags/app:latest', carol, { tag: { from: { kind: 'ImageStreamTag', name: 'app:v1' } } }), 201);
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreamtags/app:x', carol, { tag: { from: { kind: 'ImageStreamTag', name: 'app:nope' } } }), 404, 'NotFound');
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreamtags/app:x', carol, { tag: { from: { kind: 'DockerImage', name: 'docker.io/x' } } }), 422, 'Invalid', /tag\.from\.kind|Invalid option/);
  });

  it('spec.tags pointing at another stream tag or image are tagged in when the stream is created or its spec changes', async () => {
    // carol may pull and push in alpha. A missing source is refused before anything is written.
    const missing = { metadata: { name: 'mirror' }, spec: { tags: [{ name: 'stable', from: { kind: 'ImageStreamTag', name: 'app:nope' } }] } };
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', carol, missing), 404, 'NotFound', /app:nope/);
    assertStatus(await call('GET', 'namespaces/alpha/imagestreams/mirror', carol), 404, 'NotFound');
    const doc = { metadata: { name: 'mirror' }, spec: { tags: [{ name: 'stable', from: { kind: 'ImageStreamTag', name: 'app:v1' } }] } };
    const created = ok(await call('POST', 'namespaces/alpha/imagestreams', carol, doc), 201);
    const tags = (created['status'] as Json)['tags'] as Json[];
    assert.equal(tags.length, 1);
    const items = (tags[0] as Json)['items'] as Json[];
    assert.equal((items[0] as Json)['image'], second.digest, 'the tag points at the source tag\'s image');
    assert.equal((await f.registry.manifests.resolve(f.repo('alpha/mirror'), { tag: 'stable' })).digest, second.digest, 'and /v2 serves it');
    // A spec change to an ImageStreamImage moves it.
    const stream = ok(await call('GET', 'namespaces/alpha/imagestreams/mirror', carol));
    const changed = { ...stream, spec: { tags: [{ name: 'stable', from: { kind: 'ImageStreamImage', name: `app@${first.digest}` } }] } };
    ok(await call('PUT', 'namespaces/alpha/imagestreams/mirror', carol, changed));
    assert.equal((await f.registry.manifests.resolve(f.repo('alpha/mirror'), { tag: 'stable' })).digest, first.digest);
  });

  it('rolls a tag back to an earlier history item in one call', async () => {
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/app/rollback', bob, { tag: 'v1', generation: 1 }), 403, 'Forbidden');
    const rolled = ok(await call('POST', 'namespaces/alpha/imagestreams/app/rollback', carol, { tag: 'v1', generation: 1 }));
    assert.equal(rolled['kind'], 'ImageStreamTag');
    assert.equal(rolled['generation'], 3);
    assert.equal(((rolled.image as Json)['metadata'] as Json)['name'], first.digest);
    const stream = ok(await call('GET', 'namespaces/alpha/imagestreams/app', bob));
    assert.deepEqual(tagsOf(stream).find((t) => t[0] === 'v1'), ['v1', [first.digest, second.digest, first.digest]]);
    assert.equal((await f.registry.manifests.resolve(f.repo('alpha/app'), { tag: 'v1' })).digest, first.digest);
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/app/rollback', carol, { tag: 'v1', generation: 99 }), 404, 'NotFound');
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/app/rollback', carol, { tag: 'v1' }), 422, 'Invalid', /generation/);
  });

  it('deletes a tag (from /v2 too); its history stays', async () => {
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreamtags/app:latest', carol), 403, 'Forbidden', /may not delete image stream tags/);
    const deleted = ok(await call('DELETE', 'namespaces/alpha/imagestreamtags/app:latest', alice));
    assert.deepEqual(deleted, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200, details: { name: 'app:latest', kind: 'imagestreamtags' } });
    assertStatus(await call('GET', 'namespaces/alpha/imagestreamtags/app:latest', bob), 404, 'NotFound');
    await assert.rejects(f.registry.manifests.resolve(f.repo('alpha/app'), { tag: 'latest' }));
    assert.deepEqual(tagsOf(ok(await call('GET', 'namespaces/alpha/imagestreams/app', bob))).map((t) => t[0]), ['v1']);
    assert.equal(ok(await call('GET', 'namespaces/alpha/imagestreams/app/history/latest', bob)).items?.length, 1);
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreamtags/app:latest', alice), 404, 'NotFound');
  });

  it('imports through the ImageImporter with the caller as actor and answers the stream with the result', async () => {
    ok(await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: { name: 'thing' } }), 201);
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/thing/import', bob, { from: 'remote.example.com/lib/thing:1.0' }), 403, 'Forbidden');
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/thing/import', carol, {}), 422, 'Invalid', /from/);
    // A stored empty spec.dockerImageRepository (the API refuses one; older writers did not) names no remote either, as tracksRemote says.
    ok(await call('POST', 'namespaces/alpha/imagestreams', carol, { metadata: { name: 'blank' } }), 201);
    await f.metadata.imageStreams.putSpec('alpha', 'blank', { spec: { dockerImageRepository: '' }, annotations: {} }, undefined);
    const before = importer.calls.length;
    const blank = await call('POST', 'namespaces/alpha/imagestreams/blank/import', carol, {});
    assertStatus(blank, 422, 'Invalid', /from/);
    assert.equal(((blank.json['details'] as Json)['causes'] as Json[])[0]?.['reason'], 'FieldValueRequired');
    assert.equal(importer.calls.length, before, 'the importer was not asked');
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/ghost/import', carol, { from: 'remote.example.com/x' }), 404, 'NotFound', /confirm/);
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams/thing/import', carol, { from: 'x', bogus: true }), 422, 'Invalid', /bogus/);
    importer.next = { tag: '1.0', image: second };
    const answer = ok(await call('POST', 'namespaces/alpha/imagestreams/thing/import', carol, { from: 'remote.example.com/lib/thing:1.0', insecure: true }));
    const last = importer.calls.at(-1);
    assert.equal(last?.actor.name, 'carol');
    assert.deepEqual(last?.request, { from: 'remote.example.com/lib/thing:1.0', insecure: true });
    assert.equal(answer['kind'], 'ImageStream');
    assert.deepEqual(tagsOf(answer), [['1.0', [second.digest]]]);
    assert.deepEqual(answer['importResult'], { tagsFound: 1, imported: [{ tag: '1.0', image: second.digest, changed: true }], failed: [] });
    assert.deepEqual(((answer.status?.['tags'] as Json[])[0]?.['items'] as Json[])[0]?.['source'], { kind: 'import', ref: 'remote.example.com/lib/thing:1.0' });
    // Progress lines only for a client that names NDJSON with a weight above 0.
    const asked = async (accept: string, body: unknown) =>
      app.inject({ method: 'POST', url: `${V1}/namespaces/alpha/imagestreams/thing/import`, headers: { authorization: carol, 'content-type': 'application/json', accept }, payload: JSON.stringify(body) });
    const refused = await asked('application/x-ndjson;q=0, application/json', { from: 'remote.example.com/lib/thing:1.0' });
    assert.equal(refused.statusCode, 200);
    assert.match(String(refused.headers['content-type']), /^application\/json/);
    assert.equal((JSON.parse(refused.body) as Json)['kind'], 'ImageStream');
    const wildcard = await asked('*/*', { from: 'remote.example.com/lib/thing:1.0' });
    assert.match(String(wildcard.headers['content-type']), /^application\/json/);
    const lines = await asked('application/x-ndjson', { from: 'remote.example.com/lib/thing:1.0' });
    assert.match(String(lines.headers['content-type']), /^application\/x-ndjson/);
    assert.equal((JSON.parse(lines.body.trim().split('\n').at(-1) ?? '{}') as Json)['type'], 'result');
    // --confirm creates the stream first (the importer's job); the API lets it through.
    importer.next = undefined;
    const confirmed = await call('POST', 'namespaces/alpha/imagestreams/fresh/import', carol, { from: 'remote.example.com/lib/fresh', confirm: true });
    assert.equal(importer.calls.at(-1)?.request.confirm, true);
    assertStatus(confirmed, 404, 'NotFound'); // this test double does not create it
  });

  it('pull secrets: admin only, created from data or stringData, never returning credentials', async () => {
    const authJson = JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('robot:s3cret-pass').toString('base64') }, 'quay.io': { username: 'u', password: 'quay-pass' } } });
    const body = { kind: 'Secret', type: 'kubernetes.io/dockerconfigjson', metadata: { name: 'hub' }, data: { '.dockerconfigjson': Buffer.from(authJson).toString('base64') } };
    assertStatus(await call('POST', 'namespaces/alpha/secrets', carol, body), 403, 'Forbidden', /may not manage pull secrets/);
    assertStatus(await call('GET', 'namespaces/alpha/secrets', carol), 403, 'Forbidden');
    assertStatus(await call('GET', 'namespaces/alpha/secrets'), 401, 'Unauthorized');
    const created = await call('POST', 'namespaces/alpha/secrets', alice, body);
    assert.deepEqual(ok(created, 201), {
      apiVersion: 'berth.dev/v1',
      kind: 'Secret',
      metadata: { name: 'hub', namespace: 'alpha', creationTimestamp: '2026-05-01T00:00:00.000Z' },
      type: 'kubernetes.io/dockerconfigjson',
      registries: ['quay.io', 'registry.example.com'],
    });
    assert.equal(secrets.configOf('alpha', 'hub'), authJson, 'the store got the decoded auth.json');
    ok(await call('POST', 'namespaces/alpha/secrets', alice, { metadata: { name: 'text' }, stringData: { '.dockerconfigjson': authJson } }), 201);
    assertStatus(await call('POST', 'namespaces/alpha/secrets', alice, body), 409, 'AlreadyExists');
    assertStatus(await call('POST', 'namespaces/alpha/secrets', alice, { metadata: { name: 'bad' }, stringData: { '.dockerconfigjson': 'not json' } }), 422, 'Invalid', /stringData/);
    assertStatus(await call('POST', 'namespaces/alpha/secrets', alice, { metadata: { name: 'none' } }), 422, 'Invalid', /exactly one/);
    const answers = [
      await call('GET', 'namespaces/alpha/secrets', alice),
      await call('GET', 'namespaces/alpha/secrets/hub', alice),
      await call('GET', 'namespaces/alpha/secrets?limit=1', alice),
      created,
    ];
    for (const a of answers) {
      assert.equal(a.res.statusCode, 200 + (a === created ? 1 : 0), a.res.body);
      for (const secret of ['s3cret-pass', 'quay-pass', Buffer.from('robot:s3cret-pass').toString('base64'), '.dockerconfigjson', 'auths']) {
        assert.ok(!a.res.body.includes(secret), `no ${secret} in ${a.res.body}`);
      }
    }
    assert.deepEqual(answers[0]?.json.items?.map((s) => s.metadata?.['name']), ['hub', 'text']);
    const next = String(answers[2]?.json.metadata?.['continue']);
    assert.deepEqual(ok(await call('GET', `namespaces/alpha/secrets?limit=1&continue=${next}`, alice)).items?.map((s) => s.metadata?.['name']), ['text']);
    assert.equal(ok(await call('DELETE', 'namespaces/alpha/secrets/text', alice))['status'], 'Success');
    assertStatus(await call('GET', 'namespaces/alpha/secrets/text', alice), 404, 'NotFound');
  });

  it('RBAC: viewers read, editors write, admins delete; anonymous 401 until system:unauthenticated is bound', async () => {
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', bob, { metadata: { name: 'v' } }), 403, 'Forbidden', /user "bob" may not create image streams in project "alpha"/);
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreams/app', carol), 403, 'Forbidden', /may not delete image streams/);
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreams/app', bob), 403, 'Forbidden');
    assertStatus(await call('GET', 'namespaces/beta/imagestreams', bob), 403, 'Forbidden');
    const anonymous = await call('GET', 'namespaces/alpha/imagestreams');
    assertStatus(anonymous, 401, 'Unauthorized', /anonymous users may not view image streams/);
    assert.match(String(anonymous.res.headers['www-authenticate']), /^Bearer realm=/);

    ok(await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice, { kind: 'Group', name: 'system:unauthenticated' }), 201);
    assert.ok(ok(await call('GET', 'namespaces/alpha/imagestreams')).items?.some((s) => s.metadata?.['name'] === 'app'));
    ok(await call('GET', 'namespaces/alpha/imagestreamtags/app:v1'));
    ok(await call('GET', `namespaces/alpha/images/${first.digest}`));
    assertStatus(await call('POST', 'namespaces/alpha/imagestreams', undefined, { metadata: { name: 'anon' } }), 401, 'Unauthorized');
    assertStatus(await call('PUT', 'namespaces/alpha/imagestreamtags/app:anon', undefined, { tag: { from: { kind: 'ImageStreamTag', name: 'app:v1' } } }), 401, 'Unauthorized');
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreamtags/app:v1'), 401, 'Unauthorized');
    assertStatus(await call('GET', 'namespaces/alpha/secrets'), 401, 'Unauthorized');
    ok(await call('DELETE', 'namespaces/alpha/rolebindings/registry-viewer/subjects/Group/system:unauthenticated', alice));
    assertStatus(await call('GET', 'namespaces/alpha/imagestreams'), 401, 'Unauthorized');
  });

  it('deleting a stream removes its tags from /v2 and its history', async () => {
    ok(await call('DELETE', 'namespaces/alpha/imagestreams/app', alice));
    assertStatus(await call('GET', 'namespaces/alpha/imagestreams/app', bob), 404, 'NotFound');
    await assert.rejects(f.registry.manifests.resolve(f.repo('alpha/app'), { tag: 'v1' }));
    assert.deepEqual(await f.metadata.imageStreams.listTagItems('alpha', 'app', 'v1', { limit: 10 }), []);
    assertStatus(await call('DELETE', 'namespaces/alpha/imagestreams/app', alice), 404, 'NotFound');
  });

  it('lists 10,000 streams in keyset pages', async () => {
    ok(await call('POST', 'projects', alice, { metadata: { name: 'many' } }), 201);
    const names = Array.from({ length: 10_000 }, (_, i) => `s${String(i).padStart(5, '0')}`);
    await f.metadata.withTransaction(async (tx) => {
      for (const name of names) await tx.imageStreams.createStream('many', name, f.now, {}, {});
    });
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    const started = Date.now();
    do {
      const page = ok(await call('GET', `namespaces/many/imagestreams?limit=1000${cont === undefined ? '' : `&continue=${cont}`}`, alice));
      assert.equal(page['kind'], 'ImageStreamList');
      seen.push(...(page.items ?? []).map((s) => String(s.metadata?.['name'])));
      cont = page.metadata?.['continue'] as string | undefined;
      pages++;
    } while (cont !== undefined);
    assert.equal(pages, 10);
    assert.deepEqual(seen, names);
    assert.ok(Date.now() - started < 30_000, `listing took ${Date.now() - started} ms`);
    // The default page is 500, a larger limit is capped at 1000.
    assert.equal(ok(await call('GET', 'namespaces/many/imagestreams', alice)).items?.length, 500);
    assert.equal(ok(await call('GET', 'namespaces/many/imagestreams?limit=5000', alice)).items?.length, 1000);
    assertStatus(await call('GET', 'namespaces/many/imagestreams?limit=0', alice), 400, 'BadRequest');
  });
});
