/**
 * RemoteRegistryClient against real CNCF Distribution (`docker-registry`):
 * anonymous, htpasswd Basic auth, the Docker token flow, and TLS.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { finished } from 'node:stream/promises';
import { request } from 'undici';
import { freePort, startBerth } from '../../test/support/berth-server.ts';
import type { RegistryServer } from '../../test/support/berth-server.ts';
import { buildManifest, pushImage, RegistryClient } from '../../test/support/registry-http.ts';
import { sha256, startFaultProxy, startRemoteRegistry, testImage, testIndex, unknownDigest } from '../../test/support/remote-registry.ts';
import type { RemoteRegistry } from '../../test/support/remote-registry.ts';
import { RemoteRegistryClient } from './remote-client.ts';
import type { RemoteClientOptions } from './remote-client.ts';
import { RemoteRegistryError } from './remote-errors.ts';
import type { RemoteErrorReason } from './remote-errors.ts';

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
const DOCKER_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

async function rejectsWith(promise: Promise<unknown>, reason: RemoteErrorReason): Promise<RemoteRegistryError> {
  let caught: unknown;
  try {
    await promise;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof RemoteRegistryError, `expected RemoteRegistryError(${reason}), got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  return caught;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

function clientFor(registry: RemoteRegistry, extra: Partial<RemoteClientOptions> = {}): RemoteRegistryClient {
  return new RemoteRegistryClient({
    registry: registry.hostPort,
    insecure: registry.caPem === undefined,
    ...(registry.caPem === undefined ? {} : { ca: registry.caPem }),
    timeoutMs: 10_000,
    retryBaseDelayMs: 20,
    ...extra,
  });
}

describe('anonymous registry', () => {
  let registry: RemoteRegistry;
  let client: RemoteRegistryClient;
  const oci = testImage('oci', 'oci');
  const docker = testImage('docker', 'docker');
  const index = testIndex('multi', 'oci');
  const list = testIndex('list', 'docker');
  const pagedTags = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];

  before(async () => {
    registry = await startRemoteRegistry();
    await registry.pushImage('ns/app', 'oci', oci);
    await registry.pushImage('ns/app', 'docker', docker);
    await registry.pushIndex('ns/app', 'multi', index);
    await registry.pushIndex('ns/app', 'list', list);
    for (const tag of pagedTags) await registry.pushImage('ns/paged', tag, oci);
    client = clientFor(registry);
  });
  after(async () => {
    await client?.close();
    await registry?.stop();
  });

  test('ping', async () => {
    assert.deepEqual(await client.ping(), { authScheme: 'none', apiVersion: 'registry/2.0' });
  });

  test('lists tags', async () => {
    assert.deepEqual((await client.listTags('ns/app')).sort(), ['docker', 'list', 'multi', 'oci']);
  });

  test('asks for pages (Distribution 2.8 ignores n and answers with one page)', async () => {
    assert.deepEqual((await client.listTags('ns/paged', { pageSize: 2 })).sort(), pagedTags);
  });

  test('gets OCI and Docker schema2 manifests, indexes and manifest lists, digests verified', async () => {
    for (const [tag, image, mediaType] of [
      ['oci', oci, OCI_MANIFEST],
      ['docker', docker, DOCKER_MANIFEST],
      ['multi', index, OCI_INDEX],
      ['list', list, DOCKER_LIST],
    ] as const) {
      const byTag = await client.getManifest('ns/app', tag);
      assert.equal(byTag.mediaType, mediaType, tag);
      assert.equal(byTag.digest, image.digest, tag);
      assert.deepEqual(byTag.bytes, image.manifest, tag);
      const byDigest = await client.getManifest('ns/app', image.digest);
      assert.equal(byDigest.digest, image.digest);
      assert.deepEqual(byDigest.bytes, image.manifest);
      const head = await client.headManifest('ns/app', tag);
      assert.deepEqual(head, { digest: image.digest, mediaType, size: image.manifest.length });
    }
    // Children of an index by digest.
    const child = index.images[1];
    assert.ok(child !== undefined);
    assert.equal((await client.getManifest('ns/app', child.digest)).mediaType, OCI_MANIFEST);
  });

  test('gets a config blob, verified and size-capped', async () => {
    const config = await client.getBlob('ns/app', sha256(docker.config), 1024 * 1024);
    assert.deepEqual(config, docker.config);
    await rejectsWith(client.getBlob('ns/app', sha256(docker.config), docker.config.length - 1), 'too-large');
  });

  test('streams a blob through the digest check', async () => {
    const layer = oci.layers[1];
    assert.ok(layer !== undefined);
    const { size, stream } = await client.openBlob('ns/app', sha256(layer));
    assert.equal(size, layer.length);
    assert.deepEqual(await readAll(stream), layer);
    // A wrong expected size fails before any byte is trusted.
    await rejectsWith(client.openBlob('ns/app', sha256(layer), { expectedSize: layer.length + 1 }), 'invalid-response');
  });

  test('an abandoned blob stream releases its connection', async () => {
    const layer = oci.layers[0];
    assert.ok(layer !== undefined);
    const { stream } = await client.openBlob('ns/app', sha256(layer));
    stream.destroy();
    await assert.rejects(finished(stream));
    assert.deepEqual(await client.getBlob('ns/app', sha256(layer), 1 << 20), layer);
  });

  test('manifests over the size limit are too-large', async () => {
    const small = clientFor(registry, { maxManifestBytes: 100 });
    try {
      await rejectsWith(small.getManifest('ns/app', 'oci'), 'too-large');
    } finally {
      await small.close();
    }
  });

  test('not-found for unknown tags, digests, blobs and repositories', async () => {
    const e = await rejectsWith(client.getManifest('ns/app', 'nope'), 'not-found');
    assert.equal(e.status, 404);
    assert.equal(e.code, 'MANIFEST_UNKNOWN');
    await rejectsWith(client.getManifest('ns/app', unknownDigest()), 'not-found');
    await rejectsWith(client.headManifest('ns/app', 'nope'), 'not-found');
    await rejectsWith(client.getBlob('ns/app', unknownDigest(), 1000), 'not-found');
    await rejectsWith(client.openBlob('ns/app', unknownDigest()), 'not-found');
    await rejectsWith(client.listTags('ns/missing'), 'not-found');
  });
});

describe('htpasswd basic auth', () => {
  let registry: RemoteRegistry;
  const image = testImage('basic', 'docker');

  before(async () => {
    registry = await startRemoteRegistry({ auth: 'htpasswd', users: { alice: 'right-password' } });
    await registry.pushImage('private/app', 'v1', image);
  });
  after(async () => {
    await registry?.stop();
  });

  test('the right password reads tags and manifests', async () => {
    const client = clientFor(registry, { credentials: { username: 'alice', password: 'right-password' } });
    try {
      assert.equal((await client.ping()).authScheme, 'basic');
      assert.deepEqual(await client.listTags('private/app'), ['v1']);
      const manifest = await client.getManifest('private/app', 'v1');
      assert.equal(manifest.digest, image.digest);
      assert.equal(manifest.mediaType, DOCKER_MANIFEST);
      assert.deepEqual(await client.getBlob('private/app', sha256(image.config), 1 << 20), image.config);
    } finally {
      await client.close();
    }
  });

  test('a wrong password or none is unauthorized', async () => {
    const wrong = clientFor(registry, { credentials: { username: 'alice', password: 'wrong-password' } });
    const anonymous = clientFor(registry);
    try {
      await rejectsWith(wrong.ping(), 'unauthorized');
      const e = await rejectsWith(wrong.getManifest('private/app', 'v1'), 'unauthorized');
      assert.equal(e.status, 401);
      await rejectsWith(anonymous.listTags('private/app'), 'unauthorized');
    } finally {
      await wrong.close();
      await anonymous.close();
    }
  });
});

describe('Docker token auth', () => {
  let registry: RemoteRegistry;
  const image = testImage('token', 'oci');

  before(async () => {
    registry = await startRemoteRegistry({ auth: 'token', users: { bob: 'token-password' } });
    await registry.pushImage('team/app', 'v1', image);
    await registry.pushImage('team/other', 'v1', image);
  });
  after(async () => {
    await registry?.stop();
  });

  test('with credentials: one token per scope, reused until it expires', async () => {
    const client = clientFor(registry, { credentials: { username: 'bob', password: 'token-password' } });
    try {
      const before = registry.tokenRequests().length;
      assert.equal((await client.ping()).authScheme, 'bearer');
      assert.deepEqual(await client.listTags('team/app'), ['v1']);
      assert.equal((await client.getManifest('team/app', 'v1')).digest, image.digest);
      await client.headManifest('team/app', 'v1');
      assert.deepEqual(await client.getBlob('team/app', sha256(image.config), 1 << 20), image.config);
      await client.getManifest('team/other', 'v1');
      const tokenCalls = registry.tokenRequests().slice(before);
      assert.deepEqual(tokenCalls.map((c) => [c.user, c.scope.join(' '), c.status]), [
        ['bob', '', 200],
        ['bob', 'repository:team/app:pull', 200],
        ['bob', 'repository:team/other:pull', 200],
      ]);
    } finally {
      await client.close();
    }
  });

  test('anonymous pull gets an anonymous token', async () => {
    const client = clientFor(registry);
    try {
      assert.equal((await client.getManifest('team/app', 'v1')).digest, image.digest);
      assert.equal(registry.tokenRequests().at(-1)?.user, undefined);
    } finally {
      await client.close();
    }
  });

  test('a wrong password is unauthorized', async () => {
    const client = clientFor(registry, { credentials: { username: 'bob', password: 'nope' } });
    try {
      await rejectsWith(client.ping(), 'unauthorized');
      await rejectsWith(client.getManifest('team/app', 'v1'), 'unauthorized');
    } finally {
      await client.close();
    }
  });

  test('an expired token is renewed', async () => {
    const shortLived = await startRemoteRegistry({ auth: 'token', tokenLifetimeSeconds: 2 });
    const client = clientFor(shortLived, { credentials: { username: 'alice', password: 'wonderland' } });
    try {
      await shortLived.pushImage('x/y', 't', image);
      await client.getManifest('x/y', 't');
      const count = shortLived.tokenRequests().length;
      await client.getManifest('x/y', 't');
      // Lifetime 2 s leaves a 1 s usable window (half the lifetime is margin).
      await new Promise((r) => setTimeout(r, 1200));
      await client.getManifest('x/y', 't');
      assert.equal(shortLived.tokenRequests().length, count + 1);
    } finally {
      await client.close();
      await shortLived.stop();
    }
  });

  test('a private registry refuses anonymous pulls', async () => {
    const privateRegistry = await startRemoteRegistry({ auth: 'token', anonymousPull: false });
    const client = clientFor(privateRegistry);
    try {
      await privateRegistry.pushImage('x/y', 't', image);
      await rejectsWith(client.getManifest('x/y', 't'), 'unauthorized');
    } finally {
      await client.close();
      await privateRegistry.stop();
    }
  });
});

describe('TLS', () => {
  let registry: RemoteRegistry;
  const image = testImage('tls', 'oci');

  before(async () => {
    registry = await startRemoteRegistry({ tls: true });
    await registry.pushImage('secure/app', 'v1', image);
  });
  after(async () => {
    await registry?.stop();
  });

  test('with the CA', async () => {
    const client = clientFor(registry);
    try {
      assert.equal(client.baseUrl.protocol, 'https:');
      assert.equal((await client.getManifest('secure/app', 'v1')).digest, image.digest);
    } finally {
      await client.close();
    }
  });

  test('without the CA the certificate is refused (tls)', async () => {
    const client = new RemoteRegistryClient({ registry: registry.hostPort, timeoutMs: 5000 });
    try {
      const e = await rejectsWith(client.ping(), 'tls');
      assert.ok(e.code !== undefined);
    } finally {
      await client.close();
    }
  });

  test('HTTPS to a plain-HTTP registry is a tls error', async () => {
    const plain = await startRemoteRegistry();
    const client = new RemoteRegistryClient({ registry: plain.hostPort, timeoutMs: 5000, maxRetries: 0 });
    try {
      await rejectsWith(client.ping(), 'tls');
    } finally {
      await client.close();
      await plain.stop();
    }
  });
});

test('a port nobody listens on is unreachable', async () => {
  const port = await freePort();
  const client = new RemoteRegistryClient({ registry: `127.0.0.1:${port}`, insecure: true, timeoutMs: 5000 });
  try {
    const e = await rejectsWith(client.ping(), 'unreachable');
    assert.equal(e.code, 'ECONNREFUSED');
    assert.equal(e.registry, `127.0.0.1:${port}`);
  } finally {
    await client.close();
  }
});

// Distribution 2.8 (Debian's) does not page tag lists; Berth does, with n, last and Link.
describe('tag list paging against Berth', () => {
  let berth: RegistryServer;
  const tags = Array.from({ length: 7 }, (_, i) => `t${i}`);

  before(async () => {
    berth = await startBerth({ insecureHttp: true });
    const pusher = new RegistryClient(berth.url, undefined, { credentials: berth.credentials });
    try {
      const image = buildManifest(Buffer.from('{"architecture":"amd64","os":"linux"}'), [Buffer.from('paging layer')]);
      for (const tag of tags) await pushImage(pusher, 'paging/app', tag, image);
    } finally {
      await pusher.close();
    }
  });
  after(async () => {
    await berth?.stop();
  });

  test('follows Link pages until the end', async () => {
    const client = new RemoteRegistryClient({ registry: berth.hostPort, insecure: true, credentials: berth.credentials });
    try {
      // The registry really pages at n=2 …
      const first = await request(`${berth.url}/v2/paging/app/tags/list?n=2`, {
        headers: { authorization: `Basic ${Buffer.from(`${berth.credentials?.username}:${berth.credentials?.password}`).toString('base64')}` },
      });
      assert.equal(first.statusCode, 200);
      assert.deepEqual(((await first.body.json()) as { tags: string[] }).tags, ['t0', 't1']);
      assert.match(String(first.headers['link']), /rel="next"/);
      // … and the client walks every page.
      assert.deepEqual(await client.listTags('paging/app', { pageSize: 2 }), tags);
      assert.deepEqual(await client.listTags('paging/app', { pageSize: 7 }), tags);
      assert.deepEqual(await client.listTags('paging/app'), tags);
    } finally {
      await client.close();
    }
  });
});

// Faults Distribution never produces by itself, injected by a proxy in front of the real registry.
describe('retries and redirects', () => {
  let registry: RemoteRegistry;
  let basicRegistry: RemoteRegistry;
  const image = testImage('faults', 'oci');

  before(async () => {
    registry = await startRemoteRegistry();
    await registry.pushImage('f/app', 'v1', image);
    basicRegistry = await startRemoteRegistry({ auth: 'htpasswd' });
    await basicRegistry.pushImage('f/app', 'v1', image);
  });
  after(async () => {
    await registry?.stop();
    await basicRegistry?.stop();
  });

  test('503, 429 with Retry-After and a connection reset are retried', async () => {
    const proxy = await startFaultProxy(registry, (_req, i) =>
      i === 0 ? { kind: 'status', status: 503 }
      : i === 1 ? { kind: 'status', status: 429, retryAfter: '1' }
      : i === 2 ? { kind: 'reset' }
      : { kind: 'forward' });
    const client = new RemoteRegistryClient({ registry: proxy.hostPort, insecure: true, retryBaseDelayMs: 10 });
    try {
      const started = Date.now();
      assert.equal((await client.getManifest('f/app', 'v1')).digest, image.digest);
      assert.ok(Date.now() - started >= 950, 'waited for Retry-After');
      assert.equal(proxy.requests().length, 4);
    } finally {
      await client.close();
      await proxy.stop();
    }
  });

  test('retries are bounded: rate-limited and unreachable', async () => {
    for (const [status, reason] of [[429, 'rate-limited'], [503, 'unreachable']] as const) {
      const proxy = await startFaultProxy(registry, () => ({ kind: 'status', status, retryAfter: '0' }));
      const client = new RemoteRegistryClient({ registry: proxy.hostPort, insecure: true, maxRetries: 2, retryBaseDelayMs: 10 });
      try {
        const e = await rejectsWith(client.listTags('f/app'), reason);
        assert.equal(e.status, status);
        assert.equal(proxy.requests().length, 3);
      } finally {
        await client.close();
        await proxy.stop();
      }
    }
  });

  test('a blob redirect to another origin is followed without our credentials', async () => {
    const proxy = await startFaultProxy(basicRegistry, (req) => (/\/blobs\//.test(req.path) ? { kind: 'redirect' } : { kind: 'forward' }));
    const client = new RemoteRegistryClient({ registry: proxy.hostPort, insecure: true, credentials: { username: 'alice', password: 'wonderland' } });
    try {
      // The manifest first, as an import does: the client learns the Basic challenge.
      assert.equal((await client.getManifest('f/app', 'v1')).digest, image.digest);
      assert.deepEqual(await client.getBlob('f/app', sha256(image.config), 1 << 20), image.config);
      const layer = image.layers[0];
      assert.ok(layer !== undefined);
      assert.deepEqual(await readAll((await client.openBlob('f/app', sha256(layer))).stream), layer);
      const redirected = proxy.requests().filter((r) => r.origin === 'redirect');
      assert.equal(redirected.length, 2);
      assert.ok(redirected.every((r) => r.authorization === undefined), 'no credentials to the other origin');
      const authorizedMain = proxy.requests().filter((r) => r.origin === 'main' && r.authorization !== undefined);
      assert.ok(authorizedMain.some((r) => /\/blobs\//.test(r.path)), 'credentials to the registry itself');
    } finally {
      await client.close();
      await proxy.stop();
    }
  });
});
