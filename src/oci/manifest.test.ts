import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseManifest } from './manifest.ts';
import { OciError } from './errors.ts';
import { MEDIA_TYPES } from './media-types.ts';

const d = (c: string) => `sha256:${c.repeat(64)}`;
const bytes = (value: unknown) => Buffer.from(JSON.stringify(value));
const invalid = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof OciError && e.code === 'MANIFEST_INVALID' && pattern.test(e.message));

describe('parseManifest', () => {
  it('reads an OCI image manifest: config, layers in order, artifactType from the config', () => {
    const m = parseManifest(bytes({
      schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest,
      config: { mediaType: MEDIA_TYPES.ociConfig, digest: d('a'), size: 10 },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('b'), size: 20 }, { mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d('c'), size: 30 }],
      annotations: { 'org.opencontainers.image.title': 'x' },
    }), MEDIA_TYPES.ociManifest);
    assert.equal(m.kind, 'image');
    assert.deepEqual(m.requiredBlobs.map((b) => b.digest), [d('a'), d('b'), d('c')]);
    assert.equal(m.artifactType, MEDIA_TYPES.ociConfig);
    assert.deepEqual(m.annotations, { 'org.opencontainers.image.title': 'x' });
  });

  it('reads an artifact with subject and artifactType', () => {
    const m = parseManifest(bytes({
      schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, artifactType: 'application/vnd.example.sbom',
      config: { mediaType: MEDIA_TYPES.ociEmpty, digest: d('e'), size: 2 }, layers: [],
      subject: { mediaType: MEDIA_TYPES.ociManifest, digest: d('f'), size: 100 },
    }), undefined);
    assert.equal(m.artifactType, 'application/vnd.example.sbom');
    assert.equal(m.subject?.digest, d('f'));
  });

  it('reads indexes and Docker manifest lists with their platforms', () => {
    for (const mediaType of [MEDIA_TYPES.ociIndex, MEDIA_TYPES.dockerManifestList]) {
      const m = parseManifest(bytes({
        schemaVersion: 2, mediaType,
        manifests: [{ mediaType: MEDIA_TYPES.ociManifest, digest: d('1'), size: 5, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } }],
      }), mediaType);
      assert.equal(m.kind, 'index');
      assert.equal(m.manifests[0]?.platform?.variant, 'v8');
      assert.deepEqual(m.requiredBlobs, []);
    }
  });

  it('tells the media type from structure when neither body nor header names it', () => {
    assert.equal(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), undefined).mediaType, MEDIA_TYPES.ociIndex);
    assert.equal(parseManifest(bytes({ schemaVersion: 2, config: { mediaType: MEDIA_TYPES.ociConfig, digest: d('a'), size: 1 }, layers: [] }), 'application/json').mediaType, MEDIA_TYPES.ociManifest);
  });

  it('does not require foreign layers that carry urls', () => {
    const m = parseManifest(bytes({
      schemaVersion: 2, mediaType: MEDIA_TYPES.dockerManifest,
      config: { mediaType: MEDIA_TYPES.dockerConfig, digest: d('a'), size: 1 },
      layers: [{ mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip', digest: d('b'), size: 1, urls: ['https://example.test/l'] }],
    }), MEDIA_TYPES.dockerManifest);
    assert.deepEqual(m.requiredBlobs.map((b) => b.digest), [d('a')]);
  });

  it('refuses what is not a valid manifest, saying why', () => {
    invalid(() => parseManifest(Buffer.from('{nope'), MEDIA_TYPES.ociManifest), /not valid JSON/);
    invalid(() => parseManifest(bytes([1]), MEDIA_TYPES.ociManifest), /JSON object/);
    invalid(() => parseManifest(bytes({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }), MEDIA_TYPES.dockerSchema1Signed), /schema1/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] }), MEDIA_TYPES.ociManifest), /does not match Content-Type/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, layers: [] }), undefined), /config must be a descriptor/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: 'x', digest: 'sha256:zz', size: 1 }, layers: [] }), undefined), /config.digest/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociManifest, config: { mediaType: 'x', digest: d('a'), size: -1 }, layers: [] }), undefined), /size/);
    invalid(() => parseManifest(bytes({ schemaVersion: 3, mediaType: MEDIA_TYPES.ociIndex, manifests: [] }), undefined), /schemaVersion/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: 'application/vnd.example+json' }), undefined), /unsupported manifest media type/);
    invalid(() => parseManifest(bytes({ schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [{ mediaType: 'text/plain', digest: d('a'), size: 1 }] }), undefined), /not a manifest media type/);
  });
});
