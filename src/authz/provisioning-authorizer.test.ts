import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMetadata } from '../metadata/open-metadata.ts';
import { CLUSTER_SCOPE } from '../metadata/stores.ts';
import type { Metadata } from '../metadata/stores.ts';
import { AccessService } from './access-service.ts';
import { ANONYMOUS, type Principal, type RegistryVerb } from './authorizer.ts';
import { serviceAccountPrincipal, userPrincipal } from './principals.ts';
import { ProvisioningAuthorizer } from './provisioning-authorizer.ts';
import { RbacAuthorizer } from './rbac-authorizer.ts';

let metadata: Metadata;
const clock = () => Date.UTC(2026, 4, 1);

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  await metadata.projects.ensureProject({ name: 'taken', createdAt: 1, createdBy: 'bob', displayName: null });
  await metadata.roleBindings.addBinding({ project: 'taken', role: 'registry-admin', subjectKind: 'User', subjectName: 'bob' });
  await metadata.roleBindings.addBinding({ project: CLUSTER_SCOPE, role: 'cluster-admin', subjectKind: 'User', subjectName: 'root' });
});
after(() => metadata.close());

/** The authorizer as the composition root builds it: over the RBAC authorizer, asking the access service. */
function build(options: { selfProvisioning: boolean; createProjectOnPush: boolean }): { authorizer: ProvisioningAuthorizer; access: AccessService } {
  const rbac = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: options.selfProvisioning, clock });
  const access = new AccessService({ metadata, authorizer: rbac, clock, ...options });
  return { authorizer: new ProvisioningAuthorizer({ inner: rbac, projects: metadata.projects, provisioner: access }), access };
}

const alice = userPrincipal('alice');
const root = userPrincipal('root');
const robot = serviceAccountPrincipal('taken', 'ci');
const missing = { project: 'fresh', repository: 'fresh/app' };

async function verbs(authorizer: ProvisioningAuthorizer, principal: Principal, resource: { project: string; repository: string }): Promise<RegistryVerb[]> {
  const allowed: RegistryVerb[] = [];
  for (const verb of ['pull', 'push', 'delete', 'view'] as const) if (await authorizer.can(principal, verb, resource)) allowed.push(verb);
  return allowed;
}

describe('ProvisioningAuthorizer', () => {
  it('lets whoever the provisioner would let create a missing project push (and pull) into it, nothing more', async () => {
    const { authorizer, access } = build({ selfProvisioning: true, createProjectOnPush: true });
    assert.deepEqual(await verbs(authorizer, alice, missing), ['pull', 'push']);
    assert.deepEqual(await verbs(authorizer, ANONYMOUS, missing), []);
    assert.deepEqual(await verbs(authorizer, robot, missing), []);
    // An existing project is the bindings' business alone.
    assert.deepEqual(await verbs(authorizer, alice, { project: 'taken', repository: 'taken/app' }), []);
    assert.deepEqual(await verbs(authorizer, userPrincipal('bob'), { project: 'taken', repository: 'taken/app' }), ['pull', 'push', 'delete', 'view']);
    // It agrees with the provisioner for every principal.
    for (const principal of [alice, ANONYMOUS, robot, root]) {
      assert.equal(await authorizer.can(principal, 'push', missing), (await access.pushCreationRefusal('fresh', principal)) === undefined, principal.name);
    }
  });

  it('with self-provisioning off, only a cluster admin\'s push creates a project', async () => {
    const { authorizer } = build({ selfProvisioning: false, createProjectOnPush: true });
    assert.deepEqual(await verbs(authorizer, alice, missing), []);
    assert.ok(await authorizer.can(root, 'push', missing));
  });

  it('follows the provisioner\'s createProjectOnPush: off, no push is allowed for creating a missing project', async () => {
    const { authorizer, access } = build({ selfProvisioning: true, createProjectOnPush: false });
    assert.match((await access.pushCreationRefusal('fresh', alice)) ?? '', /turned off/);
    assert.deepEqual(await verbs(authorizer, alice, missing), []);
    // Other verbs are the RBAC authorizer's answer, untouched by the switch; a cluster admin pushes anywhere by its binding.
    assert.ok(await authorizer.can(alice, 'create-project'));
    assert.ok(await authorizer.can(root, 'push', missing));
  });
});
