/**
 * Roles, the verbs they grant, and the names of subjects, as one table.
 *
 * Project roles are bound in a project (or cluster-wide, where they grant
 * their verbs in every project); `cluster-admin` grants every verb
 * everywhere. Roles are fixed in code, not stored, so an upgrade that adds a
 * verb to a role takes effect without a data migration.
 */

import { REGISTRY_VERBS, type RegistryVerb } from './authorizer.ts';

const VIEWER = ['pull', 'view'] as const;
const EDITOR = [...VIEWER, 'push', 'tag'] as const;
const ADMIN = [
  ...EDITOR,
  'delete',
  'manage-bindings',
  'manage-imagestreams',
  'manage-serviceaccounts',
  'delete-project',
] as const;

/** Roles that are bound per project; each grants its verbs on that project and its repositories. */
export const PROJECT_ROLES = {
  'registry-viewer': VIEWER,
  'registry-editor': EDITOR,
  'registry-admin': ADMIN,
} as const satisfies Record<string, readonly RegistryVerb[]>;

/** Roles that only make sense registry-wide. */
export const CLUSTER_ROLES = {
  'cluster-admin': REGISTRY_VERBS,
} as const satisfies Record<string, readonly RegistryVerb[]>;

/** Every role, with the verbs it grants. */
export const ROLES = { ...PROJECT_ROLES, ...CLUSTER_ROLES } as const;

export type ProjectRole = keyof typeof PROJECT_ROLES;
export type ClusterRole = keyof typeof CLUSTER_ROLES;
export type RoleName = keyof typeof ROLES;

export const ROLE_NAMES: readonly RoleName[] = Object.keys(ROLES) as RoleName[];

/**
 * Verbs that are not about one project. They are never granted by a project
 * binding, only by a cluster binding or by the authorizer's own rules
 * (`catalog` for everybody, `create-project` under self-provisioning).
 */
export const REGISTRY_WIDE_VERBS: ReadonlySet<RegistryVerb> = new Set<RegistryVerb>(['catalog', 'create-project', 'manage-users']);

/** The kinds of subject a role can be bound to (Kubernetes RBAC spelling). */
export const SUBJECT_KINDS = ['User', 'Group', 'ServiceAccount'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

/** Virtual group of every principal that proved who it is (users and service accounts). */
export const AUTHENTICATED_GROUP = 'system:authenticated';
/** Virtual group of the anonymous principal. */
export const UNAUTHENTICATED_GROUP = 'system:unauthenticated';

export const SERVICE_ACCOUNT_PREFIX = 'system:serviceaccount:';

export function isRoleName(value: string): value is RoleName {
  return Object.hasOwn(ROLES, value);
}

/** The verbs a role grants. */
export function verbsOf(role: RoleName): readonly RegistryVerb[] {
  return ROLES[role];
}

/** True when `role` grants `verb`. */
export function roleGrants(role: RoleName, verb: RegistryVerb): boolean {
  return (ROLES[role] as readonly RegistryVerb[]).includes(verb);
}

/**
 * The principal name of a service account, `system:serviceaccount:<project>:<name>`
 * (as in Kubernetes). Role bindings store the subject name `<project>:<name>`.
 */
export function serviceAccountPrincipalName(project: string, name: string): string {
  return `${SERVICE_ACCOUNT_PREFIX}${project}:${name}`;
}

/** The subject name of a service account in a role binding: `<project>:<name>`. */
export function serviceAccountSubjectName(project: string, name: string): string {
  return `${project}:${name}`;
}

/**
 * Splits `system:serviceaccount:<project>:<name>` (or the binding form
 * `<project>:<name>` when `bindingForm` is true); undefined when it is not one.
 * Project names cannot contain ':', so the first ':' separates them.
 */
export function parseServiceAccountName(value: string, bindingForm = false): { project: string; name: string } | undefined {
  const rest = bindingForm ? value : value.startsWith(SERVICE_ACCOUNT_PREFIX) ? value.slice(SERVICE_ACCOUNT_PREFIX.length) : undefined;
  if (rest === undefined) return undefined;
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1) return undefined;
  return { project: rest.slice(0, colon), name: rest.slice(colon + 1) };
}
