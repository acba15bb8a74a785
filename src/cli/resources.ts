/**
 * The shapes of the resource API (docs/api.md) as the CLI reads them. Every
 * answer is validated, so a server that breaks the contract gives one clear
 * line instead of `undefined` in a table. The schemas are loose: fields the
 * CLI does not know are kept, so `-o json` prints what the server sent.
 */
import { z } from 'zod';

export const API_PREFIX = '/apis/berth.dev/v1';

const metadataSchema = z.looseObject({
  name: z.string(),
  namespace: z.string().nullish(),
  creationTimestamp: z.string().nullish(),
  annotations: z.record(z.string(), z.string()).nullish(),
});

export const projectSchema = z.looseObject({
  kind: z.literal('Project').optional(),
  metadata: metadataSchema,
  spec: z.looseObject({ displayName: z.string().nullish() }).nullish(),
  status: z.looseObject({ phase: z.string().nullish() }).nullish(),
});
export type Project = z.infer<typeof projectSchema>;

export const subjectSchema = z.looseObject({
  kind: z.string(),
  name: z.string(),
  namespace: z.string().nullish(),
});
export type Subject = z.infer<typeof subjectSchema>;

export const roleBindingSchema = z.looseObject({
  kind: z.string().optional(),
  metadata: metadataSchema,
  roleRef: z.looseObject({ kind: z.string().optional(), name: z.string() }),
  subjects: z.array(subjectSchema).nullish(),
});
export type RoleBinding = z.infer<typeof roleBindingSchema>;

export const serviceAccountSchema = z.looseObject({
  kind: z.literal('ServiceAccount').optional(),
  metadata: metadataSchema,
  status: z.looseObject({ username: z.string().nullish() }).nullish(),
});
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

export const serviceAccountTokenSchema = z.looseObject({
  kind: z.literal('ServiceAccountToken').optional(),
  metadata: metadataSchema,
  spec: z.looseObject({ serviceAccountName: z.string().nullish(), expirationTimestamp: z.string().nullish() }).nullish(),
  status: z.looseObject({
    token: z.string().nullish(),
    revoked: z.boolean().nullish(),
    lastUsedTimestamp: z.string().nullish(),
  }).nullish(),
});
export type ServiceAccountToken = z.infer<typeof serviceAccountTokenSchema>;

export const userSchema = z.looseObject({
  kind: z.literal('User').optional(),
  metadata: metadataSchema,
  groups: z.array(z.string()).nullish(),
  spec: z.looseObject({ disabled: z.boolean().nullish() }).nullish(),
  status: z.looseObject({ passwordSet: z.boolean().nullish() }).nullish(),
});
export type User = z.infer<typeof userSchema>;

export const groupSchema = z.looseObject({
  kind: z.literal('Group').optional(),
  metadata: metadataSchema,
  users: z.array(z.string()).nullish(),
});
export type Group = z.infer<typeof groupSchema>;

export const whoCanSchema = z.looseObject({
  kind: z.literal('WhoCan').optional(),
  verb: z.string().optional(),
  namespace: z.string().optional(),
  users: z.array(z.string()).default([]),
  groups: z.array(z.string()).default([]),
  serviceAccounts: z.array(z.string()).default([]),
});
export type WhoCan = z.infer<typeof whoCanSchema>;

/** One page of a list; `metadata.continue` is the cursor of the next page. */
export function listSchema<T extends z.ZodType>(item: T) {
  return z.looseObject({
    kind: z.string().optional(),
    metadata: z.looseObject({ continue: z.string().nullish() }).nullish(),
    items: z.array(item),
  });
}

export const htpasswdImportSchema = z.looseObject({
  kind: z.literal('HtpasswdImport').optional(),
  status: z.looseObject({ created: z.number(), updated: z.number(), unchanged: z.number() }),
});

/** A Kubernetes Status error body. */
export const statusSchema = z.looseObject({
  kind: z.literal('Status'),
  message: z.string().optional(),
  reason: z.string().optional(),
  code: z.number().optional(),
  details: z.looseObject({ retryAfterSeconds: z.number().optional() }).nullish(),
});

/** An OCI distribution error body, which a server without the API mounted answers with. */
export const ociErrorSchema = z.looseObject({
  errors: z.array(z.looseObject({ code: z.string().optional(), message: z.string() })).min(1),
});

/** An RFC 6749 section 5.2 error body. */
export const oauthErrorSchema = z.looseObject({
  error: z.string(),
  error_description: z.string().optional(),
});

/** An RFC 6749 section 5.1 token response. */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string(),
  expires_in: z.number().optional(),
  refresh_token: z.string().optional(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** A Kubernetes-style list as `-o json|yaml` prints it: all pages in one. */
export interface ResourceList<T> {
  apiVersion: 'berth.dev/v1';
  kind: string;
  metadata: Record<string, never>;
  items: T[];
}

/** For answers the CLI does not read (DELETE, POST of a subject): anything, even an empty body. */
export const anyBody: z.ZodType<unknown> = z.unknown();
