/**
 * Building principals. Authentication (token, password, service-account
 * token) resolves who is asking into one of these, once per request; the
 * virtual groups are added here so no caller forgets them.
 */

import type { Principal } from './authorizer.ts';
import { AUTHENTICATED_GROUP, serviceAccountPrincipalName } from './roles.ts';

/** A logged-in user with its stored group memberships (plus `system:authenticated`). */
export function userPrincipal(name: string, groups: readonly string[] = []): Principal {
  return { kind: 'user', name, groups: withVirtualGroup(groups) };
}

/** A project's service account, named `system:serviceaccount:<project>:<name>`. */
export function serviceAccountPrincipal(project: string, name: string): Principal {
  return { kind: 'serviceaccount', name: serviceAccountPrincipalName(project, name), groups: [AUTHENTICATED_GROUP] };
}

function withVirtualGroup(groups: readonly string[]): readonly string[] {
  return groups.includes(AUTHENTICATED_GROUP) ? [...groups] : [...groups, AUTHENTICATED_GROUP];
}
