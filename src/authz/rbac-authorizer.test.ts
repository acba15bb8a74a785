import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openMetadata } from '../metadata/open-metadata.ts';
import { CLUSTER_SCOPE } from '../metadata/stores.ts';
import type { Metadata, RoleBindingRecord } from '../metadata/stores.ts';
import { ANONYMOUS, REGISTRY_VERBS, type Principal, type RegistryVerb } from './authorizer.ts';
import { serviceAccountPrincipal, userPrincipal } from './principals.ts';
import { RbacAuthorizer } from './rbac-authorizer.ts';

// Written out here rather than derived from roles.ts, so that a change to the
// role table that breaks the documented roles fails this test.
const PROJECT_VERBS: Record<string, readonly RegistryVerb[]> = {
  'registry-viewer': ['pull', 'view'],
  'registry-editor': ['pull', 'view', 'push', 'tag'],
  'registry-admin': [
    'pull', 'view', 'push', 'tag', 'delete', 'manage-bindings', 'manage-imagestreams', 'manage-serviceaccounts', 'delete-project',
  ],
};
const PROJECT_SCOPED: readonly RegistryVerb[] = REGISTRY_VERBS.filter((v) => !['catalog', 'create-project', 'manage-users'].includes(v));

let metadata: Metadata;
let now = 1_000_000;
const clock = () => now;

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
});
after(() => metadata.close());

async function reset(): Promise<void> {
  for (const project of [CLUSTER_SCOPE, 'a', 'b']) {
    for (const b of await metadata.roleBindings.listBindings(project)) await metadata.roleBindings.removeBinding(b);
  }
  for (const name of ['a', 'b']) await metadata.projects.ensureProject({ name, createdAt: 1, createdBy: 'admin', displayName: null });
}

function authorizer(selfProvisioning = true, cacheTtlMs = 5000): RbacAuthorizer {
  return new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning, cacheTtlMs, clock });
}

async function bind(project: string, role: string, subjectKind: RoleBindingRecord['subjectKind'], subjectName: string): Promise<void> {
  await metadata.roleBindings.addBinding({ project, role, subjectKind, subjectName });
}

/** The verbs `principal` has on each project, and registry-wide. */
async function allowed(authz: RbacAuthorizer, principal: Principal): Promise<{ a: RegistryVerb[]; b: RegistryVerb[]; registry: RegistryVerb[] }> {
  const on = async (project?: string) => {
    const out: RegistryVerb[] = [];
    for (const verb of REGISTRY_VERBS) {
      const resource = project === undefined ? undefined : { project, repository: `${project}/app` };
      if (await authz.can(principal, verb, resource)) out.push(verb);
    }
    return out;
  };
  return { a: await on('a'), b: await on('b'), registry: await on() };
}

/** What every principal may do anyway: the catalog, and (users only) create projects under self-provisioning. */
function baseline(principal: Principal, selfProvisioning: boolean): RegistryVerb[] {
  return principal.kind === 'user' && selfProvisioning ? ['catalog', 'create-project'] : ['catalog'];
}

function sorted(verbs: readonly RegistryVerb[]): RegistryVerb[] {
  return [...verbs].sort((x, y) => REGISTRY_VERBS.indexOf(x) - REGISTRY_VERBS.indexOf(y));
}

describe('RbacAuthorizer', () => {
  beforeEach(reset);

  const alice = userPrincipal('alice');
  const robot = serviceAccountPrincipal('a', 'ci');

  describe('role × verb matrix', () => {
    for (const [role, verbs] of Object.entries(PROJECT_VERBS)) {
      for (const [label, principal, subject] of [
        ['user', alice, { kind: 'User', name: 'alice' }],
        ['group member', userPrincipal('bob', ['devs']), { kind: 'Group', name: 'devs' }],
        ['service account', robot, { kind: 'ServiceAccount', name: 'a:ci' }],
      ] as const) {
        it(`${role} bound to a ${label} in project a grants exactly its verbs there and nothing in b`, async () => {
          await bind('a', role, subject.kind, subject.name);
          const result = await allowed(authorizer(), principal);
          const base = baseline(principal, true);
          assert.deepEqual(result.a, sorted([...base, ...verbs]));
          assert.deepEqual(result.b, sorted(base));
          assert.deepEqual(result.registry, sorted(base), 'project roles grant nothing registry-wide');
        });
      }
    }

    it('no binding: only the catalog (and create-project for users under self-provisioning)', async () => {
      for (const principal of [alice, robot, ANONYMOUS]) {
        const result = await allowed(authorizer(), principal);
        assert.deepEqual(result.a, baseline(principal, true), principal.name);
        assert.deepEqual(result.b, baseline(principal, true), principal.name);
        assert.deepEqual(result.registry, baseline(principal, true), principal.name);
      }
    });

    it('cluster-admin may do every verb on every project and registry-wide, with self-provisioning off too', async () => {
      await bind(CLUSTER_SCOPE, 'cluster-admin', 'User', 'root');
      const result = await allowed(authorizer(false), userPrincipal('root'));
      assert.deepEqual(result.a, [...REGISTRY_VERBS]);
      assert.deepEqual(result.b, [...REGISTRY_VERBS]);
      assert.deepEqual(result.registry, [...REGISTRY_VERBS]);
      assert.deepEqual((await allowed(authorizer(false), alice)).registry, ['catalog']);
    });

    it('a cluster-wide project role grants its verbs in every project', async () => {
      await bind(CLUSTER_SCOPE, 'registry-viewer', 'Group', 'auditors');
      const result = await allowed(authorizer(false), userPrincipal('eve', ['auditors']));
      assert.deepEqual(result.a, ['pull', 'catalog', 'view']);
      assert.deepEqual(result.b, ['pull', 'catalog', 'view']);
      // No resource means registry-wide, which a cluster binding is.
      assert.deepEqual(result.registry, ['pull', 'catalog', 'view']);
    });

    it('cluster-admin bound in one project grants every project verb there only', async () => {
      await bind('a', 'cluster-admin', 'User', 'alice');
      const result = await allowed(authorizer(false), alice);
      assert.deepEqual(result.a, sorted(['catalog', ...PROJECT_SCOPED]));
      assert.deepEqual(result.b, ['catalog']);
      assert.deepEqual(result.registry, ['catalog']);
    });

    it('unions the verbs of several matching bindings', async () => {
      await bind('a', 'registry-viewer', 'User', 'alice');
      await bind('a', 'registry-editor', 'Group', 'devs');
      const result = await allowed(authorizer(false), userPrincipal('alice', ['devs']));
      assert.deepEqual(result.a, sorted(['catalog', ...(PROJECT_VERBS['registry-editor'] ?? [])]));
    });

    it('ignores bindings of unknown roles', async () => {
      await bind('a', 'registry-superuser', 'User', 'alice');
      assert.deepEqual((await allowed(authorizer(false), alice)).a, ['catalog']);
    });
  });

  describe('subjects', () => {
    it('anonymous may pull only after a system:unauthenticated registry-viewer binding', async () => {
      const authz = authorizer(true, 0);
      assert.equal(await authz.can(ANONYMOUS, 'pull', { project: 'a', repository: 'a/app' }), false);
      await bind('a', 'registry-viewer', 'Group', 'system:unauthenticated');
      assert.equal(await authz.can(ANONYMOUS, 'pull', { project: 'a', repository: 'a/app' }), true);
      assert.equal(await authz.can(ANONYMOUS, 'push', { project: 'a', repository: 'a/app' }), false);
      assert.equal(await authz.can(ANONYMOUS, 'pull', { project: 'b', repository: 'b/app' }), false);
      assert.equal(await authz.can(ANONYMOUS, 'create-project'), false, 'anonymous never creates projects');
      // system:unauthenticated is not a group of logged-in users, even if authentication put it there.
      assert.equal(await authz.can({ kind: 'user', name: 'mallory', groups: ['system:unauthenticated'] }, 'pull', { project: 'a' }), false);
    });

    it('system:authenticated covers users and service accounts but never anonymous', async () => {
      const authz = authorizer(true, 0);
      await bind('a', 'registry-viewer', 'Group', 'system:authenticated');
      assert.equal(await authz.can(alice, 'pull', { project: 'a' }), true);
      assert.equal(await authz.can(robot, 'pull', { project: 'a' }), true);
      assert.equal(await authz.can({ kind: 'user', name: 'x', groups: [] }, 'pull', { project: 'a' }), true, 'virtual group added even when missing');
      assert.equal(await authz.can(ANONYMOUS, 'pull', { project: 'a' }), false);
      assert.equal(
        await authz.can({ kind: 'anonymous', name: 'system:anonymous', groups: ['system:authenticated'] }, 'pull', { project: 'a' }),
        false,
        'an anonymous principal claiming system:authenticated is not trusted',
      );
    });

    it('a user binding does not match a service account or group of the same name, and vice versa', async () => {
      const authz = authorizer(true, 0);
      await bind('a', 'registry-editor', 'User', 'system:serviceaccount:a:ci');
      await bind('a', 'registry-editor', 'User', 'devs');
      assert.equal(await authz.can(robot, 'push', { project: 'a' }), false);
      assert.equal(await authz.can(userPrincipal('bob', ['devs']), 'push', { project: 'a' }), false);
      await bind('a', 'registry-editor', 'ServiceAccount', 'a:ci');
      assert.equal(await authz.can(robot, 'push', { project: 'a' }), true);
      assert.equal(await authz.can(serviceAccountPrincipal('b', 'ci'), 'push', { project: 'a' }), false, 'same name, other project');
      await metadata.roleBindings.removeBinding({ project: 'a', role: 'registry-editor', subjectKind: 'User', subjectName: 'system:serviceaccount:a:ci' });
      assert.equal(await authz.can({ kind: 'user', name: 'system:serviceaccount:a:ci', groups: [] }, 'push', { project: 'a' }), false);
    });

    it('a service account may be bound in another project', async () => {
      await bind('b', 'registry-viewer', 'ServiceAccount', 'a:ci');
      const result = await allowed(authorizer(true, 0), robot);
      assert.deepEqual(result.b, ['pull', 'catalog', 'view']);
      assert.deepEqual(result.a, ['catalog']);
    });
  });

  describe('project creation', () => {
    it('self-provisioning on: users may create projects, service accounts and anonymous may not', async () => {
      const authz = authorizer(true);
      assert.equal(authz.selfProvisioning, true);
      assert.equal(await authz.can(alice, 'create-project'), true);
      assert.equal(await authz.can(robot, 'create-project'), false);
      assert.equal(await authz.can(ANONYMOUS, 'create-project'), false);
    });

    it('self-provisioning off: only cluster-admin', async () => {
      const authz = authorizer(false, 0);
      assert.equal(await authz.can(alice, 'create-project'), false);
      await bind(CLUSTER_SCOPE, 'cluster-admin', 'Group', 'admins');
      assert.equal(await authz.can(userPrincipal('alice', ['admins']), 'create-project'), true);
      assert.equal(await authz.can(alice, 'create-project'), false);
    });

    it('manage-users is cluster-admin only, whatever project bindings say', async () => {
      await bind('a', 'registry-admin', 'User', 'alice');
      assert.equal(await authorizer().can(alice, 'manage-users'), false);
      assert.equal(await authorizer().can(alice, 'manage-users', { project: 'a' }), false);
    });
  });

  describe('cache', () => {
    it('serves bindings from memory until invalidated or expired', async () => {
      let reads = 0;
      const counting = {
        listBindings: async (project: string) => {
          reads++;
          return metadata.roleBindings.listBindings(project);
        },
        listBindingsFor: metadata.roleBindings.listBindingsFor.bind(metadata.roleBindings),
      };
      const authz = new RbacAuthorizer({ bindings: counting, selfProvisioning: true, cacheTtlMs: 5000, clock });
      const resource = { project: 'a', repository: 'a/app' };
      assert.equal(await authz.can(alice, 'pull', resource), false);
      const afterFirst = reads;
      assert.equal(afterFirst, 2, 'cluster bindings and project a');

      await bind('a', 'registry-viewer', 'User', 'alice');
      for (let i = 0; i < 10; i++) assert.equal(await authz.can(alice, 'pull', resource), false, 'cached: the new binding is not seen yet');
      assert.equal(reads, afterFirst);

      authz.invalidate('a');
      assert.equal(await authz.can(alice, 'pull', resource), true, 'the write path invalidated project a');
      assert.equal(reads, afterFirst + 1, 'only project a was re-read');

      await metadata.roleBindings.removeBinding({ project: 'a', role: 'registry-viewer', subjectKind: 'User', subjectName: 'alice' });
      assert.equal(await authz.can(alice, 'pull', resource), true, 'still cached');
      now += 5001;
      assert.equal(await authz.can(alice, 'pull', resource), false, 'expired after the TTL');

      await bind(CLUSTER_SCOPE, 'cluster-admin', 'User', 'alice');
      assert.equal(await authz.can(alice, 'delete', { project: 'b' }), false);
      authz.invalidate(CLUSTER_SCOPE);
      assert.equal(await authz.can(alice, 'delete', { project: 'b' }), true);
      await bind('b', 'registry-viewer', 'User', 'carol');
      authz.invalidateAll();
      assert.equal(await authz.can(userPrincipal('carol'), 'pull', { project: 'b' }), true);
    });

    it('concurrent misses share one read, and a failed read is not cached', async () => {
      let reads = 0;
      let fail = true;
      const flaky = {
        listBindings: async (project: string) => {
          reads++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (fail) throw new Error('database down');
          return metadata.roleBindings.listBindings(project);
        },
        listBindingsFor: metadata.roleBindings.listBindingsFor.bind(metadata.roleBindings),
      };
      const authz = new RbacAuthorizer({ bindings: flaky, selfProvisioning: true, clock });
      const results = await Promise.allSettled(Array.from({ length: 20 }, () => authz.can(alice, 'pull', { project: 'a' })));
      assert.ok(results.every((r) => r.status === 'rejected'));
      assert.equal(reads, 1, 'one read of the cluster bindings for 20 callers');
      fail = false;
      assert.equal(await authz.can(alice, 'pull', { project: 'a' }), false);
      assert.equal(reads, 3, 'retried: cluster bindings, then project a');
    });
  });

  describe('scopeOf', () => {
    it('names the projects whose bindings grant the verb to the principal, its groups or service account', async () => {
      await reset();
      await metadata.projects.ensureProject({ name: 'c', createdAt: 1, createdBy: 'admin', displayName: null });
      await bind('a', 'registry-viewer', 'User', 'alice');
      await bind('b', 'registry-editor', 'Group', 'devs');
      await bind('c', 'registry-viewer', 'Group', 'system:unauthenticated');
      await bind('b', 'registry-viewer', 'ServiceAccount', 'a:ci');
      const authz = authorizer();
      const alice = userPrincipal('alice', ['devs']);
      assert.deepEqual(await authz.scopeOf(alice, 'pull'), { all: false, projects: ['a', 'b'] });
      assert.deepEqual(await authz.scopeOf(alice, 'push'), { all: false, projects: ['b'] }, 'only the editor binding pushes');
      assert.deepEqual(await authz.scopeOf(ANONYMOUS, 'pull'), { all: false, projects: ['c'] });
      assert.deepEqual(await authz.scopeOf(userPrincipal('bob'), 'pull'), { all: false, projects: [] }, 'system:unauthenticated is not an authenticated user\'s group');
      assert.deepEqual(await authz.scopeOf(serviceAccountPrincipal('a', 'ci'), 'pull'), { all: false, projects: ['b'] });
      assert.deepEqual(await authz.scopeOf(alice, 'manage-users'), { all: false, projects: [] });
      for (const project of ['a', 'b', 'c']) {
        for (const principal of [alice, ANONYMOUS, userPrincipal('bob'), serviceAccountPrincipal('a', 'ci')]) {
          const scope = await authz.scopeOf(principal, 'pull');
          const listed = scope.all || scope.projects.includes(project);
          assert.equal(listed, await authz.can(principal, 'pull', { project }), `${principal.name} in ${project}: scopeOf agrees with can`);
        }
      }
    });

    it('is every project for a cluster-wide grant', async () => {
      await reset();
      await bind(CLUSTER_SCOPE, 'registry-viewer', 'Group', 'auditors');
      assert.deepEqual(await authorizer().scopeOf(userPrincipal('eve', ['auditors']), 'pull'), { all: true });
    });
  });

  describe('whoCan', () => {
    it('lists cluster subjects, project subjects, and the virtual groups the rules grant', async () => {
      await bind(CLUSTER_SCOPE, 'cluster-admin', 'User', 'root');
      await bind('a', 'registry-viewer', 'Group', 'system:unauthenticated');
      await bind('a', 'registry-editor', 'User', 'alice');
      await bind('a', 'registry-admin', 'ServiceAccount', 'a:ci');
      await bind('b', 'registry-admin', 'User', 'bob');
      const authz = authorizer(true, 0);
      assert.deepEqual(await authz.whoCan('pull', 'a'), [
        { kind: 'User', name: 'root' },
        { kind: 'ServiceAccount', name: 'a:ci' },
        { kind: 'User', name: 'alice' },
        { kind: 'Group', name: 'system:unauthenticated' },
      ]);
      assert.deepEqual(await authz.whoCan('push', 'a'), [
        { kind: 'User', name: 'root' },
        { kind: 'ServiceAccount', name: 'a:ci' },
        { kind: 'User', name: 'alice' },
      ]);
      assert.deepEqual(await authz.whoCan('delete', 'b'), [{ kind: 'User', name: 'root' }, { kind: 'User', name: 'bob' }]);
      assert.deepEqual(await authz.whoCan('create-project'), [{ kind: 'User', name: 'root' }, { kind: 'Group', name: 'system:authenticated' }]);
      assert.deepEqual(await authorizer(false, 0).whoCan('create-project'), [{ kind: 'User', name: 'root' }]);
      assert.deepEqual(await authz.whoCan('catalog'), [
        { kind: 'Group', name: 'system:authenticated' },
        { kind: 'Group', name: 'system:unauthenticated' },
      ]);
    });
  });
});
