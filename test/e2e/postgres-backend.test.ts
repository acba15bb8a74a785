/**
 * The same registry on PostgreSQL metadata instead of the embedded SQLite:
 * a real client push and pull, a chunked upload that survives a restart,
 * listing, referrers and deletes, all against a Berth started with
 * BERTH_DATABASE__URL pointing at a fresh PostgreSQL database.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth, type BerthServer } from '../support/berth-server.ts';
import { createClients, type ContainerClients } from '../support/container-clients.ts';
import { createImageLayout, listLayoutBlobs, readLayoutTag, type BuiltLayout } from '../support/oci-images.ts';
import { testPostgresUrl, type TestPostgres } from '../support/postgres.ts';
import { buildManifest, describeResponse, digestOf, pushImage, RegistryClient } from '../support/registry-http.ts';

describe('Berth on PostgreSQL metadata', { concurrency: false, timeout: 300_000 }, async () => {
  const pg = await testPostgresUrl();
  if ('skip' in pg) {
    test('PostgreSQL backend', { skip: pg.skip }, () => {});
    return;
  }
  const database: TestPostgres = pg;
  let server: BerthServer;
  let http: RegistryClient;
  let tools: ContainerClients;
  let work: string;
  let image: BuiltLayout;

  before(async () => {
    work = join(tmpdir(), `berth-e2e-pg-${randomBytes(6).toString('hex')}`);
    await mkdir(work);
    server = await startBerth({ env: { BERTH_DATABASE__URL: database.url } });
    await server.waitForLog((line) => line.includes('"database":"postgres"'));
    http = await RegistryClient.create(server.url, server.caPath, { credentials: server.credentials });
    tools = await createClients({ workDir: join(work, 'clients'), caPath: server.caPath, credentials: server.credentials, registry: server.hostPort });
    image = await createImageLayout(join(work, 'image'), 'v1', {
      layers: [{ size: 256 * 1024, seed: 'pg-base' }, { size: 64 * 1024, seed: 'pg-app' }],
      labels: { 'org.example.backend': 'postgres' },
    });
  });

  after(async () => {
    await http?.close();
    await tools?.cleanup();
    await server?.stop();
    await database.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('skopeo push and pull round-trip byte-identical', async () => {
    const ref = `docker://${server.hostPort}/pgproj/app:1.0`;
    await tools.skopeoCopy(image.ref, ref, ['--format', 'oci', '--preserve-digests']);
    const back = join(work, 'back');
    await tools.skopeoCopy(ref, `oci:${back}:1.0`, ['--preserve-digests']);
    assert.equal((await readLayoutTag(back, '1.0')).digest, image.digest);
    const blobs = await listLayoutBlobs(back);
    for (const digest of image.blobs) assert.ok(blobs.has(digest), `blob ${digest} came back`);
  });

  test('a chunked upload resumes across a restart with its state in PostgreSQL', async () => {
    const data = randomBytes(300_000);
    const start = await http.startUpload('pgproj/chunks');
    assert.equal(start.status, 202, describeResponse(start));
    const location = String(start.headers.location);
    const first = await http.request('PATCH', location, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `0-${99_999}`, 'content-length': '100000' },
      body: data.subarray(0, 100_000),
    });
    assert.equal(first.status, 202, describeResponse(first));
    await server.restart();
    await http.close();
    http = await RegistryClient.create(server.url, server.caPath, { credentials: server.credentials });
    const status = await http.request('GET', location);
    assert.equal(status.status, 204, describeResponse(status));
    assert.equal(status.headers.range, '0-99999');
    const done = await http.request('PUT', `${location}?digest=${digestOf(data)}`, {
      headers: { 'content-type': 'application/octet-stream', 'content-range': `100000-${data.length - 1}`, 'content-length': String(data.length - 100_000) },
      body: data.subarray(100_000),
    });
    assert.equal(done.status, 201, describeResponse(done));
    const got = await http.request('GET', `/v2/pgproj/chunks/blobs/${digestOf(data)}`);
    assert.deepEqual(got.body, data);
  });

  test('tags, catalog, referrers and deletes behave as on SQLite', async () => {
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const layer = randomBytes(1000);
    const subject = await pushImage(http, 'pgproj/list', 'b', buildManifest(config, [layer]));
    await pushImage(http, 'pgproj/list', 'a', buildManifest(config, [layer]));
    const tags = await http.request('GET', '/v2/pgproj/list/tags/list?n=1');
    assert.equal(tags.status, 200, describeResponse(tags));
    assert.deepEqual(JSON.parse(tags.body.toString()), { name: 'pgproj/list', tags: ['a'] });
    assert.match(String(tags.headers.link), /last=a/);

    const catalog = JSON.parse((await http.request('GET', '/v2/_catalog')).body.toString()) as { repositories: string[] };
    assert.deepEqual(catalog.repositories, ['pgproj/app', 'pgproj/chunks', 'pgproj/list']);

    const empty = Buffer.from('{}');
    await http.postBlob('pgproj/list', empty);
    const artifact = buildManifest(empty, [], {
      artifactType: 'application/vnd.example.sig',
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: subject, size: 1 },
    }, 'application/vnd.oci.empty.v1+json');
    const put = await http.request('PUT', `/v2/pgproj/list/manifests/${artifact.digest}`, {
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      body: artifact.manifest,
    });
    assert.equal(put.status, 201, describeResponse(put));
    assert.equal(put.headers['oci-subject'], subject);
    const referrers = JSON.parse((await http.request('GET', `/v2/pgproj/list/referrers/${subject}`)).body.toString()) as { manifests: Array<{ digest: string; artifactType: string }> };
    assert.deepEqual(referrers.manifests.map((m) => [m.digest, m.artifactType]), [[artifact.digest, 'application/vnd.example.sig']]);

    const deleted = await http.request('DELETE', `/v2/pgproj/list/manifests/${subject}`);
    assert.equal(deleted.status, 202, describeResponse(deleted));
    assert.equal((await http.request('GET', '/v2/pgproj/list/manifests/a')).status, 404, 'tags on a deleted manifest go with it');
  });
});
