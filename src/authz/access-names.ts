/**
 * Name rules of access objects, shared by the domain service (which
 * enforces them) and the HTTP layer (which checks them early to name the
 * offending field).
 */

import { AccessError, type AccessResourceKind } from './access-errors.ts';
import { AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP } from './roles.ts';

// Projects are Kubernetes-style namespaces and the first component of
// repository names: a DNS-1123 label, the rule src/oci/names.ts applies to
// the first component of a repository name.
const DNS_LABEL = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?$/;
const MAX_LABEL = 63;

// User and group names: letters, digits and `._@+-` (room for e-mail-like
// names from OIDC/LDAP later), never ':' (so that no name can pose as
// `system:…`), '/' or '~' (`users/~` is the caller).
const PRINCIPAL_NAME = /^[A-Za-z0-9][A-Za-z0-9._@+-]*$/;
const MAX_PRINCIPAL_NAME = 253;

/** The longest display name of a project. */
export const MAX_DISPLAY_NAME = 256;

/** The virtual groups every principal is in (one of them), which are never stored but may be bound. */
export const VIRTUAL_GROUPS: ReadonlySet<string> = new Set([AUTHENTICATED_GROUP, UNAUTHENTICATED_GROUP]);

/** True for a valid project name (a DNS-1123 label of at most 63 characters). */
export function isProjectName(name: string): boolean {
  return name.length <= MAX_LABEL && DNS_LABEL.test(name);
}

/** True for a valid service-account name (a DNS-1123 label, like a project). */
export function isServiceAccountName(name: string): boolean {
  return name.length <= MAX_LABEL && DNS_LABEL.test(name);
}

/** True for a valid user or stored-group name. */
export function isPrincipalName(name: string): boolean {
  return name.length <= MAX_PRINCIPAL_NAME && PRINCIPAL_NAME.test(name);
}

const RULES = {
  projects: { test: isProjectName, rule: "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63" },
  serviceaccounts: { test: isServiceAccountName, rule: "lowercase letters, digits and '-', starting and ending with a letter or digit, at most 63" },
  users: { test: isPrincipalName, rule: "letters, digits and '._@+-', starting with a letter or digit, at most 253" },
  groups: { test: isPrincipalName, rule: "letters, digits and '._@+-', starting with a letter or digit, at most 253" },
} as const satisfies Partial<Record<AccessResourceKind, { test: (name: string) => boolean; rule: string }>>;

/** The kinds whose names {@link checkName} knows. */
export type NamedKind = keyof typeof RULES;

const SINGULAR: Record<NamedKind, string> = { projects: 'project', serviceaccounts: 'service account', users: 'user', groups: 'group' };

/** Why `name` is not a valid name of `kind`, or undefined when it is. */
export function nameProblem(kind: NamedKind, name: string): string | undefined {
  if (RULES[kind].test(name)) return undefined;
  return `invalid ${SINGULAR[kind]} name ${JSON.stringify(name.slice(0, 300))}: use ${RULES[kind].rule} characters`;
}

/**
 * Checks a name of a new or referenced object.
 * @throws AccessError 'Invalid' naming `field` when the name breaks the rule of its kind.
 */
export function checkName(kind: NamedKind, name: string, field = 'name'): void {
  const problem = nameProblem(kind, name);
  if (problem !== undefined) throw new AccessError('Invalid', problem, { kind, name, field });
}
