import { OciError } from './errors.ts';
import { parseDigest } from './digest.ts';
import { isNonDistributable, isSchema1, manifestKind, MEDIA_TYPES, type ManifestKind } from './media-types.ts';

export interface Platform {
  readonly architecture: string;
  readonly os: string;
  readonly variant?: string;
  readonly 'os.version'?: string;
}

export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Readonly<Record<string, string>>;
  readonly platform?: Platform;
  readonly urls?: readonly string[];
}

/** What the registry needs to know of a manifest, read once when it is pushed. */
export interface ParsedManifest {
  readonly mediaType: string;
  readonly kind: ManifestKind;
  /** Image manifests: the config descriptor. */
  readonly config: Descriptor | null;
  /** Image manifests: the layers, in order. */
  readonly layers: readonly Descriptor[];
  /** Indexes: the child manifests. */
  readonly manifests: readonly Descriptor[];
  readonly subject: Descriptor | null;
  /** As the referrers API reports it: `artifactType`, else an image's config media type. */
  readonly artifactType: string | null;
  readonly annotations: Readonly<Record<string, string>> | null;
  /** Blobs the repository must hold for the manifest to be accepted. */
  readonly requiredBlobs: readonly Descriptor[];
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

function invalid(message: string): OciError {
  return new OciError('MANIFEST_INVALID', message);
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(object: JsonObject, key: string, where: string): string | undefined {
  const value = object[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(`${where}.${key} must be a string`);
  return value;
}

function stringMap(value: Json | undefined, where: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isObject(value)) throw invalid(`${where} must be an object of strings`);
  const result: Record<string, string> = {};
  for (const [key, item] of Object.entries(value)) {
    if (typeof item !== 'string') throw invalid(`${where}.${key} must be a string`);
    result[key] = item;
  }
  return result;
}

function parsePlatform(value: Json | undefined, where: string): Platform | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value)) throw invalid(`${where} must be an object`);
  const architecture = optionalString(value, 'architecture', where);
  const os = optionalString(value, 'os', where);
  if (architecture === undefined || os === undefined) throw invalid(`${where} needs architecture and os`);
  const variant = optionalString(value, 'variant', where);
  const osVersion = optionalString(value, 'os.version', where);
  return {
    architecture,
    os,
    ...(variant === undefined ? {} : { variant }),
    ...(osVersion === undefined ? {} : { 'os.version': osVersion }),
  };
}

function parseDescriptor(value: Json | undefined, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be a descriptor object`);
  const mediaType = optionalString(value, 'mediaType', where);
  if (mediaType === undefined || mediaType === '') throw invalid(`${where}.mediaType is required`);
  const digestText = optionalString(value, 'digest', where);
  if (digestText === undefined) throw invalid(`${where}.digest is required`);
  try {
    parseDigest(digestText);
  } catch {
    throw invalid(`${where}.digest ${JSON.stringify(digestText.slice(0, 200))} is not a valid sha256 or sha512 digest`);
  }
  const size = value['size'];
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid(`${where}.size must be a non-negative integer`);
  const artifactType = optionalString(value, 'artifactType', where);
  const annotations = stringMap(value['annotations'], `${where}.annotations`);
  const platform = parsePlatform(value['platform'], `${where}.platform`);
  const urlsValue = value['urls'];
  let urls: string[] | undefined;
  if (urlsValue !== undefined) {
    if (!Array.isArray(urlsValue) || !urlsValue.every((u) => typeof u === 'string')) throw invalid(`${where}.urls must be an array of strings`);
    urls = urlsValue as string[];
  }
  return {
    mediaType,
    digest: digestText,
    size,
    ...(artifactType === undefined ? {} : { artifactType }),
    ...(annotations === undefined ? {} : { annotations }),
    ...(platform === undefined ? {} : { platform }),
    ...(urls === undefined ? {} : { urls }),
  };
}

function descriptorList(value: Json | undefined, where: string, required: boolean): Descriptor[] {
  if (value === undefined || value === null) {
    if (required) throw invalid(`${where} is required`);
    return [];
  }
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((item, i) => parseDescriptor(item, `${where}[${i}]`));
}

/** The media type of a manifest, from its body and the Content-Type it was sent with (OCI: they must agree). */
function effectiveMediaType(body: JsonObject, contentType: string | undefined): string {
  const declared = optionalString(body, 'mediaType', 'manifest');
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const candidates = [declared, header].filter((t): t is string => t !== undefined && t !== '');
  if (candidates.some(isSchema1) || body['schemaVersion'] === 1) {
    throw invalid('Docker schema1 manifests are not supported: push the image as Docker schema2 or OCI (for example skopeo copy --format v2s2)');
  }
  if (declared !== undefined && header !== undefined && manifestKind(header) !== undefined && declared !== header) {
    throw invalid(`manifest mediaType ${JSON.stringify(declared)} does not match Content-Type ${JSON.stringify(header)}`);
  }
  if (declared !== undefined) return declared;
  if (header !== undefined && manifestKind(header) !== undefined) return header;
  // OCI allows mediaType to be omitted; tell the two OCI shapes apart by structure.
  if (Array.isArray(body['manifests'])) return MEDIA_TYPES.ociIndex;
  if (isObject(body['config'])) return MEDIA_TYPES.ociManifest;
  throw invalid('cannot tell the manifest media type: set mediaType or Content-Type');
}

/**
 * Parses and validates a manifest as pushed. Accepts OCI image manifests and
 * indexes (including artifacts and `subject`) and Docker schema2 manifests and
 * manifest lists; refuses everything else with MANIFEST_INVALID and a message
 * that says what is wrong.
 */
export function parseManifest(bytes: Uint8Array, contentType: string | undefined): ParsedManifest {
  let body: Json;
  try {
    body = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as Json;
  } catch (error) {
    throw invalid(`manifest is not valid JSON: ${(error as Error).message}`);
  }
  if (!isObject(body)) throw invalid('manifest must be a JSON object');
  const mediaType = effectiveMediaType(body, contentType);
  const kind = manifestKind(mediaType);
  if (kind === undefined) throw invalid(`unsupported manifest media type ${JSON.stringify(mediaType)}`);
  if (body['schemaVersion'] !== 2) throw invalid('schemaVersion must be 2');

  const subject = body['subject'] === undefined || body['subject'] === null ? null : parseDescriptor(body['subject'], 'subject');
  const annotations = stringMap(body['annotations'], 'annotations') ?? null;
  const declaredArtifactType = optionalString(body, 'artifactType', 'manifest') ?? null;

  if (kind === 'index') {
    const manifests = descriptorList(body['manifests'], 'manifests', true);
    for (const [i, child] of manifests.entries()) {
      if (manifestKind(child.mediaType) === undefined && !child.mediaType.endsWith('+json')) {
        throw invalid(`manifests[${i}].mediaType ${JSON.stringify(child.mediaType)} is not a manifest media type`);
      }
    }
    return { mediaType, kind, config: null, layers: [], manifests, subject, artifactType: declaredArtifactType, annotations, requiredBlobs: [] };
  }

  const config = parseDescriptor(body['config'], 'config');
  const layers = descriptorList(body['layers'], 'layers', mediaType === MEDIA_TYPES.dockerManifest);
  const requiredBlobs = [config, ...layers.filter((l) => !(isNonDistributable(l.mediaType) && (l.urls?.length ?? 0) > 0))];
  return {
    mediaType,
    kind,
    config,
    layers,
    manifests: [],
    subject,
    artifactType: declaredArtifactType ?? config.mediaType,
    annotations,
    requiredBlobs,
  };
}
