/**
 * Request bodies of the image-stream routes, as zod schemas. Objects are
 * closed: an unknown field is refused (422) naming it, so that a typo in a
 * document (`dockerImageRepo`) is not silently dropped. Read-only fields of
 * our own output (`uid`, `creationTimestamp`, `generation`, `status`) are
 * accepted and ignored, so that a GET's answer can be PUT back as it is.
 */

import { z } from 'zod';
import { isValidTag } from '../../../oci/names.ts';

/** An object that refuses unknown keys, naming them with their full path (`spec.tags.0.foo`). */
function closed<T extends z.ZodRawShape>(path: string, shape: T) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const prefix = issue.path !== undefined && issue.path.length > 0 ? `${issue.path.map(String).join('.')}.` : path === '' ? '' : `${path}.`;
      return `unknown field${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(`${prefix}${k}`)).join(', ')}`;
    },
  });
}

/** Input documents may say OpenShift's or Kubernetes' core group version (so they are accepted verbatim), or ours. */
export const INPUT_API_VERSIONS = ['v1', 'image.openshift.io/v1', 'berth.dev/v1'] as const;
const apiVersion = z.enum(INPUT_API_VERSIONS).optional();

const annotations = z.record(z.string(), z.string());
const resourceVersion = z.union([z.string().regex(/^\d{1,15}$/, 'must be the resourceVersion the server returned'), z.number().int().nonnegative()]);

const tagName = z.string().refine(isValidTag, "must be a tag: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'");

/** `from` of a spec tag (and of an ImageStreamTag PUT). */
const ObjectReference = closed('from', {
  kind: z.enum(['DockerImage', 'ImageStreamTag', 'ImageStreamImage']),
  name: z.string().min(1).max(1024),
  namespace: z.string().min(1).optional(),
});

const SpecTag = closed('spec.tags[]', {
  name: tagName,
  annotations: annotations.optional(),
  from: ObjectReference.optional(),
  importPolicy: closed('importPolicy', { scheduled: z.boolean().optional(), insecure: z.boolean().optional() }).optional(),
  referencePolicy: closed('referencePolicy', { type: z.enum(['Source', 'Local']) }).optional(),
  // OpenShift's spec tags carry the server's generation; accepted and ignored, like metadata.generation.
  generation: z.number().int().nullable().optional(),
});

const Spec = closed('spec', {
  dockerImageRepository: z.string().min(1).max(1024).optional(),
  tags: z
    .array(SpecTag)
    .max(1000)
    .refine((tags) => new Set(tags.map((t) => t.name)).size === tags.length, 'tag names must be unique')
    .optional(),
  // OpenShift's `lookupPolicy` has no meaning here (there is no cluster to resolve short names); left out on purpose.
});

const StreamMetadata = closed('metadata', {
  name: z.string().min(1).optional(),
  namespace: z.string().min(1).optional(),
  annotations: annotations.optional(),
  resourceVersion: resourceVersion.optional(),
  uid: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
});

/** POST and PUT of an ImageStream. */
export const ImageStreamBody = closed('', {
  apiVersion,
  kind: z.literal('ImageStream').optional(),
  metadata: StreamMetadata,
  spec: Spec.optional(),
  // Status is the server's: ignored on input (a GET's answer can be sent back as it is).
  status: z.unknown().optional(),
});
export type ImageStreamBody = z.infer<typeof ImageStreamBody>;

/** POST …/imagestreams/{name}/import (the ImportRequest of the import contract). */
export const ImportBody = closed('', {
  from: z.string().min(1).max(1024).optional(),
  all: z.boolean().optional(),
  scheduled: z.boolean().optional(),
  insecure: z.boolean().optional(),
  confirm: z.boolean().optional(),
}).optional();

/** POST …/imagestreams/{name}/rollback. */
export const RollbackBody = closed('', {
  tag: tagName,
  generation: z.number().int().positive(),
});

/** Default of `spec.keepTagRevisions`, as `oc adm prune images` has it. */
export const DEFAULT_KEEP_TAG_REVISIONS = 3;
/** The longest `spec.keepYoungerThanSeconds`: a hundred years. */
const MAX_KEEP_YOUNGER_SECONDS = 100 * 366 * 86_400;

/** POST …/imagestreams/{name}/prune and POST …/imagestreamprunes: an ImageStreamPrune (body optional: the defaults). */
export const PruneBody = closed('', {
  apiVersion,
  kind: z.literal('ImageStreamPrune').optional(),
  metadata: closed('metadata', { name: z.string().optional(), namespace: z.string().optional() }).optional(),
  spec: closed('spec', {
    keepTagRevisions: z.number().int().min(1, "must be at least 1 (a tag's newest item always stays)").max(1_000_000).optional(),
    keepYoungerThanSeconds: z.number().int().min(0).max(MAX_KEEP_YOUNGER_SECONDS).optional(),
    dryRun: z.boolean().optional(),
  }).optional(),
  status: z.unknown().optional(),
}).optional();
export type PruneBody = z.infer<typeof PruneBody>;

/** PUT …/imagestreamtags/{name}:{tag}: tag an existing image of another stream (any project) in. */
export const ImageStreamTagBody = closed('', {
  apiVersion,
  kind: z.literal('ImageStreamTag').optional(),
  metadata: closed('metadata', { name: z.string().optional(), namespace: z.string().optional(), resourceVersion: resourceVersion.optional(), creationTimestamp: z.string().nullable().optional() }).optional(),
  tag: closed('tag', {
    name: tagName.optional(),
    from: closed('tag.from', {
      kind: z.enum(['ImageStreamTag', 'ImageStreamImage']),
      name: z.string().min(1).max(1024),
      namespace: z.string().min(1).optional(),
    }),
  }),
});

const DOCKER_CONFIG_KEY = '.dockerconfigjson';

/** POST …/secrets: an auth.json document, base64 in `data` or as text in `stringData` (exactly one). */
export const SecretBody = closed('', {
  apiVersion: z.literal('v1').or(z.literal('berth.dev/v1')).optional(),
  kind: z.literal('Secret').optional(),
  type: z.literal('kubernetes.io/dockerconfigjson').optional(),
  metadata: closed('metadata', {
    name: z
      .string()
      .max(253)
      .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, 'must be lowercase letters, digits, "-" and ".", starting and ending with a letter or digit'),
    namespace: z.string().optional(),
  }),
  data: closed('data', { [DOCKER_CONFIG_KEY]: z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'must be base64') }).optional(),
  stringData: closed('stringData', { [DOCKER_CONFIG_KEY]: z.string() }).optional(),
}).refine((b) => (b.data === undefined) !== (b.stringData === undefined), {
  message: `give data[".dockerconfigjson"] (base64) or stringData[".dockerconfigjson"], exactly one`,
  path: ['data'],
});
export type SecretBody = z.infer<typeof SecretBody>;

/** The auth.json text of a secret body (decoded from base64 when it came in `data`). */
export function dockerConfigOf(body: SecretBody): string {
  const text = body.stringData?.[DOCKER_CONFIG_KEY];
  if (text !== undefined) return text;
  return Buffer.from(body.data?.[DOCKER_CONFIG_KEY] ?? '', 'base64').toString('utf8');
}

/** The field a secret body's auth.json came in, for error causes. */
export function dockerConfigField(body: SecretBody): string {
  return body.stringData === undefined ? `data[${DOCKER_CONFIG_KEY}]` : `stringData[${DOCKER_CONFIG_KEY}]`;
}
