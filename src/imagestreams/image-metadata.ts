/**
 * What an image is, read once from its manifest and config blob when it is
 * pushed (or imported): the Image record of the image-streams API. Pure: the
 * caller reads the config blob.
 *
 * Lenient by design: the registry already accepted the manifest, and a field
 * of the wrong type in a config (a numeric label, a null Cmd) must not lose
 * the rest of the metadata or fail the push, so such fields are left out.
 */

import type {
  DockerImageMetadata,
  ImageContainerConfig,
  ImageHealthcheck,
  ImageHistoryEntry,
  ImageManifestEntry,
  ImageRecord,
} from '../metadata/stores.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import { MEDIA_TYPES } from '../oci/media-types.ts';

/**
 * Config blobs larger than this are not read: real image configs are a few
 * KiB (a long history reaches some hundreds), and an artifact's "config" can
 * be anything, so the recorder must not buffer an arbitrary blob.
 */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/** True for the config media types whose content is an image config (OCI or Docker v1 image JSON). */
export function isImageConfigMediaType(mediaType: string): boolean {
  return mediaType === MEDIA_TYPES.ociConfig || mediaType === MEDIA_TYPES.dockerConfig;
}

/** True when the recorder should read this manifest's config blob for extractImage. */
export function wantsConfig(parsed: ParsedManifest): boolean {
  return parsed.kind === 'image' && parsed.config !== null && isImageConfigMediaType(parsed.config.mediaType) && parsed.config.size <= MAX_CONFIG_BYTES;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: Json | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

function strings(value: Json | undefined): string[] | undefined {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined;
}

function stringMap(value: Json | undefined): Record<string, string> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) if (typeof item === 'string') out[key] = item;
  return out;
}

/** `{"80/tcp": {}}` style sets; the values carry nothing, so they are normalised to `{}`. */
function keySet(value: Json | undefined): Record<string, Record<string, never>> | undefined {
  if (!isObject(value)) return undefined;
  const out: Record<string, Record<string, never>> = {};
  for (const key of Object.keys(value)) out[key] = {};
  return out;
}

function int(value: Json | undefined): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

/** Copies the defined values only, so that stored JSON and test expectations carry no `undefined` keys. */
function defined<T extends object>(value: { [K in keyof T]: T[K] | undefined }): T {
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) if (item !== undefined) out[key] = item;
  return out as T;
}

function healthcheck(value: Json | undefined): ImageHealthcheck | undefined {
  if (!isObject(value)) return undefined;
  return defined<ImageHealthcheck>({
    Test: strings(value['Test']),
    Interval: int(value['Interval']),
    Timeout: int(value['Timeout']),
    StartPeriod: int(value['StartPeriod']),
    StartInterval: int(value['StartInterval']),
    Retries: int(value['Retries']),
  });
}

function containerConfig(value: Json | undefined): ImageContainerConfig | undefined {
  if (!isObject(value)) return undefined;
  return defined<ImageContainerConfig>({
    User: str(value['User']),
    ExposedPorts: keySet(value['ExposedPorts']),
    Env: strings(value['Env']),
    Entrypoint: strings(value['Entrypoint']),
    Cmd: strings(value['Cmd']),
    Volumes: keySet(value['Volumes']),
    WorkingDir: str(value['WorkingDir']),
    Labels: stringMap(value['Labels']),
    StopSignal: str(value['StopSignal']),
    Shell: strings(value['Shell']),
    OnBuild: strings(value['OnBuild']),
    Healthcheck: healthcheck(value['Healthcheck']),
    ArgsEscaped: typeof value['ArgsEscaped'] === 'boolean' ? value['ArgsEscaped'] : undefined,
  });
}

function history(value: Json | undefined): ImageHistoryEntry[] {
  if (!Array.isArray(value)) return [];
  return value.filter(isObject).map((entry) =>
    defined<ImageHistoryEntry>({
      created: str(entry['created']),
      created_by: str(entry['created_by']),
      author: str(entry['author']),
      comment: str(entry['comment']),
      // Docker writes the key only when true; keep that shape.
      empty_layer: entry['empty_layer'] === true ? true : undefined,
    }),
  );
}

/**
 * Reads an OCI image config or a Docker v1 image JSON. Undefined when the
 * bytes are not a JSON object (then the image is recorded without metadata).
 *
 * @param size the bytes of config plus layers, for `DockerImageMetadata.size`.
 */
export function parseImageConfig(bytes: Uint8Array, size: number): DockerImageMetadata | undefined {
  let body: Json;
  try {
    body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Json;
  } catch {
    return undefined;
  }
  if (!isObject(body)) return undefined;
  const rootfs = body['rootfs'];
  return defined<DockerImageMetadata>({
    author: str(body['author']),
    created: str(body['created']),
    dockerVersion: str(body['docker_version']),
    architecture: str(body['architecture']),
    os: str(body['os']),
    variant: str(body['variant']),
    osVersion: str(body['os.version']),
    // Docker's container_config describes the build container, not the image: `config` is what runs.
    config: containerConfig(body['config']),
    history: history(body['history']),
    diffIds: (isObject(rootfs) ? strings(rootfs['diff_ids']) : undefined) ?? [],
    size,
  });
}

/** The manifest side of an image record, and the config bytes when the caller read them. */
export interface ExtractImageInput {
  readonly digest: string;
  /** Bytes of the manifest. */
  readonly size: number;
  readonly parsed: ParsedManifest;
  /** The config blob, for an image manifest whose config wantsConfig() reads; undefined otherwise. */
  readonly config: Uint8Array | undefined;
  readonly now: number;
}

/**
 * The Image record of a manifest. For an index or manifest list: its
 * per-platform manifests, no metadata (each child is an image of its own).
 * For an image manifest: layers in order, the config digest, and the config's
 * metadata when the config was given and is an image config.
 */
export function extractImage(input: ExtractImageInput): ImageRecord {
  const { parsed } = input;
  if (parsed.kind === 'index') {
    const manifests: ImageManifestEntry[] = parsed.manifests.map((m) => ({
      digest: m.digest,
      mediaType: m.mediaType,
      size: m.size,
      platform: m.platform === undefined ? null : { ...m.platform },
    }));
    return {
      digest: input.digest,
      mediaType: parsed.mediaType,
      size: input.size,
      configDigest: null,
      metadata: null,
      layers: [],
      manifests,
      annotations: parsed.annotations,
      createdAt: input.now,
    };
  }
  const layers = parsed.layers.map((l) => ({ name: l.digest, size: l.size, mediaType: l.mediaType }));
  const total = (parsed.config?.size ?? 0) + layers.reduce((sum, l) => sum + l.size, 0);
  const metadata = input.config === undefined ? undefined : parseImageConfig(input.config, total);
  return {
    digest: input.digest,
    mediaType: parsed.mediaType,
    size: input.size,
    configDigest: parsed.config?.digest ?? null,
    metadata: metadata ?? null,
    layers,
    manifests: [],
    annotations: parsed.annotations,
    createdAt: input.now,
  };
}
