import { api } from '../api/client.ts';
import type { SelfSubjectAccessReview, WhoCan } from '../api/types.ts';
import { useSession } from '../auth/session-context.tsx';
import { callerCan, type ProjectVerb } from '../lib/access.ts';
import { useAsync } from './use-async.ts';

/**
 * What the signed-in caller may do in a project, from the API's whocan
 * answers (never from role names). Anonymous visitors are never shown a
 * control that changes something (the API lets them read only), so no
 * whocan is asked for them. Until the answers are in, and when whocan
 * itself is refused, every verb reads as not allowed: a control appears
 * late rather than being shown to someone who cannot use it.
 */
export function useProjectAccess(project: string, verbs: readonly ProjectVerb[]): { can(verb: ProjectVerb): boolean } {
  const session = useSession();
  const user = session.user?.metadata.name;
  const answers = useAsync(async (signal) => {
    if (user === undefined) return new Map<ProjectVerb, WhoCan | undefined>();
    const ns = `namespaces/${encodeURIComponent(project)}`;
    const entries = await Promise.all(verbs.map(async (verb) =>
      [verb, await api<WhoCan>(`${ns}/whocan?verb=${verb}`, { signal }).catch(() => undefined)] as const));
    return new Map<ProjectVerb, WhoCan | undefined>(entries);
  }, [project, user, verbs.join(',')]);
  return {
    can: (verb) => user !== undefined && callerCan(answers.data?.get(verb), session.caller),
  };
}

/**
 * Whether the signed-in caller may do a registry-wide verb (`create-project`),
 * as the API's self access review answers it (the authorizer decides, with
 * self-provisioning and cluster bindings). Not allowed until the answer is
 * in, when the review is refused, and for anonymous visitors.
 */
export function useRegistryAccess(verb: 'create-project'): boolean {
  const session = useSession();
  const user = session.user?.metadata.name;
  const answer = useAsync(async (signal) => {
    if (user === undefined) return false;
    const review = await api<SelfSubjectAccessReview>('selfsubjectaccessreviews', { method: 'POST', body: { spec: { verb } }, signal }).catch(() => undefined);
    return review?.status.allowed === true;
  }, [user, verb]);
  return user !== undefined && answer.data === true;
}
