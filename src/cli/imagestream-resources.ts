/**
 * The image-stream shapes of the resource API (docs/api.md, "Image streams")
 * as the CLI reads them: ImageStream, TagEvent, Image, ImageStreamTag,
 * ImageStreamImage, Secret. Loose, like resources.ts: fields the CLI does not
 * know are kept, so `-o json` prints what the server sent.
 */
import { z } from 'zod';

const stringMap = z.record(z.string(), z.string());

export const objectMetadataSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().nullish(),
  uid: z.string().nullish(),
  resourceVersion: z.union([z.string(), z.number()]).nullish(),
  generation: z.number().nullish(),
  creationTimestamp: z.string().nullish(),
  annotations: stringMap.nullish(),
});

export const conditionSchema = z.looseObject({
  type: z.string(),
  status: z.string(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  lastTransitionTime: z.string().nullish(),
  generation: z.number().nullish(),
});
export type Condition = z.infer<typeof conditionSchema>;

/** One history item of a tag (OpenShift's TagEvent) with where it came from. */
export const tagEventSchema = z.looseObject({
  created: z.string().nullish(),
  dockerImageReference: z.string().nullish(),
  image: z.string(),
  generation: z.number().nullish(),
  source: z.looseObject({ kind: z.string(), ref: z.string().nullish() }).nullish(),
});
export type TagEvent = z.infer<typeof tagEventSchema>;

export const objectReferenceSchema = z.looseObject({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullish(),
});

export const specTagSchema = z.looseObject({
  name: z.string(),
  annotations: stringMap.nullish(),
  from: objectReferenceSchema.nullish(),
  importPolicy: z.looseObject({ scheduled: z.boolean().nullish(), insecure: z.boolean().nullish() }).nullish(),
  referencePolicy: z.looseObject({ type: z.string().nullish() }).nullish(),
});
export type SpecTag = z.infer<typeof specTagSchema>;

export const statusTagSchema = z.looseObject({
  tag: z.string(),
  items: z.array(tagEventSchema).nullish(),
  conditions: z.array(conditionSchema).nullish(),
});
export type StatusTag = z.infer<typeof statusTagSchema>;

export const importResultSchema = z.looseObject({
  tagsFound: z.number().nullish(),
  imported: z.array(z.looseObject({ tag: z.string(), image: z.string().nullish(), changed: z.boolean().nullish() })).nullish(),
  failed: z.array(z.looseObject({ tag: z.string().nullish(), reason: z.string().nullish(), message: z.string().nullish() })).nullish(),
});
export type ImportResult = z.infer<typeof importResultSchema>;

export const imageStreamSchema = z.looseObject({
  kind: z.literal('ImageStream').optional(),
  metadata: objectMetadataSchema,
  spec: z.looseObject({ dockerImageRepository: z.string().nullish(), tags: z.array(specTagSchema).nullish() }).nullish(),
  status: z.looseObject({
    dockerImageRepository: z.string().nullish(),
    tags: z.array(statusTagSchema).nullish(),
    conditions: z.array(conditionSchema).nullish(),
  }).nullish(),
  importResult: importResultSchema.nullish(),
});
export type ImageStream = z.infer<typeof imageStreamSchema>;

export const imageConfigSchema = z.looseObject({
  Env: z.array(z.string()).nullish(),
  Cmd: z.array(z.string()).nullish(),
  Entrypoint: z.array(z.string()).nullish(),
  ExposedPorts: z.record(z.string(), z.unknown()).nullish(),
  WorkingDir: z.string().nullish(),
  User: z.string().nullish(),
  Labels: stringMap.nullish(),
});

export const imageSchema = z.looseObject({
  kind: z.literal('Image').optional(),
  metadata: objectMetadataSchema,
  dockerImageReference: z.string().nullish(),
  dockerImageManifestMediaType: z.string().nullish(),
  dockerImageMetadata: z.looseObject({
    Author: z.string().nullish(),
    Created: z.string().nullish(),
    DockerVersion: z.string().nullish(),
    Architecture: z.string().nullish(),
    Os: z.string().nullish(),
    Variant: z.string().nullish(),
    Size: z.number().nullish(),
    Config: imageConfigSchema.nullish(),
  }).nullish(),
  dockerImageConfigDigest: z.string().nullish(),
  dockerImageLayers: z.array(z.looseObject({ name: z.string(), size: z.number(), mediaType: z.string().nullish() })).nullish(),
  dockerImageHistory: z.array(z.looseObject({
    created: z.string().nullish(),
    createdBy: z.string().nullish(),
    emptyLayer: z.boolean().nullish(),
    comment: z.string().nullish(),
  })).nullish(),
  dockerImageManifests: z.array(z.looseObject({
    digest: z.string(),
    mediaType: z.string().nullish(),
    manifestSize: z.number().nullish(),
    architecture: z.string().nullish(),
    os: z.string().nullish(),
    variant: z.string().nullish(),
  })).nullish(),
  annotations: stringMap.nullish(),
});
export type Image = z.infer<typeof imageSchema>;

export const imageStreamTagSchema = z.looseObject({
  kind: z.literal('ImageStreamTag').optional(),
  metadata: objectMetadataSchema,
  tag: specTagSchema.nullish(),
  generation: z.number().nullish(),
  image: imageSchema,
  conditions: z.array(conditionSchema).nullish(),
});
export type ImageStreamTag = z.infer<typeof imageStreamTagSchema>;

export const imageStreamImageSchema = z.looseObject({
  kind: z.literal('ImageStreamImage').optional(),
  metadata: objectMetadataSchema,
  image: imageSchema,
});

export const secretSchema = z.looseObject({
  kind: z.literal('Secret').optional(),
  metadata: objectMetadataSchema,
  type: z.string().nullish(),
  registries: z.array(z.string()).nullish(),
});
export type Secret = z.infer<typeof secretSchema>;
