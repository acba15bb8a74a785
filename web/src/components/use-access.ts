import { api } from '../api/client.ts';
import type { WhoCan } from '../api/types.ts';
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
