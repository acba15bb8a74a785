/**
 * The image-stream resources of the API (ImageStream, Image, ImageStreamTag,
 * ImageStreamImage, Secret), rendered from the image-streams domain's views
 * in the shapes of OpenShift's image.openshift.io/v1 (docs/api.md, "Image
 * streams"). Output always says `berth.dev/v1`. A Secret never carries its
 * credentials.
 */

import type { ImageStreamView, PrunedHistory } from '../../../imagestreams/image-stream-service.ts';
import type { ImportResult, PullSecretView } from '../../../imagestreams/import-contract.ts';
import type {
  ImageRecord,
  ImageStreamCondition,
  ImageStreamRecord,
  ImageStreamSpec,
  ImageStreamSpecTag,
  TagItemRecord,
} from '../../../metadata/stores.ts';
import { API_VERSION, timestamp } from '../resources.ts';

/** Annotations under this prefix are the server's (the time of the last import check…): clients cannot set them. */
export const SERVER_ANNOTATION_PREFIX = 'image.berth.dev/';
/** When the stream's external repository was last checked (RFC 3339), set by the importer. */
export const REPOSITORY_CHECK_ANNOTATION = 'image.berth.dev/dockerRepositoryCheck';

/** A condition as the API shows it; `generation` is the stream's spec generation it was recorded against. */
function conditionObject(c: ImageStreamCondition, generation: number): object {
  return {
    type: c.type,
    status: c.status,
    ...(c.reason === undefined ? {} : { reason: c.reason }),
    ...(c.message === undefined ? {} : { message: c.message }),
    lastTransitionTime: timestamp(c.lastTransitionTime),
    generation,
  };
}

/**
 * One history item (OpenShift's TagEvent), plus where it came from: `source.kind`
 * is push, import, tag or rollback; `source.ref` the source `project/stream:tag`
 * of a tag, the external reference of an import, the generation rolled back to.
 */
export function tagEventObject(item: TagItemRecord): object {
  return {
    created: timestamp(item.createdAt),
    dockerImageReference: item.dockerImageReference,
    image: item.imageDigest,
    generation: item.generation,
    source: item.sourceRef === null ? { kind: item.sourceKind } : { kind: item.sourceKind, ref: item.sourceRef },
  };
}

/**
 * The answer to a prune: what was asked, how many streams were looked at,
 * and each history item removed (or, for a dry run, that would be), as a
 * TagEvent with its stream and tag.
 */
export function imageStreamPruneObject(
  project: string,
  stream: string | undefined,
  spec: { readonly keepTagRevisions: number; readonly keepYoungerThanSeconds: number; readonly dryRun: boolean },
  result: PrunedHistory,
): object {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageStreamPrune',
    metadata: { namespace: project, ...(stream === undefined ? {} : { name: stream }) },
    spec,
    status: {
      imageStreams: result.streams,
      pruned: result.items.map((item) => ({ stream: item.stream, tag: item.tag, ...tagEventObject(item) })),
    },
  };
}

function specTagObject(t: ImageStreamSpecTag): object {
  return {
    name: t.name,
    ...(t.annotations === undefined ? {} : { annotations: t.annotations }),
    ...(t.from === undefined ? {} : { from: t.from }),
    importPolicy: { scheduled: t.importPolicy?.scheduled ?? false, insecure: t.importPolicy?.insecure ?? false },
    referencePolicy: { type: t.referencePolicy?.type ?? 'Source' },
  };
}

function specObject(spec: ImageStreamSpec): object {
  return {
    ...(spec.dockerImageRepository === undefined ? {} : { dockerImageRepository: spec.dockerImageRepository }),
    tags: (spec.tags ?? []).map(specTagObject),
  };
}

/** `metadata` of an ImageStream. `resourceVersion` is a string, as in Kubernetes (clients echo it back unchanged). */
function streamMetadata(s: ImageStreamRecord): object {
  return {
    name: s.name,
    namespace: s.project,
    uid: s.uid,
    resourceVersion: String(s.resourceVersion),
    generation: s.generation,
    creationTimestamp: timestamp(s.createdAt),
    annotations: { ...s.annotations },
  };
}

/** The `importResult` summary of an import answer. */
function importObject(result: ImportResult): object {
  return {
    tagsFound: result.tagsFound,
    imported: result.imported.map((t) => ({ tag: t.tag, image: t.digest, changed: t.changed })),
    failed: result.failed.map((t) => ({ tag: t.tag, reason: t.reason, message: t.message })),
  };
}

/**
 * An ImageStream. `status.tags` holds every live tag (byte order) with its
 * newest items, and also a tag that has only conditions (an import of it
 * failed before it ever had an image), with `items: []`. Conditions that
 * concern no single tag are `status.conditions`. `importResult` is the
 * summary of the import this answer follows (POST …/import only).
 */
export function imageStreamObject(view: ImageStreamView, importResult?: ImportResult): object {
  const s = view.stream;
  const byTag = new Map<string, ImageStreamCondition[]>();
  const streamConditions: ImageStreamCondition[] = [];
  for (const c of s.conditions) {
    if (c.tag === undefined) streamConditions.push(c);
    else byTag.set(c.tag, [...(byTag.get(c.tag) ?? []), c]);
  }
  const tags: { tag: string; items: readonly TagItemRecord[] }[] = [...view.tags];
  for (const tag of byTag.keys()) if (!tags.some((t) => t.tag === tag)) tags.push({ tag, items: [] });
  tags.sort((a, b) => Buffer.compare(Buffer.from(a.tag), Buffer.from(b.tag)));
  return {
    apiVersion: API_VERSION,
    kind: 'ImageStream',
    metadata: streamMetadata(s),
    spec: specObject(s.spec),
    status: {
      dockerImageRepository: view.dockerImageRepository,
      tags: tags.map((t) => {
        const conditions = byTag.get(t.tag) ?? [];
        return {
          tag: t.tag,
          items: t.items.map(tagEventObject),
          ...(conditions.length === 0 ? {} : { conditions: conditions.map((c) => conditionObject(c, s.generation)) }),
        };
      }),
      ...(streamConditions.length === 0 ? {} : { conditions: streamConditions.map((c) => conditionObject(c, s.generation)) }),
    },
    ...(importResult === undefined ? {} : { importResult: importObject(importResult) }),
  };
}

/**
 * An Image. `dockerImageReference` is where the caller pulls it from (the
 * stream it was reached through). Keys present for every image: metadata,
 * dockerImageReference, dockerImageManifestMediaType, dockerImageMetadataVersion,
 * dockerImageLayers (empty for an index). Only when the config is an image
 * config: dockerImageMetadata, dockerImageConfigDigest, dockerImageHistory.
 * Only for a manifest list or index: dockerImageManifests. Only when the
 * manifest has annotations: annotations.
 */
export function imageObject(image: ImageRecord, dockerImageReference: string): object {
  const m = image.metadata;
  return {
    apiVersion: API_VERSION,
    kind: 'Image',
    metadata: { name: image.digest, creationTimestamp: timestamp(image.createdAt) },
    dockerImageReference,
    dockerImageManifestMediaType: image.mediaType,
    ...(m === null
      ? {}
      : {
          dockerImageMetadata: {
            ...(m.author === undefined ? {} : { Author: m.author }),
            ...(m.created === undefined ? {} : { Created: m.created }),
            ...(m.dockerVersion === undefined ? {} : { DockerVersion: m.dockerVersion }),
            ...(m.architecture === undefined ? {} : { Architecture: m.architecture }),
            ...(m.os === undefined ? {} : { Os: m.os }),
            ...(m.variant === undefined ? {} : { Variant: m.variant }),
            Size: m.size,
            Config: m.config ?? {},
          },
        }),
    dockerImageMetadataVersion: '1.0',
    ...(image.configDigest === null ? {} : { dockerImageConfigDigest: image.configDigest }),
    dockerImageLayers: image.layers.map((l) => ({ name: l.name, size: l.size, mediaType: l.mediaType })),
    ...(m === null
      ? {}
      : {
          dockerImageHistory: m.history.map((h) => ({
            ...(h.created === undefined ? {} : { created: h.created }),
            ...(h.created_by === undefined ? {} : { createdBy: h.created_by }),
            emptyLayer: h.empty_layer ?? false,
            ...(h.comment === undefined ? {} : { comment: h.comment }),
          })),
        }),
    ...(image.manifests.length === 0
      ? {}
      : {
          dockerImageManifests: image.manifests.map((e) => ({
            digest: e.digest,
            mediaType: e.mediaType,
            manifestSize: e.size,
            ...(e.platform === null
              ? {}
              : {
                  architecture: e.platform.architecture,
                  os: e.platform.os,
                  ...(e.platform.variant === undefined ? {} : { variant: e.platform.variant }),
                }),
          })),
        }),
    ...(image.annotations === null ? {} : { annotations: { ...image.annotations } }),
  };
}

/** An ImageStreamTag: `name:tag` with its spec tag (or null), current generation, image and the tag's conditions. */
export function imageStreamTagObject(stream: ImageStreamRecord, tag: string, current: TagItemRecord, image: ImageRecord): object {
  const specTag = stream.spec.tags?.find((t) => t.name === tag);
  return {
    apiVersion: API_VERSION,
    kind: 'ImageStreamTag',
    metadata: { name: `${stream.name}:${tag}`, namespace: stream.project, creationTimestamp: timestamp(current.createdAt) },
    tag: specTag === undefined ? null : specTagObject(specTag),
    generation: current.generation,
    image: imageObject(image, current.dockerImageReference),
    conditions: stream.conditions.filter((c) => c.tag === tag).map((c) => conditionObject(c, stream.generation)),
  };
}

/** An ImageStreamImage: `name@digest`; `creationTimestamp` is when the image was first recorded. */
export function imageStreamImageObject(stream: ImageStreamRecord, image: ImageRecord, dockerImageReference: string): object {
  return {
    apiVersion: API_VERSION,
    kind: 'ImageStreamImage',
    metadata: { name: `${stream.name}@${image.digest}`, namespace: stream.project, creationTimestamp: timestamp(image.createdAt) },
    image: imageObject(image, dockerImageReference),
  };
}

/** A pull secret: its name, type and the registry hosts it holds credentials for; never the credentials. */
export function secretObject(s: PullSecretView): object {
  return {
    apiVersion: API_VERSION,
    kind: 'Secret',
    metadata: { name: s.name, namespace: s.project, creationTimestamp: timestamp(s.createdAt) },
    type: s.type,
    registries: [...s.registries],
  };
}
