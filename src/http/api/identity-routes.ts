/** Registry-wide routes: users (and `users/~`), groups and their members, htpasswd import. */

import { z } from 'zod';
import type { AccessService } from '../../authz/access-service.ts';
import type { Authenticator } from '../../identity/authenticator.ts';
import { pageRequest } from './paging.ts';
import { API_VERSION, groupObject, list, userObject, whoAmIObject } from './resources.ts';
import type { AccessRule, RouteFn } from './route-kit.ts';
import { successStatus } from './status.ts';

const name = z.string().min(1);
const UserParams = z.object({ name });
const MemberParams = z.object({ name, user: name });

// `password` (hashed here with bcrypt) or `passwordHash` (a bcrypt hash made elsewhere, e.g. from htpasswd), never both.
const oneCredential = (spec: { password?: string | null | undefined; passwordHash?: string | undefined } | undefined) =>
  spec?.password === undefined || spec.passwordHash === undefined;
const credentialMessage = { message: 'give spec.password or spec.passwordHash, not both', path: ['passwordHash'] };
const UserBody = z.object({
  metadata: z.object({ name: z.string() }),
  spec: z.object({ password: z.string().optional(), passwordHash: z.string().optional() }).refine(oneCredential, credentialMessage).optional(),
});
const UserUpdateBody = z.object({
  spec: z
    .object({ password: z.string().nullable().optional(), passwordHash: z.string().optional(), disabled: z.boolean().optional() })
    .refine(oneCredential, credentialMessage),
});
const GroupBody = z.object({ metadata: z.object({ name: z.string() }) });
const MemberBody = z.object({ name: z.string().min(1) });
const HtpasswdBody = z.object({ spec: z.object({ htpasswd: z.string() }) });

const manageUsers: AccessRule = { kind: 'verb', verb: 'manage-users', what: 'manage users and groups', details: { kind: 'users' } };

/** Registers the user, group and import routes; `authenticator` forgets its caches of a user that changed. */
export function identityRoutes(route: RouteFn, access: AccessService, authenticator: Pick<Authenticator, 'forgetUser'>): void {
  // --- the caller ------------------------------------------------------------
  // A static segment: the router prefers it to `/users/:name` (and '~' is no valid user name).
  route({
    method: 'GET',
    url: '/users/~',
    params: z.object({}),
    access: () => ({ kind: 'authenticated', what: 'ask who they are' }),
    handle: async ({ principal }) => ({ body: whoAmIObject(principal) }),
  });

  // --- users -----------------------------------------------------------------
  route({
    method: 'GET',
    url: '/users',
    params: z.object({}),
    access: () => manageUsers,
    handle: async ({ request }) => {
      const page = await access.listUsers(pageRequest(request));
      return { body: list('User', page.items.map(userObject), page.next) };
    },
  });
  route({
    method: 'POST',
    url: '/users',
    params: z.object({}),
    body: UserBody,
    access: () => manageUsers,
    handle: async ({ body }) => {
      const hash = body.spec?.passwordHash;
      const user = hash === undefined ? await access.createUser(body.metadata.name, body.spec?.password) : await access.createUserWithHash(body.metadata.name, hash);
      return { status: 201, body: userObject(user) };
    },
  });
  route({
    method: 'GET',
    url: '/users/:name',
    params: UserParams,
    access: () => manageUsers,
    handle: async ({ params }) => ({ body: userObject(await access.getUser(params.name)) }),
  });
  route({
    method: 'PUT',
    url: '/users/:name',
    params: UserParams,
    body: UserUpdateBody,
    access: () => manageUsers,
    handle: async ({ params, body }) => {
      // Existence first, so that a missing user is NotFound before any bcrypt work.
      await access.getUser(params.name);
      try {
        if (body.spec.password !== undefined) await access.setPassword(params.name, body.spec.password);
        if (body.spec.passwordHash !== undefined) await access.setPasswordHash(params.name, body.spec.passwordHash);
        if (body.spec.disabled !== undefined) await access.setDisabled(params.name, body.spec.disabled);
      } finally {
        authenticator.forgetUser(params.name);
      }
      return { body: userObject(await access.getUser(params.name)) };
    },
  });
  route({
    method: 'DELETE',
    url: '/users/:name',
    params: UserParams,
    access: () => manageUsers,
    handle: async ({ params }) => {
      await access.deleteUser(params.name);
      authenticator.forgetUser(params.name);
      return { body: successStatus({ kind: 'users', name: params.name }) };
    },
  });

  // --- groups ----------------------------------------------------------------
  route({
    method: 'GET',
    url: '/groups',
    params: z.object({}),
    access: () => manageUsers,
    handle: async ({ request }) => {
      const page = await access.listGroups(pageRequest(request));
      return { body: list('Group', page.items.map(groupObject), page.next) };
    },
  });
  route({
    method: 'POST',
    url: '/groups',
    params: z.object({}),
    body: GroupBody,
    access: () => manageUsers,
    handle: async ({ body }) => ({ status: 201, body: groupObject(await access.createGroup(body.metadata.name)) }),
  });
  route({
    method: 'GET',
    url: '/groups/:name',
    params: UserParams,
    access: () => manageUsers,
    handle: async ({ params }) => ({ body: groupObject(await access.getGroup(params.name)) }),
  });
  route({
    method: 'DELETE',
    url: '/groups/:name',
    params: UserParams,
    access: () => manageUsers,
    handle: async ({ params }) => {
      const members = (await access.getGroup(params.name)).users;
      await access.deleteGroup(params.name);
      for (const member of members) authenticator.forgetUser(member);
      return { body: successStatus({ kind: 'groups', name: params.name }) };
    },
  });
  route({
    method: 'POST',
    url: '/groups/:name/members',
    params: UserParams,
    body: MemberBody,
    access: () => manageUsers,
    handle: async ({ params, body }) => {
      const added = await access.addMember(params.name, body.name);
      authenticator.forgetUser(body.name);
      return { status: added ? 201 : 200, body: groupObject(await access.getGroup(params.name)) };
    },
  });
  route({
    method: 'DELETE',
    url: '/groups/:name/members/:user',
    params: MemberParams,
    access: () => manageUsers,
    handle: async ({ params }) => {
      await access.removeMember(params.name, params.user);
      authenticator.forgetUser(params.user);
      return { body: groupObject(await access.getGroup(params.name)) };
    },
  });

  // --- htpasswd import (`berth adm users import htpasswd FILE`) --------------
  route({
    method: 'POST',
    url: '/htpasswdimports',
    params: z.object({}),
    body: HtpasswdBody,
    access: () => manageUsers,
    handle: async ({ body }) => {
      const result = await access.importHtpasswd(body.spec.htpasswd);
      for (const user of result.changedUsers) authenticator.forgetUser(user);
      const { created, updated, unchanged } = result;
      return { status: 201, body: { apiVersion: API_VERSION, kind: 'HtpasswdImport', status: { created, updated, unchanged } } };
    },
  });
}
