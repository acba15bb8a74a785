import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseManifest } from '../oci/manifest.ts';
import { extractImage, parseImageConfig, wantsConfig, MAX_CONFIG_BYTES } from './image-metadata.ts';

const d = (c: string) => `sha256:${c.repeat(64).slice(0, 64)}`;

// Shaped like `docker build` output (Docker v1 image JSON): container_config
// describes the build container, config what runs.
const DOCKER_CONFIG = {
  architecture: 'amd64',
  author: 'Jane Builder <jane@example.com>',
  config: {
    Hostname: '',
    User: '1001',
    ExposedPorts: { '8080/tcp': {}, '8443/tcp': {} },
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'RUBY_VERSION=3.3.1'],
    Cmd: ['irb'],
    Entrypoint: null,
    Volumes: { '/data': {} },
    WorkingDir: '/opt/app-root/src',
    Labels: { 'io.k8s.description': 'Ruby 3.3 platform', 'io.openshift.expose-services': '8080:http', 'bad-number': 3 },
    StopSignal: 'SIGTERM',
    Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'], Interval: 30_000_000_000, Retries: 3 },
  },
  container: 'b5c1f3e0c2a1',
  container_config: { Cmd: ['/bin/sh', '-c', '#(nop) ', 'CMD ["irb"]'], Labels: { ignored: 'yes' } },
  created: '2026-02-03T04:05:06.789Z',
  docker_version: '27.3.1',
  history: [
    { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
    { created: '2026-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
    { created: '2026-02-03T04:05:00Z', created_by: 'RUN /bin/sh -c dnf install -y ruby # buildkit', comment: 'buildkit.dockerfile.v0' },
    { created: '2026-02-03T04:05:06Z', created_by: 'LABEL io.k8s.description=Ruby 3.3 platform', comment: 'buildkit.dockerfile.v0', empty_layer: true },
  ],
  os: 'linux',
  rootfs: { type: 'layers', diff_ids: [d('a'), d('b')] },
};

const DOCKER_MANIFEST = {
  schemaVersion: 2,
  mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
  config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: 2311, digest: d('c') },
  layers: [
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 31_000_123, digest: d('1') },
    { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: 4567, digest: d('2') },
  ],
};

describe('image metadata extraction', () => {
  it('reads a Docker v1 image config: author, created, version, platform, run config, history with empty layers', () => {
    const parsed = parseManifest(Buffer.from(JSON.stringify(DOCKER_MANIFEST)), undefined);
    assert.equal(wantsConfig(parsed), true);
    const image = extractImage({ digest: d('m'), size: 528, parsed, config: Buffer.from(JSON.stringify(DOCKER_CONFIG)), now: 42 });
    assert.deepEqual(image, {
      digest: d('m'),
      mediaType: 'application/vnd.docker.distribution.manifest.v2+json',
      size: 528,
      configDigest: d('c'),
      metadata: {
        author: 'Jane Builder <jane@example.com>',
        created: '2026-02-03T04:05:06.789Z',
        dockerVersion: '27.3.1',
        architecture: 'amd64',
        os: 'linux',
        config: {
          User: '1001',
          ExposedPorts: { '8080/tcp': {}, '8443/tcp': {} },
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'RUBY_VERSION=3.3.1'],
          Cmd: ['irb'],
          Volumes: { '/data': {} },
          WorkingDir: '/opt/app-root/src',
          // A non-string label value is dropped, the rest kept.
          Labels: { 'io.k8s.description': 'Ruby 3.3 platform', 'io.openshift.expose-services': '8080:http' },
          StopSignal: 'SIGTERM',
          Healthcheck: { Test: ['CMD-SHELL', 'curl -f http://localhost:8080/ || exit 1'], Interval: 30_000_000_000, Retries: 3 },
        },
        history: [
          { created: '2026-01-01T00:00:00Z', created_by: '/bin/sh -c #(nop) ADD file:abc in / ' },
          { created: '2026-01-01T00:00:01Z', created_by: '/bin/sh -c #(nop)  CMD ["bash"]', empty_layer: true },
          { created: '2026-02-03T04:05:00Z', created_by: 'RUN /bin/sh -c dnf install -y ruby # buildkit', comment: 'buildkit.dockerfile.v0' },
          { created: '2026-02-03T04:05:06Z', created_by: 'LABEL io.k8s.description=Ruby 3.3 platform', comment: 'buildkit.dockerfile.v0', empty_layer: true },
        ],
        diffIds: [d('a'), d('b')],
        size: 2311 + 31_000_123 + 4567,
      },
      layers: [
        { name: d('1'), size: 31_000_123, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' },
        { name: d('2'), size: 4567, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' },
      ],
      manifests: [],
      annotations: null,
      createdAt: 42,
    });
    // Layers with content: the history entries without empty_layer, one per layer.
    assert.equal(image.metadata?.history.filter((h) => h.empty_layer !== true).length, image.layers.length);
  });

  it('reads an OCI image config (buildah) with variant and manifest annotations', () => {
    const config = {
      created: '2026-04-01T10:00:00.123456789Z',
      author: 'ci@example.com',
      architecture: 'arm',
      variant: 'v7',
      os: 'linux',
      config: { Env: ['A=1'], Entrypoint: ['/entry.sh'], Cmd: ['serve', '--port=80'], Labels: { 'org.opencontainers.image.title': 'app ✓' } },
      rootfs: { type: 'layers', diff_ids: [d('e')] },
      history: [{ created: '2026-04-01T10:00:00Z', created_by: '/bin/sh -c #(nop) COPY dir:1 in /', author: 'ci@example.com' }],
    };
    const manifest = {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', size: 600, digest: d('f') },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', size: 100, digest: d('9') }],
      annotations: { 'org.opencontainers.image.source': 'https://git.example.com/app' },
    };
    const image = extractImage({ digest: d('m'), size: 400, parsed: parseManifest(Buffer.from(JSON.stringify(manifest)), undefined), config: Buffer.from(JSON.stringify(config)), now: 1 });
    assert.equal(image.metadata?.variant, 'v7');
    assert.equal(image.metadata?.architecture, 'arm');
    assert.equal(image.metadata?.created, '2026-04-01T10:00:00.123456789Z');
    assert.deepEqual(image.metadata?.config, config.config);
    assert.deepEqual(image.metadata?.history, config.history);
    assert.equal(image.metadata?.dockerVersion, undefined);
    assert.equal('dockerVersion' in (image.metadata ?? {}), false, 'absent fields are left out, not stored as undefined');
    assert.deepEqual(image.annotations, manifest.annotations);
  });

  it('records a manifest list with each platform and no metadata', () => {
    const list = {
      schemaVersion: 2,
      mediaType: 'application/vnd.docker.distribution.manifest.list.v2+json',
      manifests: [
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: 528, digest: d('1'), platform: { architecture: 'amd64', os: 'linux' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: 529, digest: d('2'), platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
        { mediaType: 'application/vnd.docker.distribution.manifest.v2+json', size: 530, digest: d('3'), platform: { architecture: 'amd64', os: 'windows', 'os.version': '10.0.17763.1' } },
      ],
    };
    const parsed = parseManifest(Buffer.from(JSON.stringify(list)), undefined);
    assert.equal(wantsConfig(parsed), false);
    const image = extractImage({ digest: d('l'), size: 900, parsed, config: undefined, now: 5 });
    assert.equal(image.configDigest, null);
    assert.equal(image.metadata, null);
    assert.deepEqual(image.layers, []);
    assert.deepEqual(image.manifests, list.manifests.map((m) => ({ digest: m.digest, mediaType: m.mediaType, size: m.size, platform: m.platform })));
  });

  it('leaves metadata out for artifacts and configs that are not JSON objects, and never reads huge configs', () => {
    const artifact = parseManifest(
      Buffer.from(
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          artifactType: 'application/vnd.example.sbom',
          config: { mediaType: 'application/vnd.oci.empty.v1+json', size: 2, digest: d('e') },
          layers: [{ mediaType: 'application/spdx+json', size: 10, digest: d('5') }],
        }),
      ),
      undefined,
    );
    assert.equal(wantsConfig(artifact), false);
    assert.equal(extractImage({ digest: d('a'), size: 10, parsed: artifact, config: undefined, now: 1 }).metadata, null);

    const huge = parseManifest(
      Buffer.from(JSON.stringify({ ...DOCKER_MANIFEST, config: { ...DOCKER_MANIFEST.config, size: MAX_CONFIG_BYTES + 1 } })),
      undefined,
    );
    assert.equal(wantsConfig(huge), false);

    assert.equal(parseImageConfig(Buffer.from('not json'), 0), undefined);
    assert.equal(parseImageConfig(Buffer.from('[1,2]'), 0), undefined);
    assert.deepEqual(parseImageConfig(Buffer.from('{"config":null,"history":"x","rootfs":{"diff_ids":[1]}}'), 7), { history: [], diffIds: [], size: 7 });
  });
});
