/**
 * Real container clients against a running registry over TLS, trusting only
 * the CA the server generated (per-test cert dirs, nothing under /etc):
 * skopeo (Docker v2s2, OCI, multi-arch), podman, buildah, cross-repository
 * mounts, deletes, a 300 MiB layer and concurrent pushes.
 *
 * Test images are generated locally (test/support/oci-images.ts). Every
 * round trip is checked byte for byte: manifests by digest, every blob by
 * its sha256.
 *
 * BERTH_E2E_TARGET=distribution runs the same file against CNCF Distribution.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTarget } from '../support/berth-server.ts';
import type { RegistryServer, RequestLogEntry } from '../support/berth-server.ts';
import { CommandError, createClients } from '../support/container-clients.ts';
import type { ContainerClients } from '../support/container-clients.ts';
import {
  blobPath,
  createImageLayout,
  createIndexLayout,
  listLayoutBlobs,
  MEDIA_TYPES,
  multiArchSpecs,
  readLayoutTag,
  sha256File,
} from '../support/oci-images.ts';
import type { BuiltLayout, ImageSpec, OciIndex, OciManifest } from '../support/oci-images.ts';
import { describeResponse, digestOf, RegistryClient } from '../support/registry-http.ts';

const LABELS = { 'org.opencontainers.image.title': 'berth-e2e', 'org.example.team': 'registry' };

function appImage(appSeed: string, extra: Partial<ImageSpec> = {}): ImageSpec {
  return {
    layers: [
      { size: 2 * 1024 * 1024, seed: 'clients-base-0', files: 4 },
      { size: 512 * 1024, seed: 'clients-base-1', files: 2 },
      { size: 100 * 1024, seed: appSeed },
    ],
    labels: LABELS,
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'APP_MODE=e2e'],
    cmd: ['serve'],
    entrypoint: ['/app/run'],
    exposedPorts: ['8080/tcp'],
    workingDir: '/app',
    user: '1000:1000',
    ...extra,
  };
}

/**
 * Assert that every blob of `original` is in layout `dir` with the same
 * digest (sha256 of the stored file, so byte-identical).
 */
async function assertBlobsIdentical(original: BuiltLayout, dir: string, digests: string[]): Promise<void> {
  const present = await listLayoutBlobs(dir);
  for (const digest of digests) {
    assert.ok(present.has(digest), `blob ${digest} missing from ${dir}`);
    assert.equal(await sha256File(blobPath(dir, digest)), digest, `blob ${digest} in ${dir} is not byte-identical`);
    const size = (await listLayoutBlobs(original.dir)).get(digest);
    assert.equal(present.get(digest), size, `size of ${digest}`);
  }
}

/** Requests in `entries` to `/v2/<repo>/blobs/uploads/...`, with the query decoded. */
function uploadRequests(entries: RequestLogEntry[], repo: string): Array<RequestLogEntry & { query: URLSearchParams }> {
  const prefix = `/v2/${repo}/blobs/uploads/`;
  return entries
    .filter((e) => e.url.startsWith(prefix))
    .map((e) => ({ ...e, query: new URL(e.url, 'http://x').searchParams }));
}

describe('real clients over TLS', { concurrency: false, timeout: 900_000 }, () => {
  let server: RegistryServer;
  let tools: ContainerClients;
  let http: RegistryClient;
  let work: string;
  let single: BuiltLayout;
  let host: string;

  before(async () => {
    // Lower-case on purpose: `podman pull oci:<dir>` names the image after the path.
    work = join(tmpdir(), `berth-e2e-clients-${randomBytes(6).toString('hex')}`);
    await mkdir(work);
    server = await startTarget();
    assert.ok(server.url.startsWith('https://'), `TLS expected, got ${server.url}`);
    assert.ok(server.caPath, 'the server reported its CA certificate');
    tools = await createClients({ workDir: join(work, 'clients'), caPath: server.caPath, credentials: server.credentials, registry: server.hostPort });
    http = await RegistryClient.create(server.url, server.caPath, { credentials: server.credentials });
    host = server.hostPort;
    single = await createImageLayout(join(work, 'single'), 'v1', appImage('clients-app-single'));
  });

  after(async () => {
    await http?.close();
    await tools?.cleanup();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('the client trusts the generated CA and nothing else is needed', async () => {
    const res = await http.request('GET', '/v2/');
    assert.equal(res.status, 200, describeResponse(res));
    // And a client without the CA refuses the server (so the cert-dir flags are what make the rest work).
    const result = await tools.skopeo(['inspect', '--tls-verify=true', `docker://${host}/e2e/nothing:1`], { allowFailure: true });
    assert.notEqual(result.code, 0);
    assert.match(result.stderr, /certificate|x509|unknown authority/i, result.stderr);
  });

  test('skopeo copy in OCI format round-trips byte-identical', async () => {
    const dest = `docker://${host}/e2e/oci-app:1.0`;
    await tools.skopeoCopy(single.ref, dest, ['--format', 'oci', '--preserve-digests']);
    const image = single.images[0];
    assert.ok(image);
    const got = await http.getManifest('e2e/oci-app', '1.0', MEDIA_TYPES.ociManifest);
    assert.equal(got.status, 200, describeResponse(got));
    assert.equal(got.headers['docker-content-digest'], single.digest);
    assert.equal(got.headers['content-type'], MEDIA_TYPES.ociManifest);
    assert.deepEqual(got.body, image.manifestBytes, 'the registry keeps the exact manifest bytes');

    const back = join(work, 'oci-back');
    await tools.skopeoCopy(dest, `oci:${back}:1.0`, ['--preserve-digests']);
    assert.equal((await readLayoutTag(back, '1.0')).digest, single.digest, 'manifest digest after the round trip');
    await assertBlobsIdentical(single, back, single.blobs);
    await rm(back, { recursive: true, force: true });
  });

  test('skopeo copy --format v2s2 stores a Docker schema2 manifest over the same blobs', async () => {
    const dest = `docker://${host}/e2e/docker-app:1.0`;
    await tools.skopeoCopy(single.ref, dest, ['--format', 'v2s2']);
    const raw = await tools.skopeoInspect(dest, ['--raw']);
    const manifest = JSON.parse(raw.stdout) as OciManifest;
    assert.equal(manifest.mediaType, MEDIA_TYPES.dockerManifest);
    const image = single.images[0];
    assert.ok(image);
    assert.equal(manifest.config.digest, image.configDigest);
    assert.equal(manifest.config.mediaType, MEDIA_TYPES.dockerConfig);
    assert.deepEqual(manifest.layers.map((l) => l.digest), image.layers.map((l) => l.digest));
    assert.ok(manifest.layers.every((l) => l.mediaType === MEDIA_TYPES.dockerLayerGzip));

    const got = await http.getManifest('e2e/docker-app', '1.0', `${MEDIA_TYPES.dockerManifest}, ${MEDIA_TYPES.ociManifest}`);
    assert.equal(got.status, 200, describeResponse(got));
    assert.equal(got.headers['content-type'], MEDIA_TYPES.dockerManifest);
    assert.equal(got.text(), raw.stdout, 'raw HTTP and skopeo see the same manifest bytes');
    assert.equal(got.headers['docker-content-digest'], digestOf(got.body));
    const byDigest = await http.getManifest('e2e/docker-app', digestOf(got.body), MEDIA_TYPES.dockerManifest);
    assert.equal(byDigest.status, 200, describeResponse(byDigest));
    assert.deepEqual(byDigest.body, got.body);

    const inspect = JSON.parse((await tools.skopeoInspect(dest)).stdout) as { Labels: Record<string, string>; Digest: string };
    assert.deepEqual(inspect.Labels, LABELS);
    assert.equal(inspect.Digest, digestOf(got.body));

    // Back to a dir: copy (no conversion): manifest, config and layers byte-identical.
    const dirBack = join(work, 'v2s2-dir');
    await tools.skopeoCopy(dest, `dir:${dirBack}`, ['--preserve-digests']);
    assert.deepEqual(await readFile(join(dirBack, 'manifest.json')), got.body);
    for (const digest of [image.configDigest, ...image.layers.map((l) => l.digest)]) {
      assert.equal(await sha256File(join(dirBack, digest.slice('sha256:'.length))), digest, `blob ${digest} from the v2s2 image`);
    }
    await rm(dirBack, { recursive: true, force: true });
    // Back to an OCI layout: skopeo converts manifest and config to OCI, but the layers are the same bytes.
    const back = join(work, 'v2s2-back');
    await tools.skopeoCopy(dest, `oci:${back}:1.0`);
    await assertBlobsIdentical(single, back, image.layers.map((l) => l.digest));
    await rm(back, { recursive: true, force: true });
  });

  test('skopeo copy --all of a multi-arch OCI index round-trips byte-identical', async () => {
    const multi = await createIndexLayout(join(work, 'multi'), 'v1', multiArchSpecs(appImage('clients-app-multi')));
    const dest = `docker://${host}/e2e/multi:1.0`;
    await tools.skopeoCopy(multi.ref, dest, ['--all', '--preserve-digests']);
    const index = await http.getManifest('e2e/multi', '1.0', MEDIA_TYPES.ociIndex);
    assert.equal(index.status, 200, describeResponse(index));
    assert.equal(index.headers['content-type'], MEDIA_TYPES.ociIndex);
    assert.equal(index.headers['docker-content-digest'], multi.digest);
    assert.deepEqual(index.body, multi.index?.bytes);
    const parsed = index.json<OciIndex>();
    assert.deepEqual(parsed.manifests.map((m) => m.platform?.architecture), ['amd64', 'arm64']);
    for (const image of multi.images) {
      const child = await http.getManifest('e2e/multi', image.manifestDigest, MEDIA_TYPES.ociManifest);
      assert.equal(child.status, 200, describeResponse(child));
      assert.deepEqual(child.body, image.manifestBytes);
    }
    const arm = JSON.parse((await tools.skopeoInspect(dest, ['--override-arch', 'arm64', '--override-os', 'linux', '--config'])).stdout) as { architecture: string };
    assert.equal(arm.architecture, 'arm64');

    const back = join(work, 'multi-back');
    await tools.skopeoCopy(dest, `oci:${back}:1.0`, ['--all', '--preserve-digests']);
    assert.equal((await readLayoutTag(back, '1.0')).digest, multi.digest);
    await assertBlobsIdentical(multi, back, multi.blobs);
    await rm(back, { recursive: true, force: true });
    await rm(multi.dir, { recursive: true, force: true });
  });

  test('podman pushes, and a fresh podman pulls the image back with its labels', async () => {
    const remote = `${host}/e2e/podman-app:1.0`;
    await tools.podman('podman-a', ['pull', single.ref]);
    const id = (await tools.podman('podman-a', ['images', '--quiet', '--no-trunc'])).stdout.trim().split('\n')[0];
    assert.ok(id, 'podman stored the image');
    await tools.podman('podman-a', ['push', ...tools.tlsArgs(), id, `docker://${remote}`]);

    await tools.podman('podman-b', ['pull', ...tools.tlsArgs(), remote]);
    const inspect = JSON.parse((await tools.podman('podman-b', ['image', 'inspect', remote])).stdout) as Array<{
      Labels: Record<string, string>;
      Config: { Env: string[]; ExposedPorts: Record<string, unknown>; WorkingDir: string; User: string };
      RootFS: { Layers: string[] };
    }>;
    const first = inspect[0];
    assert.ok(first, 'podman image inspect output');
    for (const [key, value] of Object.entries(LABELS)) assert.equal(first.Labels[key], value, `label ${key}`);
    assert.ok(first.Config.Env.includes('APP_MODE=e2e'));
    assert.ok('8080/tcp' in first.Config.ExposedPorts);
    assert.equal(first.Config.WorkingDir, '/app');
    assert.equal(first.Config.User, '1000:1000');
    assert.deepEqual(first.RootFS.Layers, single.images[0]?.layers.map((l) => l.diffId), 'diff_ids survive the round trip');
  });

  test('buildah builds on the pulled image, commits and pushes', async () => {
    const ctr = (await tools.buildah('buildah', ['from', ...tools.tlsArgs(), `docker://${host}/e2e/podman-app:1.0`])).stdout.trim().split('\n').pop() ?? '';
    assert.ok(ctr, 'buildah from printed a container name');
    const file = join(work, 'added.txt');
    await writeFile(file, 'added by buildah\n');
    await tools.buildah('buildah', ['copy', ctr, file, '/added.txt']);
    await tools.buildah('buildah', ['config', '--label', 'org.example.built-by=buildah', ctr]);
    await tools.buildah('buildah', ['commit', ctr, 'localhost/e2e-buildah:latest']);
    await tools.buildah('buildah', ['push', ...tools.tlsArgs(), 'localhost/e2e-buildah:latest', `docker://${host}/e2e/buildah-app:1.0`]);

    const inspect = JSON.parse((await tools.skopeoInspect(`docker://${host}/e2e/buildah-app:1.0`)).stdout) as {
      Labels: Record<string, string>;
      Layers: string[];
    };
    assert.equal(inspect.Labels['org.example.built-by'], 'buildah');
    assert.equal(inspect.Labels['org.example.team'], 'registry', 'labels of the base image are kept');
    assert.equal(inspect.Layers.length, (single.images[0]?.layers.length ?? 0) + 1, 'one layer on top of the base');
    // And the whole image is pullable.
    await tools.podman('buildah-check', ['pull', ...tools.tlsArgs(), `${host}/e2e/buildah-app:1.0`]);
  });

  test('a push to a second repository mounts the layers instead of uploading them again', async () => {
    // e2e/oci-app got these layers in the OCI round-trip test above; skopeo's
    // blob-info cache remembers where, and tries a cross-repository mount.
    const image = single.images[0];
    assert.ok(image);
    const layerDigests = image.layers.map((l) => l.digest);
    const before = server.requests().length;
    await tools.skopeoCopy(single.ref, `docker://${host}/e2e/oci-app-copy:1.0`, ['--preserve-digests']);
    const entries = uploadRequests(server.requests().slice(before), 'e2e/oci-app-copy');
    for (const digest of layerDigests) {
      const mounts = entries.filter((e) => e.method === 'POST' && e.query.get('mount') === digest);
      assert.ok(mounts.length > 0, `no mount attempt for ${digest}: ${JSON.stringify(entries.map((e) => [e.method, e.url, e.statusCode]))}`);
      assert.ok(mounts.some((e) => e.statusCode === 201), `mount of ${digest} did not answer 201: ${JSON.stringify(mounts)}`);
      // From whichever repository skopeo remembers holding it (e2e/oci-app, e2e/multi share these layers).
      const from = mounts.find((e) => e.statusCode === 201)?.query.get('from');
      assert.ok(from && from !== 'e2e/oci-app-copy' && from.startsWith('e2e/'), `mounted from ${from}`);
      const uploads = entries.filter((e) => e.method === 'PUT' && e.query.get('digest') === digest);
      assert.deepEqual(uploads, [], `layer ${digest} was uploaded again`);
    }
    // Every upload session that was opened for this push was for a non-layer blob (the config).
    const sessions = entries.filter((e) => e.method === 'PUT');
    for (const s of sessions) assert.ok(!layerDigests.includes(s.query.get('digest') ?? ''), `upload ${s.url}`);
    for (const digest of layerDigests) {
      const head = await http.headBlob('e2e/oci-app-copy', digest);
      assert.equal(head.status, 200, describeResponse(head));
    }
    const got = await http.getManifest('e2e/oci-app-copy', '1.0', MEDIA_TYPES.ociManifest);
    assert.equal(got.headers['docker-content-digest'], single.digest);
  });

  test('skopeo delete by digest removes the manifest: inspect then fails with manifest unknown', async () => {
    const tagRef = `docker://${host}/e2e/delete-me:1.0`;
    await tools.skopeoCopy(single.ref, tagRef, ['--preserve-digests']);
    const digestRef = `docker://${host}/e2e/delete-me@${single.digest}`;
    await tools.skopeoInspect(digestRef, ['--raw']);
    await tools.skopeoDelete(digestRef);
    for (const ref of [digestRef, tagRef]) {
      const result = await tools.skopeoInspect(ref, ['--raw'], { allowFailure: true });
      assert.notEqual(result.code, 0, `inspect of ${ref} still succeeds after delete`);
      assert.match(result.stderr, /manifest unknown|not found|404/i, result.stderr);
    }
    const res = await http.getManifest('e2e/delete-me', single.digest, MEDIA_TYPES.ociManifest);
    assert.equal(res.status, 404, describeResponse(res));
    // The copy in another repository is untouched.
    const other = await http.getManifest('e2e/oci-app', single.digest, MEDIA_TYPES.ociManifest);
    assert.equal(other.status, 200, describeResponse(other));
  });

  test('a 300 MiB layer is pushed and pulled back with the right digest', { timeout: 300_000 }, async () => {
    const dir = join(work, 'big');
    const big = await createImageLayout(dir, 'v1', { layers: [{ size: 300 * 1024 * 1024, seed: 'clients-big', gzipLevel: 0 }], labels: LABELS });
    const layer = big.images[0]?.layers[0];
    assert.ok(layer);
    assert.ok(layer.size > 300 * 1024 * 1024, `layer is ${layer.size} bytes`);
    const dest = `docker://${host}/e2e/big:1.0`;
    await tools.skopeoCopy(big.ref, dest, ['--preserve-digests'], { timeoutMs: 240_000 });
    const head = await http.headBlob('e2e/big', layer.digest);
    assert.equal(head.status, 200, describeResponse(head));
    assert.equal(head.headers['content-length'], String(layer.size));
    const back = join(work, 'big-back');
    await tools.skopeoCopy(dest, `oci:${back}:1.0`, ['--preserve-digests'], { timeoutMs: 240_000 });
    assert.equal(await sha256File(blobPath(back, layer.digest)), layer.digest);
    await rm(back, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  test('four concurrent pushes of images sharing base layers all succeed and are pullable', { timeout: 300_000 }, async () => {
    const targets = ['e2e/conc-a:1', 'e2e/conc-a:2', 'e2e/conc-b:1', 'e2e/conc-c:1'];
    const layouts = await Promise.all(
      targets.map((_, i) =>
        createImageLayout(join(work, `conc-${i}`), 'v1', {
          layers: [
            { size: 3 * 1024 * 1024, seed: 'clients-conc-base', files: 3 },
            { size: 1024 * 1024, seed: 'clients-conc-mid' },
            { size: 64 * 1024, seed: `clients-conc-app-${i}` },
          ],
          labels: { ...LABELS, 'org.example.index': String(i) },
        }),
      ),
    );
    // Same base bytes → same digests in all four images.
    const bases = new Set(layouts.map((l) => l.images[0]?.layers[0]?.digest));
    assert.equal(bases.size, 1);
    const results = await Promise.allSettled(
      layouts.map((layout, i) => tools.skopeoCopy(layout.ref, `docker://${host}/${targets[i]}`, ['--preserve-digests'])),
    );
    const failures = results
      .map((r, i) => (r.status === 'rejected' ? `${targets[i]}: ${r.reason instanceof CommandError ? r.reason.message : String(r.reason)}` : ''))
      .filter(Boolean);
    assert.deepEqual(failures, [], failures.join('\n\n'));

    for (const [i, layout] of layouts.entries()) {
      const back = join(work, `conc-back-${i}`);
      await tools.skopeoCopy(`docker://${host}/${targets[i]}`, `oci:${back}:v1`, ['--preserve-digests']);
      assert.equal((await readLayoutTag(back, 'v1')).digest, layout.digest, `${targets[i]} digest`);
      await assertBlobsIdentical(layout, back, layout.blobs);
      await rm(back, { recursive: true, force: true });
    }
    const tags = await http.request('GET', '/v2/e2e/conc-a/tags/list');
    assert.deepEqual(tags.json<{ tags: string[] }>().tags.sort(), ['1', '2']);
  });
});
