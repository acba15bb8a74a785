/**
 * Test support (used by this folder's *.test.ts only): a real in-process
 * registry (FilesystemDriver in a temp dir, SQLite in memory) with the
 * image-stream recorder registered, and helpers that push images through
 * the registry's own upload and manifest services.
 */

import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { openKyselyMetadata } from '../metadata/open-metadata.ts';
import type { KyselyMetadata } from '../metadata/open-metadata.ts';
import { parseDigest } from '../oci/digest.ts';
import { MEDIA_TYPES } from '../oci/media-types.ts';
import { parseRepositoryName, type RepositoryName } from '../oci/names.ts';
import { createRegistry, type Registry } from '../registry/registry.ts';
import { FilesystemDriver } from '../storage/filesystem-driver.ts';
import { ImageStreamService } from './image-stream-service.ts';
import { ImageStreamRecorder } from './push-recorder.ts';

export const PULL_SPEC_HOST = 'registry.test:5000';

export interface PushedImage {
  readonly digest: string;
  readonly configDigest: string;
  readonly manifestSize: number;
  /** Layer digests and sizes, in manifest order. */
  readonly layers: readonly { readonly digest: string; readonly size: number }[];
  readonly manifest: Buffer;
}

export interface ImageOptions {
  readonly layerSizes?: readonly number[];
  readonly labels?: Record<string, string>;
  readonly author?: string;
  readonly created?: string;
  readonly architecture?: string;
  readonly variant?: string;
}

export interface RegistryFixture {
  readonly registry: Registry;
  readonly metadata: KyselyMetadata;
  readonly driver: FilesystemDriver;
  readonly service: ImageStreamService;
  /** The clock the registry reads; tests move it. */
  now: number;
  repo(name: string): RepositoryName;
  pushBlob(repository: string, bytes: Buffer): Promise<string>;
  /** Pushes layers, config and an OCI image manifest; by digest when `tag` is undefined. */
  pushImage(repository: string, tag: string | undefined, options?: ImageOptions): Promise<PushedImage>;
  /** Pushes an OCI index of already pushed images (with their platforms). */
  pushIndex(repository: string, tag: string | undefined, children: readonly { image: PushedImage; architecture: string; variant?: string }[]): Promise<{ digest: string }>;
  cleanup(): Promise<void>;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

export async function openRegistryFixture(): Promise<RegistryFixture> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'berth-imagestreams-'));
  const metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  const driver = new FilesystemDriver({ root });
  const fixture = {
    now: Date.UTC(2026, 4, 1),
  } as { now: number };
  const clock = () => fixture.now;
  const registry = createRegistry({ metadata, driver, clock, maxManifestBytes: 4 * 1024 * 1024 });
  registry.manifests.addListener(new ImageStreamRecorder({ driver, pullSpecHost: PULL_SPEC_HOST }));
  const service = new ImageStreamService({ metadata, manifests: registry.manifests, pullSpecHost: PULL_SPEC_HOST, clock });
  const repo = (name: string) => parseRepositoryName(name);

  const pushBlob = async (repository: string, bytes: Buffer): Promise<string> => {
    const digest = sha256(bytes);
    await registry.uploads.monolithic(repo(repository), parseDigest(digest), (async function* () {
      yield bytes;
    })());
    return digest;
  };

  const pushImage = async (repository: string, tag: string | undefined, options: ImageOptions = {}): Promise<PushedImage> => {
    const layers: { digest: string; size: number }[] = [];
    for (const size of options.layerSizes ?? [1024, 300]) {
      const bytes = randomBytes(size);
      layers.push({ digest: await pushBlob(repository, bytes), size });
    }
    const config = Buffer.from(
      JSON.stringify({
        created: options.created ?? '2026-04-30T12:00:00Z',
        author: options.author ?? 'Test Author <test@example.com>',
        architecture: options.architecture ?? 'amd64',
        ...(options.variant === undefined ? {} : { variant: options.variant }),
        os: 'linux',
        config: { Env: ['PATH=/usr/bin'], Cmd: ['/app'], ExposedPorts: { '8080/tcp': {} }, Labels: options.labels ?? { app: 'demo' } },
        rootfs: { type: 'layers', diff_ids: layers.map(() => sha256(randomBytes(8))) },
        history: [
          ...layers.map((_, i) => ({ created: '2026-04-30T12:00:00Z', created_by: `COPY layer${i} /` })),
          { created: '2026-04-30T12:00:00Z', created_by: 'CMD ["/app"]', empty_layer: true },
        ],
      }),
    );
    const configDigest = await pushBlob(repository, config);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociManifest,
        config: { mediaType: MEDIA_TYPES.ociConfig, digest: configDigest, size: config.byteLength },
        layers: layers.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: l.digest, size: l.size })),
      }),
    );
    const digest = sha256(manifest);
    const reference = tag === undefined ? { digest: parseDigest(digest) } : { tag };
    await registry.manifests.put(repo(repository), reference, manifest, MEDIA_TYPES.ociManifest, 'tester');
    return { digest, configDigest, manifestSize: manifest.byteLength, layers, manifest };
  };

  const pushIndex: RegistryFixture['pushIndex'] = async (repository, tag, children) => {
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MEDIA_TYPES.ociIndex,
        manifests: children.map((c) => ({
          mediaType: MEDIA_TYPES.ociManifest,
          digest: c.image.digest,
          size: c.image.manifestSize,
          platform: { architecture: c.architecture, os: 'linux', ...(c.variant === undefined ? {} : { variant: c.variant }) },
        })),
      }),
    );
    const digest = sha256(index);
    await registry.manifests.put(repo(repository), tag === undefined ? { digest: parseDigest(digest) } : { tag }, index, MEDIA_TYPES.ociIndex, 'tester');
    return { digest };
  };

  return Object.assign(fixture, {
    registry,
    metadata,
    driver,
    service,
    repo,
    pushBlob,
    pushImage,
    pushIndex,
    cleanup: async () => {
      try {
        await metadata.close();
      } finally {
        await rm(root, { recursive: true, force: true });
      }
    },
  });
}
