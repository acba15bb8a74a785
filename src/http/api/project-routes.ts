/**
 * Namespaced routes: projects, their role bindings (and the cluster's),
 * who-can, service accounts and their tokens.
 */

import { z } from 'zod';
import { REGISTRY_VERBS, type RegistryVerb } from '../../authz/authorizer.ts';
import type { AccessService, SubjectRef } from '../../authz/access-service.ts';
import { createProjectsRefusal } from '../../authz/self-provisioning.ts';
import { SUBJECT_KINDS, type SubjectKind } from '../../authz/roles.ts';
import { CLUSTER_SCOPE } from '../../metadata/stores.ts';
import { pageOfSorted, pageRequest, queryParam } from './paging.ts';
import { list, projectObject, roleBindingObject, serviceAccountObject, tokenObject, whoCanObject } from './resources.ts';
import type { AccessRule, RouteFn } from './route-kit.ts';
import { ApiError, successStatus } from './status.ts';

const name = z.string().min(1);
const ProjectParams = z.object({ name });
const NamespaceParams = z.object({ p: name });
const RoleParams = z.object({ p: name, role: name });
const SubjectParams = z.object({ p: name, role: name, kind: name, subject: name });
// Cluster routes have no namespace in their URL: `p` is CLUSTER_SCOPE, so one set of handlers serves both.
const clusterScope = z.literal(CLUSTER_SCOPE).default(CLUSTER_SCOPE);
const ClusterParams = z.object({ p: clusterScope });
const ClusterRoleParams = z.object({ p: clusterScope, role: name });
const ClusterSubjectParams = z.object({ p: clusterScope, role: name, kind: name, subject: name });
const AccountParams = z.object({ p: name, account: name });
const TokenParams = z.object({ p: name, account: name, id: name });

const ProjectBody = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ displayName: z.string().optional() }).optional(),
});
const SubjectBody = z.object({ kind: z.enum(SUBJECT_KINDS), name: z.string().min(1), namespace: z.string().min(1).optional() });
const AccountBody = z.object({ metadata: z.object({ name: z.string() }) });
const TokenBody = z.object({ spec: z.object({ expirationSeconds: z.number().int().positive().optional() }).optional() }).optional();

const q = JSON.stringify;

function inProject(verb: RegistryVerb, project: string, what: string): AccessRule {
  return { kind: 'verb', verb, project, what: `${what} in project ${q(project)}`, details: { kind: 'projects', name: project } };
}

/** `User`, `Group`, `ServiceAccount` as written in a URL (any case). */
function subjectKindOf(text: string): SubjectKind {
  const kind = SUBJECT_KINDS.find((k) => k.toLowerCase() === text.toLowerCase());
  if (kind === undefined) {
    throw new ApiError('BadRequest', `unknown subject kind ${q(text.slice(0, 50))}: use ${SUBJECT_KINDS.join(', ')}`, {
      causes: [{ reason: 'FieldValueNotSupported', message: `use ${SUBJECT_KINDS.join(', ')}`, field: 'kind' }],
    });
  }
  return kind;
}

/**
 * A subject from the URL of a DELETE: a service account is `<namespace>:<name>`,
 * or just `<name>` for one of the binding's own project.
 */
function subjectFromPath(kindText: string, subject: string): SubjectRef {
  const kind = subjectKindOf(kindText);
  if (kind !== 'ServiceAccount') return { kind, name: subject };
  const colon = subject.indexOf(':');
  return colon === -1 ? { kind, name: subject } : { kind, name: subject.slice(colon + 1), namespace: subject.slice(0, colon) };
}

/** Registers the namespaced and cluster-binding routes. */
export function projectRoutes(route: RouteFn, access: AccessService): void {
  // --- projects -------------------------------------------------------------
  route({
    method: 'GET',
    url: '/projects',
    params: z.object({}),
    access: () => ({ kind: 'anyone' }),
    handle: async ({ request, principal }) => {
      const page = await access.listProjects(principal, pageRequest(request));
      return { body: list('Project', page.items.map(projectObject), page.next) };
    },
  });
  route({
    method: 'POST',
    url: '/projects',
    params: z.object({}),
    body: ProjectBody,
    access: () => ({ kind: 'verb', verb: 'create-project', what: createProjectsRefusal(access.selfProvisioning) }),
    handle: async ({ principal, body }) => {
      const project = await access.createProject(body.metadata.name, principal, body.spec?.displayName);
      return { status: 201, body: projectObject(project) };
    },
  });
  route({
    method: 'GET',
    url: '/projects/:name',
    params: ProjectParams,
    access: ({ name }) => ({ kind: 'verb', verb: 'view', project: name, what: `view project ${q(name)}`, details: { kind: 'projects', name } }),
    handle: async ({ params }) => ({ body: projectObject(await access.getProject(params.name)) }),
  });
  route({
    method: 'DELETE',
    url: '/projects/:name',
    params: ProjectParams,
    access: ({ name }) => ({ kind: 'verb', verb: 'delete-project', project: name, what: `delete project ${q(name)}`, details: { kind: 'projects', name } }),
    handle: async ({ params }) => {
      await access.deleteProject(params.name);
      return { body: successStatus({ kind: 'projects', name: params.name }) };
    },
  });

  // --- role bindings --------------------------------------------------------
  const bindingRoutes = (
    base: string,
    view: (scope: string) => AccessRule,
    manage: (scope: string) => AccessRule,
    kindName: 'RoleBinding' | 'ClusterRoleBinding',
  ): void => {
    const cluster = kindName === 'ClusterRoleBinding';
    route({
      method: 'GET',
      url: base,
      params: cluster ? ClusterParams : NamespaceParams,
      access: (params) => view(params.p),
      handle: async ({ request, params }) => {
        const page = pageRequest(request);
        const all = await access.listRoleBindings(params.p);
        const { items, next } = pageOfSorted(all, (b) => b.role, page);
        return { body: list(kindName, items.map(roleBindingObject), next) };
      },
    });
    route({
      method: 'GET',
      url: `${base}/:role`,
      params: cluster ? ClusterRoleParams : RoleParams,
      access: (params) => view(params.p),
      handle: async ({ params }) => ({ body: roleBindingObject(await access.getRoleBinding(params.p, params.role)) }),
    });
    route({
      method: 'POST',
      url: `${base}/:role/subjects`,
      params: cluster ? ClusterRoleParams : RoleParams,
      body: SubjectBody,
      access: (params) => manage(params.p),
      handle: async ({ params, body }) => {
        const scope = params.p;
        const added = await access.addRoleBinding(scope, params.role, body);
        return { status: added ? 201 : 200, body: roleBindingObject(await access.getRoleBinding(scope, params.role)) };
      },
    });
    route({
      method: 'DELETE',
      url: `${base}/:role/subjects/:kind/:subject`,
      params: cluster ? ClusterSubjectParams : SubjectParams,
      access: (params) => manage(params.p),
      handle: async ({ params }) => {
        const scope = params.p;
        await access.removeRoleBinding(scope, params.role, subjectFromPath(params.kind, params.subject));
        return { body: roleBindingObject(await access.getRoleBinding(scope, params.role)) };
      },
    });
  };
  bindingRoutes(
    '/namespaces/:p/rolebindings',
    (p) => inProject('view', p, 'view role bindings'),
    (p) => inProject('manage-bindings', p, 'manage role bindings'),
    'RoleBinding',
  );
  // Registry-wide verbs: only a cluster binding (cluster-admin) grants them.
  bindingRoutes(
    '/clusterrolebindings',
    () => ({ kind: 'verb', verb: 'view', what: 'view cluster role bindings', details: { kind: 'clusterrolebindings' } }),
    () => ({ kind: 'verb', verb: 'manage-bindings', what: 'manage cluster role bindings', details: { kind: 'clusterrolebindings' } }),
    'ClusterRoleBinding',
  );

  // --- who can --------------------------------------------------------------
  route({
    method: 'GET',
    url: '/namespaces/:p/whocan',
    params: NamespaceParams,
    access: ({ p }) => inProject('view', p, 'ask who can act'),
    handle: async ({ request, params }) => {
      const verb = queryParam(request, 'verb');
      if (verb === undefined || !(REGISTRY_VERBS as readonly string[]).includes(verb)) {
        const message = `verb must be one of ${REGISTRY_VERBS.join(', ')}`;
        throw new ApiError('BadRequest', message, { causes: [{ reason: verb === undefined ? 'FieldValueRequired' : 'FieldValueNotSupported', message, field: 'verb' }] });
      }
      const checked = verb as RegistryVerb;
      return { body: whoCanObject(checked, params.p, await access.whoCan(checked, params.p)) };
    },
  });

  // --- service accounts and tokens ------------------------------------------
  route({
    method: 'GET',
    url: '/namespaces/:p/serviceaccounts',
    params: NamespaceParams,
    access: ({ p }) => inProject('view', p, 'view service accounts'),
    handle: async ({ request, params }) => {
      const page = pageRequest(request);
      const { items, next } = pageOfSorted(await access.listServiceAccounts(params.p), (a) => a.name, page);
      return { body: list('ServiceAccount', items.map(serviceAccountObject), next) };
    },
  });
  route({
    method: 'POST',
    url: '/namespaces/:p/serviceaccounts',
    params: NamespaceParams,
    body: AccountBody,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service accounts'),
    handle: async ({ params, body }) => ({ status: 201, body: serviceAccountObject(await access.createServiceAccount(params.p, body.metadata.name)) }),
  });
  route({
    method: 'GET',
    url: '/namespaces/:p/serviceaccounts/:account',
    params: AccountParams,
    access: ({ p }) => inProject('view', p, 'view service accounts'),
    handle: async ({ params }) => ({ body: serviceAccountObject(await access.getServiceAccount(params.p, params.account)) }),
  });
  route({
    method: 'DELETE',
    url: '/namespaces/:p/serviceaccounts/:account',
    params: AccountParams,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service accounts'),
    handle: async ({ params }) => {
      await access.deleteServiceAccount(params.p, params.account);
      return { body: successStatus({ kind: 'serviceaccounts', name: params.account }) };
    },
  });
  route({
    method: 'GET',
    url: '/namespaces/:p/serviceaccounts/:account/tokens',
    params: AccountParams,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service-account tokens'),
    handle: async ({ request, params }) => {
      const page = pageRequest(request);
      // Oldest first, keyed so that the order and the cursor agree.
      const key = (t: { createdAt: number; id: string }) => `${t.createdAt.toString().padStart(16, '0')}.${t.id}`;
      const tokens = [...(await access.listTokens(params.p, params.account))].sort((a, b) => (key(a) < key(b) ? -1 : 1));
      const { items, next } = pageOfSorted(tokens, key, page);
      return { body: list('ServiceAccountToken', items.map((t) => tokenObject(t)), next) };
    },
  });
  route({
    method: 'POST',
    url: '/namespaces/:p/serviceaccounts/:account/tokens',
    params: AccountParams,
    body: TokenBody,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service-account tokens'),
    handle: async ({ params, body }) => {
      const created = await access.createToken(params.p, params.account, body?.spec?.expirationSeconds);
      return { status: 201, body: tokenObject(created.token, created.secret) };
    },
  });
  route({
    method: 'POST',
    url: '/namespaces/:p/serviceaccounts/:account/tokens/:id/rotate',
    params: TokenParams,
    body: TokenBody,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service-account tokens'),
    handle: async ({ params, body }) => {
      const rotated = await access.rotateToken(params.p, params.account, params.id, body?.spec?.expirationSeconds);
      return { status: 201, body: tokenObject(rotated.token, rotated.secret, rotated.revoked.id) };
    },
  });
  route({
    method: 'DELETE',
    url: '/namespaces/:p/serviceaccounts/:account/tokens/:id',
    params: TokenParams,
    access: ({ p }) => inProject('manage-serviceaccounts', p, 'manage service-account tokens'),
    handle: async ({ params }) => {
      await access.revokeToken(params.p, params.account, params.id);
      return { body: successStatus({ kind: 'serviceaccounttokens', name: params.id }) };
    },
  });
}
