/**
 * Test images generated locally as OCI image layouts on disk, for skopeo's
 * `oci:<dir>:<tag>` transport and for raw protocol tests.
 *
 * Layers are real gzip'd tarballs of files with pseudo-random content. The
 * content is derived from a seed (AES-CTR keystream), so the same layer spec
 * gives the same bytes, and the same digests, in every image that uses it:
 * that is how tests build images with shared base layers. Layers are streamed
 * to disk while both digests (compressed blob, uncompressed diff_id) are
 * computed, so a 300 MiB layer never sits in memory.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, stat, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const MEDIA_TYPES = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

/** One layer: `files` files of pseudo-random content adding up to `size` bytes. */
export interface LayerSpec {
  /** Total bytes of file content in the layer (the tar is slightly larger). */
  size: number;
  /** Content seed: the same seed and size give byte-identical layers. */
  seed: string;
  /** Number of files the content is split into (default 1). */
  files?: number;
  /** gzip level, 0-9 (default 1: random data does not compress anyway). */
  gzipLevel?: number;
}

export interface Platform {
  architecture: string;
  os: string;
  variant?: string;
}

/** Everything that goes into one image's config blob. */
export interface ImageSpec {
  layers: LayerSpec[];
  platform?: Platform;
  labels?: Record<string, string>;
  env?: string[];
  cmd?: string[];
  entrypoint?: string[];
  exposedPorts?: string[];
  workingDir?: string;
  user?: string;
  author?: string;
  /** RFC 3339; default a fixed date so that configs are reproducible. */
  created?: string;
  /** Manifest annotations. */
  annotations?: Record<string, string>;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

export interface OciManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface OciIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface BuiltLayer {
  digest: string;
  /** Compressed size in bytes. */
  size: number;
  /** sha256 of the uncompressed tar. */
  diffId: string;
}

export interface BuiltImage {
  manifestDigest: string;
  manifestBytes: Buffer;
  manifest: OciManifest;
  configDigest: string;
  configBytes: Buffer;
  layers: BuiltLayer[];
  platform: Platform;
}

export interface BuiltLayout {
  /** The layout directory. */
  dir: string;
  tag: string;
  /** `oci:<dir>:<tag>` for skopeo. */
  ref: string;
  /** Digest of what the tag points at (the manifest, or the index for multi-arch). */
  digest: string;
  /** Media type of what the tag points at. */
  mediaType: string;
  /** The images; one for single-arch, one per platform for multi-arch. */
  images: BuiltImage[];
  /** Present for multi-arch layouts. */
  index?: { digest: string; bytes: Buffer; index: OciIndex };
  /** Every blob the tag reaches (manifests, index, configs, layers), deduplicated. */
  blobs: string[];
}

const FIXED_CREATED = '2026-01-01T00:00:00Z';
const DEFAULT_PLATFORM: Platform = { architecture: 'amd64', os: 'linux' };
/** Fixed tar mtime so that layers are reproducible. */
const TAR_MTIME = 1767225600;

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function sha256Digest(data: Buffer | string): string {
  return `sha256:${sha256Hex(data)}`;
}

/** `sha256:<hex>` of a file, streamed. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha256:${hash.digest('hex')}`;
}

/** Path of a blob inside a layout. */
export function blobPath(layoutDir: string, digest: string): string {
  const [alg, hex] = splitDigest(digest);
  return join(layoutDir, 'blobs', alg, hex);
}

export function splitDigest(digest: string): [string, string] {
  const i = digest.indexOf(':');
  if (i <= 0) throw new Error(`not a digest: ${digest}`);
  return [digest.slice(0, i), digest.slice(i + 1)];
}

/**
 * A deterministic pseudo-random byte stream of `size` bytes: the AES-128-CTR
 * keystream for a key derived from `seed`. Fast (GB/s) and never buffered.
 */
export function randomStream(seed: string, size: number, chunkSize = 1 << 20): Readable {
  const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, iv);
  const zeros = Buffer.alloc(chunkSize);
  let remaining = size;
  return new Readable({
    read() {
      if (remaining <= 0) {
        this.push(null);
        return;
      }
      const n = Math.min(remaining, chunkSize);
      remaining -= n;
      this.push(cipher.update(n === chunkSize ? zeros : zeros.subarray(0, n)));
    },
  });
}

/** The same bytes as `randomStream`, in memory (for small blobs in protocol tests). */
export function randomBytes(seed: string, size: number): Buffer {
  const key = createHash('sha256').update(`key:${seed}`).digest().subarray(0, 16);
  const iv = createHash('sha256').update(`iv:${seed}`).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, iv).update(Buffer.alloc(size));
}

// ---------------------------------------------------------------------------
// tar (ustar), written by hand: one directory entry plus regular files.

function tarHeader(name: string, size: number, type: '0' | '5', mode: number): Buffer {
  const h = Buffer.alloc(512, 0);
  if (Buffer.byteLength(name) > 100) throw new Error(`tar name too long: ${name}`);
  h.write(name, 0, 100, 'utf8');
  const octal = (value: number, width: number): string => value.toString(8).padStart(width - 1, '0') + '\0';
  h.write(octal(mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii'); // uid
  h.write(octal(0, 8), 116, 8, 'ascii'); // gid
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(TAR_MTIME, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces
  h.write(type, 156, 1, 'ascii');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8, 'ascii');
  return h;
}

/** The uncompressed tar of a layer, as a stream. */
export function layerTarStream(spec: LayerSpec): Readable {
  const fileCount = Math.max(1, spec.files ?? 1);
  const dir = `data-${sha256Hex(spec.seed).slice(0, 12)}/`;
  async function* generate(): AsyncGenerator<Buffer> {
    yield tarHeader(dir, 0, '5', 0o755);
    const base = Math.floor(spec.size / fileCount);
    for (let i = 0; i < fileCount; i++) {
      const size = i === fileCount - 1 ? spec.size - base * (fileCount - 1) : base;
      yield tarHeader(`${dir}file-${i}.bin`, size, '0', 0o644);
      for await (const chunk of randomStream(`${spec.seed}/${i}`, size)) yield chunk as Buffer;
      const pad = (512 - (size % 512)) % 512;
      if (pad > 0) yield Buffer.alloc(pad);
    }
    yield Buffer.alloc(1024); // end-of-archive: two zero blocks
  }
  return Readable.from(generate(), { objectMode: false });
}

/** A pass-through stream that hashes and counts what flows through it. */
class HashingPassThrough extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    callback(null, chunk);
  }
}

/** Stream one gzip'd layer into `<layout>/blobs/sha256/`, returning its digests. */
export async function writeLayer(layoutDir: string, spec: LayerSpec): Promise<BuiltLayer> {
  const blobDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const tmp = join(blobDir, `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const uncompressed = new HashingPassThrough();
  const compressed = new HashingPassThrough();
  await pipeline(
    layerTarStream(spec),
    uncompressed,
    createGzip({ level: spec.gzipLevel ?? 1 }),
    compressed,
    createWriteStream(tmp),
  );
  const hex = compressed.hash.digest('hex');
  await rename(tmp, join(blobDir, hex));
  return { digest: `sha256:${hex}`, size: compressed.bytes, diffId: `sha256:${uncompressed.hash.digest('hex')}` };
}

/** Write a small blob into a layout; returns its descriptor fields. */
export async function writeBlob(layoutDir: string, bytes: Buffer): Promise<{ digest: string; size: number }> {
  const blobDir = join(layoutDir, 'blobs', 'sha256');
  await mkdir(blobDir, { recursive: true });
  const hex = sha256Hex(bytes);
  await writeFile(join(blobDir, hex), bytes);
  return { digest: `sha256:${hex}`, size: bytes.length };
}

/** The config JSON of an image (OCI image config). */
export function imageConfig(spec: ImageSpec, diffIds: string[]): Record<string, unknown> {
  const platform = spec.platform ?? DEFAULT_PLATFORM;
  const created = spec.created ?? FIXED_CREATED;
  const exposed: Record<string, Record<string, never>> = {};
  for (const port of spec.exposedPorts ?? []) exposed[port] = {};
  return {
    created,
    author: spec.author ?? 'Berth e2e tests',
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: {
      User: spec.user ?? '',
      ExposedPorts: exposed,
      Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Entrypoint: spec.entrypoint ?? ['/bin/sh', '-c'],
      Cmd: spec.cmd ?? ['echo hello'],
      WorkingDir: spec.workingDir ?? '/',
      Labels: spec.labels ?? {},
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
    history: spec.layers.map((layer, i) => ({
      created,
      created_by: `/bin/sh -c #(nop) ADD layer ${i} (${layer.size} bytes, seed ${layer.seed})`,
      comment: 'generated by test/support/oci-images.ts',
    })),
  };
}

async function writeImage(layoutDir: string, spec: ImageSpec): Promise<BuiltImage> {
  const layers: BuiltLayer[] = [];
  for (const layer of spec.layers) layers.push(await writeLayer(layoutDir, layer));
  const configBytes = Buffer.from(JSON.stringify(imageConfig(spec, layers.map((l) => l.diffId))));
  const config = await writeBlob(layoutDir, configBytes);
  const manifest: OciManifest = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociManifest,
    config: { mediaType: MEDIA_TYPES.ociConfig, digest: config.digest, size: config.size },
    layers: layers.map((l) => ({ mediaType: MEDIA_TYPES.ociLayerGzip, digest: l.digest, size: l.size })),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const written = await writeBlob(layoutDir, manifestBytes);
  return {
    manifestDigest: written.digest,
    manifestBytes,
    manifest,
    configDigest: config.digest,
    configBytes,
    layers,
    platform: spec.platform ?? DEFAULT_PLATFORM,
  };
}

/** Add (or replace) a tag in the layout's index.json, creating the layout if needed. */
async function tagInLayout(layoutDir: string, tag: string, descriptor: Descriptor): Promise<void> {
  await mkdir(layoutDir, { recursive: true });
  await writeFile(join(layoutDir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const indexPath = join(layoutDir, 'index.json');
  let index: OciIndex = { schemaVersion: 2, mediaType: MEDIA_TYPES.ociIndex, manifests: [] };
  try {
    index = JSON.parse(await readFile(indexPath, 'utf8')) as OciIndex;
  } catch {
    // no index yet
  }
  const refName = 'org.opencontainers.image.ref.name';
  index.manifests = index.manifests.filter((m) => m.annotations?.[refName] !== tag);
  index.manifests.push({ ...descriptor, annotations: { ...descriptor.annotations, [refName]: tag } });
  await writeFile(indexPath, JSON.stringify(index));
}

function layoutBlobs(images: BuiltImage[], extra: string[]): string[] {
  const all = new Set<string>(extra);
  for (const image of images) {
    all.add(image.manifestDigest);
    all.add(image.configDigest);
    for (const layer of image.layers) all.add(layer.digest);
  }
  return [...all];
}

/** Generate a single-arch image into `layoutDir` under `tag`. */
export async function createImageLayout(layoutDir: string, tag: string, spec: ImageSpec): Promise<BuiltLayout> {
  await mkdir(layoutDir, { recursive: true });
  const image = await writeImage(layoutDir, spec);
  await tagInLayout(layoutDir, tag, {
    mediaType: MEDIA_TYPES.ociManifest,
    digest: image.manifestDigest,
    size: image.manifestBytes.length,
  });
  return {
    dir: layoutDir,
    tag,
    ref: `oci:${layoutDir}:${tag}`,
    digest: image.manifestDigest,
    mediaType: MEDIA_TYPES.ociManifest,
    images: [image],
    blobs: layoutBlobs([image], []),
  };
}

/**
 * Generate a multi-arch image: an OCI index over one image per spec (each
 * spec's `platform` is required), tagged `tag` in `layoutDir`.
 */
export async function createIndexLayout(layoutDir: string, tag: string, specs: ImageSpec[]): Promise<BuiltLayout> {
  await mkdir(layoutDir, { recursive: true });
  const images: BuiltImage[] = [];
  for (const spec of specs) {
    if (!spec.platform) throw new Error('createIndexLayout: every image needs a platform');
    images.push(await writeImage(layoutDir, spec));
  }
  const index: OciIndex = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.ociIndex,
    manifests: images.map((image) => ({
      mediaType: MEDIA_TYPES.ociManifest,
      digest: image.manifestDigest,
      size: image.manifestBytes.length,
      platform: image.platform,
    })),
  };
  const bytes = Buffer.from(JSON.stringify(index));
  const written = await writeBlob(layoutDir, bytes);
  await tagInLayout(layoutDir, tag, { mediaType: MEDIA_TYPES.ociIndex, digest: written.digest, size: bytes.length });
  return {
    dir: layoutDir,
    tag,
    ref: `oci:${layoutDir}:${tag}`,
    digest: written.digest,
    mediaType: MEDIA_TYPES.ociIndex,
    images,
    index: { digest: written.digest, bytes, index },
    blobs: layoutBlobs(images, [written.digest]),
  };
}

/** The usual two-platform pair for multi-arch tests. */
export function multiArchSpecs(base: Omit<ImageSpec, 'platform'>): ImageSpec[] {
  return [
    { ...base, platform: { architecture: 'amd64', os: 'linux' } },
    {
      ...base,
      layers: base.layers.map((l) => ({ ...l, seed: `${l.seed}/arm64` })),
      platform: { architecture: 'arm64', os: 'linux', variant: 'v8' },
    },
  ];
}

/** What a tag in a layout's index.json points at. */
export async function readLayoutTag(layoutDir: string, tag: string): Promise<Descriptor> {
  const index = JSON.parse(await readFile(join(layoutDir, 'index.json'), 'utf8')) as OciIndex;
  const found = index.manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === tag);
  if (found) return found;
  if (index.manifests.length === 1 && index.manifests[0]) return index.manifests[0];
  throw new Error(`tag ${tag} not in ${layoutDir}/index.json`);
}

/** Every blob digest stored in a layout's blobs/ directory (verified against its content). */
export async function listLayoutBlobs(layoutDir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const root = join(layoutDir, 'blobs');
  for (const alg of await readdir(root)) {
    for (const hex of await readdir(join(root, alg))) {
      if (hex.startsWith('.')) continue;
      const info = await stat(join(root, alg, hex));
      out.set(`${alg}:${hex}`, info.size);
    }
  }
  return out;
}
