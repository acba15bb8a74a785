/**
 * `selfsubjectaccessreviews`: the caller asks "may I do this verb (here)?"
 * and the one authorizer answers, exactly as it answers the route that does
 * it. This is how a client (the console) decides which controls to offer,
 * without knowing the role rules itself.
 */

import { z } from 'zod';
import type { AccessService } from '../../authz/access-service.ts';
import { REGISTRY_VERBS, type Authorizer, type Principal, type RegistryVerb } from '../../authz/authorizer.ts';
import { REGISTRY_WIDE_VERBS } from '../../authz/roles.ts';
import { createProjectsRefusal } from '../../authz/self-provisioning.ts';
import { API_VERSION } from './resources.ts';
import { describePrincipal, type RouteFn } from './route-kit.ts';
import { ApiError } from './status.ts';

const ReviewBody = z.object({
  spec: z.object({
    verb: z.enum(REGISTRY_VERBS),
    /** The project a project verb is asked about; absent: registry-wide (granted only by a cluster binding). */
    namespace: z.string().min(1).optional(),
  }),
});

/** The answer: the question as asked, and `status.allowed` (with a `reason` when not). */
export function selfSubjectAccessReviewObject(verb: RegistryVerb, namespace: string | undefined, allowed: boolean, reason: string | undefined): object {
  return {
    apiVersion: API_VERSION,
    kind: 'SelfSubjectAccessReview',
    spec: namespace === undefined ? { verb } : { verb, namespace },
    status: reason === undefined ? { allowed } : { allowed, reason },
  };
}

/** Why a denial is one, in the words a refused request would use. */
function denialReason(principal: Principal, verb: RegistryVerb, namespace: string | undefined, selfProvisioning: boolean): string {
  const who = principal.kind === 'anonymous' ? 'anonymous users' : describePrincipal(principal);
  if (verb === 'create-project' && principal.kind === 'user' && !selfProvisioning) return `${who} may not ${createProjectsRefusal(selfProvisioning)}`;
  return namespace === undefined ? `${who} may not ${verb} registry-wide` : `${who} may not ${verb} in project ${JSON.stringify(namespace)}`;
}

/** Registers `POST /selfsubjectaccessreviews`. */
export function selfAccessReviewRoutes(route: RouteFn, authorizer: Authorizer, access: Pick<AccessService, 'selfProvisioning'>): void {
  route({
    method: 'POST',
    url: '/selfsubjectaccessreviews',
    params: z.object({}),
    body: ReviewBody,
    // Anybody may ask about themselves: the answer tells nothing about anyone else, nor whether a project exists.
    access: () => ({ kind: 'anyone' }),
    handle: async ({ principal, body }) => {
      const { verb, namespace } = body.spec;
      if (namespace !== undefined && REGISTRY_WIDE_VERBS.has(verb)) {
        const message = `${verb} is registry-wide: leave spec.namespace out`;
        throw new ApiError('Invalid', `the request is invalid: ${message}`, { causes: [{ reason: 'FieldValueInvalid', message, field: 'spec.namespace' }] });
      }
      const allowed = await authorizer.can(principal, verb, namespace === undefined ? undefined : { project: namespace });
      const reason = allowed ? undefined : denialReason(principal, verb, namespace, access.selfProvisioning);
      return { body: selfSubjectAccessReviewObject(verb, namespace, allowed, reason) };
    },
  });
}
