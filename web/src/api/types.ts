/** The resource shapes of docs/api.md that the console reads. Fields the console does not use are left out. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  creationTimestamp?: string;
  annotations?: Record<string, string>;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
}

export interface List<T> {
  apiVersion: string;
  kind: string;
  metadata: { continue?: string };
  items: T[];
}

export interface Status {
  kind: 'Status';
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: Array<{ reason: string; message: string; field?: string }>; retryAfterSeconds?: number };
}

export interface Project {
  kind: 'Project';
  metadata: ObjectMeta;
  spec: { displayName?: string };
  status?: { phase?: string };
}

export type SubjectKind = 'User' | 'Group' | 'ServiceAccount';

export interface Subject {
  kind: SubjectKind;
  name: string;
  namespace?: string;
}

export interface RoleBinding {
  kind: 'RoleBinding';
  metadata: ObjectMeta;
  roleRef: { kind: string; name: string };
  subjects: Subject[];
}

/** The answer of `POST selfsubjectaccessreviews`: may the caller do `spec.verb` (in `spec.namespace`)? */
export interface SelfSubjectAccessReview {
  kind: 'SelfSubjectAccessReview';
  spec: { verb: string; namespace?: string };
  status: { allowed: boolean; reason?: string };
}

export interface ServiceAccount {
  kind: 'ServiceAccount';
  metadata: ObjectMeta;
  status: { username: string };
}

export interface ServiceAccountToken {
  kind: 'ServiceAccountToken';
  metadata: ObjectMeta;
  spec: { serviceAccountName: string; expirationTimestamp: string | null };
  status: { token?: string; revoked: boolean; revocationTimestamp: string | null; lastUsedTimestamp: string | null; rotatedFrom?: string };
}

export interface CurrentUser {
  kind: 'User';
  metadata: { name: string };
  groups: string[];
}

export interface TagReference {
  kind: 'DockerImage' | 'ImageStreamTag' | 'ImageStreamImage';
  name: string;
  namespace?: string;
}

export interface SpecTag {
  name: string;
  from?: TagReference | null;
  importPolicy?: { scheduled?: boolean; insecure?: boolean };
  referencePolicy?: { type?: string };
}

/** Where a history item came from: `ref` is the external reference of an import, the `project/stream:tag` of a tag, the generation rolled back to; absent for a push. */
export interface TagEventSource {
  kind: 'push' | 'import' | 'tag' | 'rollback';
  ref?: string;
}

export interface TagEvent {
  created: string;
  dockerImageReference: string;
  image: string;
  generation: number;
  /** Absent from servers older than the source field. */
  source?: TagEventSource;
}

export interface TagCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  generation?: number;
}

export interface NamedTagEventList {
  tag: string;
  items: TagEvent[];
  conditions?: TagCondition[];
}

export interface ImageStream {
  kind: 'ImageStream';
  metadata: ObjectMeta;
  spec: { dockerImageRepository?: string; tags?: SpecTag[] };
  status: { dockerImageRepository?: string; tags?: NamedTagEventList[] };
}

export interface ImageLayer {
  name: string;
  size: number;
  mediaType?: string;
}

export interface ImageHistoryEntry {
  created?: string;
  createdBy?: string;
  emptyLayer?: boolean;
  comment?: string;
}

export interface ImageManifestRef {
  digest: string;
  mediaType?: string;
  manifestSize?: number;
  architecture?: string;
  os?: string;
  variant?: string;
}

export interface ImageConfig {
  Env?: string[] | null;
  Cmd?: string[] | null;
  Entrypoint?: string[] | null;
  ExposedPorts?: Record<string, unknown> | null;
  WorkingDir?: string;
  User?: string;
  Labels?: Record<string, string> | null;
}

export interface Image {
  kind: 'Image';
  metadata: ObjectMeta;
  dockerImageReference?: string;
  dockerImageManifestMediaType?: string;
  dockerImageMetadata?: {
    Author?: string;
    Created?: string;
    DockerVersion?: string;
    Architecture?: string;
    Os?: string;
    Variant?: string;
    Size?: number;
    Config?: ImageConfig;
  };
  dockerImageConfigDigest?: string;
  dockerImageLayers?: ImageLayer[];
  dockerImageHistory?: ImageHistoryEntry[];
  dockerImageManifests?: ImageManifestRef[];
  annotations?: Record<string, string>;
}

export interface ImageStreamTag {
  kind: 'ImageStreamTag';
  metadata: ObjectMeta;
  tag: SpecTag | null;
  generation?: number;
  image: Image;
  conditions?: TagCondition[];
}

export interface ImageStreamImage {
  kind: 'ImageStreamImage';
  metadata: ObjectMeta;
  image: Image;
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  scope?: string;
}
