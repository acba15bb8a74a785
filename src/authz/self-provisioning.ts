/**
 * The wording of a refused `create-project`, in one place: the push into a
 * missing project (/v2), `POST /apis/…/projects` and the self access review
 * (which the console asks before offering Create project) must say the same
 * thing, or one of them contradicts the others.
 */

/**
 * What completes the denial "<who> may not …" for `create-project`: names
 * the self-provisioning switch when it is off, since then no role of the
 * caller's in any project would help (only a cluster administrator may
 * create projects).
 */
export function createProjectsRefusal(selfProvisioning: boolean): string {
  return selfProvisioning ? 'create projects' : 'create projects: self-provisioning is off';
}
