/** Deciding which controls to show from the API's own answers (whocan and users/~), never from role names. */
import type { WhoCan } from '../api/types.ts';

/** The caller as the console knows it: anonymous callers are in `system:unauthenticated` only. */
export interface Caller {
  readonly name: string | undefined;
  readonly groups: readonly string[];
}

export const ANONYMOUS_CALLER: Caller = { name: undefined, groups: ['system:unauthenticated'] };

/** True when the whocan answer names the caller, directly, through a group, or as a service account. */
export function callerCan(who: WhoCan | undefined, caller: Caller): boolean {
  if (!who) return false;
  if (caller.name !== undefined) {
    if (who.users.includes(caller.name)) return true;
    if (who.serviceAccounts.includes(caller.name)) return true;
  }
  return caller.groups.some((g) => who.groups.includes(g));
}

/** Project verbs the console asks whocan about before it shows a control (see docs/api.md for which route needs which). */
export type ProjectVerb = 'push' | 'delete' | 'manage-bindings' | 'manage-serviceaccounts' | 'delete-project';
