/**
 * The resource API's objects, rendered from the access domain's views.
 * Never a password hash, token hash or token secret (except the one
 * `status.token` of a token just created, which the caller passes in).
 */

import type { Principal } from '../../authz/authorizer.ts';
import type {
  GroupView,
  RoleBindingView,
  ServiceAccountTokenView,
  SubjectRef,
  UserView,
} from '../../authz/access-service.ts';
import type { BindingSubject } from '../../authz/rbac-authorizer.ts';
import { parseServiceAccountName, serviceAccountPrincipalName } from '../../authz/roles.ts';
import { CLUSTER_SCOPE } from '../../metadata/stores.ts';
import type { ProjectRecord, ServiceAccountRecord } from '../../metadata/stores.ts';
import type { RegistryVerb } from '../../authz/authorizer.ts';
import { encodeCursor } from './paging.ts';

/** The API group and version of every object. */
export const API_VERSION = 'berth.dev/v1';
/** Annotation naming the principal that created a project. */
export const REQUESTER_ANNOTATION = 'berth.dev/requester';

/** RFC 3339, in UTC with milliseconds. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}

/** A `<Kind>List`; `continue` only when there is a next page. */
export function list<T>(kind: string, items: readonly T[], next: string | undefined): object {
  return { apiVersion: API_VERSION, kind: `${kind}List`, metadata: next === undefined ? {} : { continue: encodeCursor(next) }, items };
}

/** A Project; its creator is the `berth.dev/requester` annotation. */
export function projectObject(p: ProjectRecord): object {
  return {
    apiVersion: API_VERSION,
    kind: 'Project',
    metadata: { name: p.name, creationTimestamp: timestamp(p.createdAt), annotations: { [REQUESTER_ANNOTATION]: p.createdBy } },
    spec: p.displayName === null ? {} : { displayName: p.displayName },
    status: { phase: 'Active' },
  };
}

function subjectObject(s: SubjectRef): object {
  return s.kind === 'ServiceAccount' ? { kind: s.kind, name: s.name, namespace: s.namespace } : { kind: s.kind, name: s.name };
}

/** A RoleBinding (project) or ClusterRoleBinding (CLUSTER_SCOPE), named after its role. */
export function roleBindingObject(b: RoleBindingView): object {
  const cluster = b.project === CLUSTER_SCOPE;
  return {
    apiVersion: API_VERSION,
    kind: cluster ? 'ClusterRoleBinding' : 'RoleBinding',
    metadata: cluster ? { name: b.role } : { name: b.role, namespace: b.project },
    roleRef: { kind: 'ClusterRole', name: b.role },
    subjects: b.subjects.map(subjectObject),
  };
}

/** A ServiceAccount with the principal name it authenticates as. */
export function serviceAccountObject(a: ServiceAccountRecord): object {
  return {
    apiVersion: API_VERSION,
    kind: 'ServiceAccount',
    metadata: { name: a.name, namespace: a.project, creationTimestamp: timestamp(a.createdAt) },
    status: { username: serviceAccountPrincipalName(a.project, a.name) },
  };
}

/** A ServiceAccountToken; `secret` only when just created, `rotatedFrom` (the revoked predecessor's id) only when just rotated. */
export function tokenObject(t: ServiceAccountTokenView, secret?: string, rotatedFrom?: string): object {
  return {
    apiVersion: API_VERSION,
    kind: 'ServiceAccountToken',
    metadata: { name: t.id, namespace: t.project, creationTimestamp: timestamp(t.createdAt) },
    spec: { serviceAccountName: t.account, expirationTimestamp: t.expiresAt === null ? null : timestamp(t.expiresAt) },
    status: {
      ...(secret === undefined ? {} : { token: secret }),
      revoked: t.revokedAt !== null,
      revocationTimestamp: t.revokedAt === null ? null : timestamp(t.revokedAt),
      lastUsedTimestamp: t.lastUsedAt === null ? null : timestamp(t.lastUsedAt),
      ...(rotatedFrom === undefined ? {} : { rotatedFrom }),
    },
  };
}

/** A User: stored groups, whether it is disabled and has a password; never the hash. */
export function userObject(u: UserView): object {
  return {
    apiVersion: API_VERSION,
    kind: 'User',
    metadata: { name: u.name, creationTimestamp: timestamp(u.createdAt) },
    groups: u.groups,
    spec: { disabled: u.disabled },
    status: { passwordSet: u.hasPassword },
  };
}

/** `users/~`: the caller as authentication resolved it (virtual groups included). */
export function whoAmIObject(p: Principal): object {
  return { apiVersion: API_VERSION, kind: 'User', metadata: { name: p.name }, groups: [...p.groups] };
}

/** A Group with its members. */
export function groupObject(g: GroupView): object {
  return { apiVersion: API_VERSION, kind: 'Group', metadata: { name: g.name, creationTimestamp: timestamp(g.createdAt) }, users: g.users };
}

/** `whocan`: subjects split by kind; service accounts by principal name (`system:serviceaccount:p:ci`). */
export function whoCanObject(verb: RegistryVerb, project: string, subjects: readonly BindingSubject[]): object {
  const users: string[] = [];
  const groups: string[] = [];
  const serviceAccounts: string[] = [];
  for (const s of subjects) {
    if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
    else {
      const parsed = parseServiceAccountName(s.name, true);
      if (parsed !== undefined) serviceAccounts.push(serviceAccountPrincipalName(parsed.project, parsed.name));
    }
  }
  return { apiVersion: API_VERSION, kind: 'WhoCan', verb, namespace: project, users, groups, serviceAccounts };
}
