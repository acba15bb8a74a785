/**
 * Details real clients depend on that the broad protocol suite does not pin
 * down: names echoed as the client wrote them, percent-encoded digests, mount
 * fallbacks, descriptor sizes of index children, and caches that never serve
 * what a concurrent delete removed.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { randomBytes } from '../support/oci-images.ts';
import { buildManifest, describeResponse, digestOf, pushImage, RegistryClient } from '../support/registry-http.ts';

const INDEX = 'application/vnd.oci.image.index.v1+json';
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

describe('protocol details', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let client: RegistryClient;
  let seq = 0;
  const blob = (size = 500): Buffer => randomBytes(`details-${seq++}`, size);

  before(async () => {
    server = await startBerth({ insecureHttp: true });
    client = await RegistryClient.create(server.url, undefined, { credentials: server.credentials });
  });

  after(async () => {
    await client?.close();
    await server?.stop();
  });

  test('a one-component name is echoed as written in Location, Link and tags/list', async () => {
    const start = await client.startUpload('alpine');
    assert.equal(start.status, 202, describeResponse(start));
    assert.match(String(start.headers.location), /^\/v2\/alpine\/blobs\/uploads\/[0-9a-f-]{36}$/);
    const image = buildManifest(blob(), [blob()]);
    await pushImage(client, 'alpine', 'a', image);
    await pushImage(client, 'alpine', 'b', image);
    const put = await client.putManifest('alpine', 'c', image.manifest, image.mediaType);
    assert.equal(put.headers.location, `/v2/alpine/manifests/${image.digest}`);
    const tags = await client.request('GET', '/v2/alpine/tags/list?n=1');
    assert.deepEqual(JSON.parse(tags.body.toString()), { name: 'alpine', tags: ['a'] });
    assert.match(String(tags.headers.link), /^<\/v2\/alpine\/tags\/list\?n=1&last=a>; rel="next"$/);
    // The same repository under its full name.
    const full = await client.request('GET', '/v2/library/alpine/tags/list');
    assert.deepEqual(JSON.parse(full.body.toString()).tags, ['a', 'b', 'c']);
  });

  test('percent-encoded digests and tags are understood; an encoded slash in a name is not a path separator', async () => {
    const image = buildManifest(blob(), [blob()]);
    await pushImage(client, 'enc/app', 'v1', image);
    const byDigest = await client.request('GET', `/v2/enc/app/manifests/${encodeURIComponent(image.digest)}`);
    assert.equal(byDigest.status, 200, describeResponse(byDigest));
    assert.equal(byDigest.headers['docker-content-digest'], image.digest);
    const layer = image.layers[0];
    assert.ok(layer);
    const head = await client.request('HEAD', `/v2/enc/app/blobs/${encodeURIComponent(digestOf(layer))}`);
    assert.equal(head.status, 200, describeResponse(head));
    const slash = await client.request('GET', '/v2/enc%2Fapp/tags/list');
    assert.equal(slash.status, 400, describeResponse(slash));
    assert.deepEqual(slash.errorCodes(), ['NAME_INVALID']);
  });

  test('a mount from an invalid or unknown source falls back to an upload session', async () => {
    const data = blob();
    await client.pushBlob('mnt/src', data);
    for (const from of ['NOT_VALID', 'mnt/nothing-here']) {
      const res = await client.startUpload('mnt/dst', `?mount=${digestOf(data)}&from=${from}`);
      assert.equal(res.status, 202, `from=${from}: ${describeResponse(res)}`);
      assert.ok(res.headers['docker-upload-uuid']);
    }
    const mounted = await client.startUpload('mnt/dst', `?mount=${digestOf(data)}&from=mnt/src`);
    assert.equal(mounted.status, 201, describeResponse(mounted));
  });

  test('an index whose child descriptor has the wrong size is refused', async () => {
    const child = buildManifest(blob(), [blob()]);
    await pushImage(client, 'idx/app', 'child', child);
    const index = (size: number) => Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: INDEX,
      manifests: [{ mediaType: MANIFEST, digest: child.digest, size, platform: { architecture: 'amd64', os: 'linux' } }],
    }));
    const wrong = await client.putManifest('idx/app', 'bad', index(child.manifest.length + 1), INDEX);
    assert.equal(wrong.status, 400, describeResponse(wrong));
    assert.deepEqual(wrong.errorCodes(), ['MANIFEST_INVALID']);
    assert.equal((await client.request('GET', '/v2/idx/app/manifests/bad')).status, 404, 'nothing was tagged');
    const right = await client.putManifest('idx/app', 'good', index(child.manifest.length), INDEX);
    assert.equal(right.status, 201, describeResponse(right));
  });

  test('a manifest deleted while it is being read is gone afterwards and cannot be an index child', async () => {
    const stale: string[] = [];
    for (let i = 0; i < 60; i++) {
      const image = buildManifest(blob(50), [blob(50)]);
      await client.pushBlob('race/app', image.config);
      for (const layer of image.layers) await client.pushBlob('race/app', layer);
      const put = await client.putManifest('race/app', image.digest, image.manifest, image.mediaType);
      assert.equal(put.status, 201, describeResponse(put));
      const [, deleted] = await Promise.all([
        client.request('GET', `/v2/race/app/manifests/${image.digest}`),
        client.request('DELETE', `/v2/race/app/manifests/${image.digest}`),
      ]);
      assert.equal(deleted.status, 202, describeResponse(deleted));
      const after = await client.request('GET', `/v2/race/app/manifests/${image.digest}`);
      if (after.status !== 404) stale.push(image.digest);
      const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: INDEX, manifests: [{ mediaType: MANIFEST, digest: image.digest, size: image.manifest.length }] }));
      const parent = await client.putManifest('race/app', `idx${i}`, index, INDEX);
      assert.equal(parent.status, 400, `index over a deleted child must be refused: ${describeResponse(parent)}`);
    }
    assert.deepEqual(stale, [], 'deleted manifests still served');
  });

  test('a chunk whose Content-Range does not match its body is refused and the session stays where it was', async () => {
    const start = await client.startUpload('size/app');
    const location = String(start.headers.location);
    const res = await client.request('PATCH', location, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99', 'content-length': '5' },
      body: Buffer.from('hello'),
    });
    assert.ok([400, 416].includes(res.status), describeResponse(res));
    const status = await client.request('GET', location);
    assert.equal(status.status, 204, describeResponse(status));
    assert.equal(status.headers.range, '0-0', 'no bytes were taken from the refused chunk');
  });

  test('a ranged chunk sent without Content-Length (chunked transfer) is refused before a byte is stored', async () => {
    const start = await client.startUpload('size/streamed');
    const location = String(start.headers.location);
    const res = await client.request('PATCH', location, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': '0-99' },
      body: Readable.from([Buffer.from('hello')]),
    });
    assert.equal(res.status, 400, describeResponse(res));
    assert.equal((JSON.parse(res.text()) as { errors: Array<{ code: string }> }).errors[0]?.code, 'SIZE_INVALID');
    const status = await client.request('GET', location);
    assert.equal(status.headers.range, '0-0', 'nothing was stored');
  });

  test('the request log counts the bytes of each streamed PATCH, not the running total', async () => {
    const data = blob(3000);
    const start = await client.startUpload('size/logged');
    let location = String(start.headers.location);
    for (const part of [data.subarray(0, 2000), data.subarray(2000)]) {
      // As podman and skopeo stream: no Content-Range, no Content-Length.
      const res = await client.request('PATCH', location, { headers: { 'content-type': 'application/octet-stream' }, body: Readable.from([part]) });
      assert.equal(res.status, 202, describeResponse(res));
      location = String(res.headers.location);
    }
    const id = location.split('/').pop() ?? '';
    const patches = (): number[] => server.requests().filter((r) => r.method === 'PATCH' && r.url.endsWith(id)).map((r) => r.bytes ?? -1);
    await server.waitForLog(() => patches().length === 2);
    assert.deepEqual(patches(), [2000, 1000]);
  });
});
