import { api } from '../api/client.ts';
import type { SelfSubjectAccessReview } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { useAsync } from './use-async.ts';

/** Verbs asked about a project before the console shows a control (see docs/api.md for which route needs which). */
export type ProjectVerb = 'push' | 'delete' | 'manage-bindings' | 'manage-serviceaccounts' | 'delete-project';
/** Registry-wide verbs the console asks about (they take no project). */
export type RegistryWideVerb = 'create-project';

export interface Access<V extends string> {
  /** True once the API has answered for every verb asked (for the current caller and project). */
  readonly ready: boolean;
  /** Whether the API allows the caller `verb`; false until `ready`. */
  can(verb: V): boolean;
}

/**
 * What the caller may do, as the API's self access reviews answer it: the
 * server's one authorizer decides, with role bindings, groups, service
 * accounts, cluster bindings and self-provisioning; the console matches
 * nothing itself. Project verbs are asked about `project`; registry-wide
 * ones without a project. Anonymous visitors are asked about too (a project
 * may grant `system:unauthenticated` more than pulling).
 *
 * Every verb reads as not allowed until all the answers for the current
 * caller and project are in (`ready`), and when a review itself fails: a
 * page shows its controls once, never one that then disappears.
 */
export function useAccess(verbs: readonly RegistryWideVerb[]): Access<RegistryWideVerb>;
export function useAccess<V extends ProjectVerb>(verbs: readonly V[], project: string): Access<V>;
export function useAccess(verbs: readonly string[], project?: string): Access<string> {
  const session = useSession();
  const user = session.user?.metadata.name;
  // The answers are kept with the question they answer, so that an answer for another caller or project never counts.
  const key = JSON.stringify([user ?? null, project ?? null, verbs]);
  const answers = useAsync(async (signal) => {
    // While a stored sign-in is being checked the caller is not known yet: ask once it is.
    if (session.loading) return undefined;
    const entries = await Promise.all(verbs.map(async (verb) => {
      const spec = project === undefined ? { verb } : { verb, namespace: project };
      const review = await api<SelfSubjectAccessReview>('selfsubjectaccessreviews', { method: 'POST', body: { spec }, signal }).catch(() => undefined);
      return [verb, review?.status.allowed === true] as const;
    }));
    return { key, allowed: new Map<string, boolean>(entries) };
  }, [key, session.loading]);
  const current = answers.data?.key === key && !session.loading ? answers.data.allowed : undefined;
  return {
    ready: current !== undefined,
    can: (verb) => current?.get(verb) === true,
  };
}
