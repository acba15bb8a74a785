import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { hashPassword, verifyPassword } from '../identity/passwords.ts';
import { hashSecret } from '../identity/secret-tokens.ts';
import { openMetadata } from '../metadata/open-metadata.ts';
import { CLUSTER_SCOPE } from '../metadata/stores.ts';
import type { Metadata } from '../metadata/stores.ts';
import { AccessError, type AccessErrorReason } from './access-errors.ts';
import { AccessService } from './access-service.ts';
import { ANONYMOUS } from './authorizer.ts';
import { serviceAccountPrincipal, userPrincipal } from './principals.ts';
import { RbacAuthorizer } from './rbac-authorizer.ts';

let metadata: Metadata;
let now = Date.UTC(2026, 4, 1);
const clock = () => now;

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
});
after(() => metadata.close());

const deletedProjects: Array<[string, readonly string[]]> = [];

function service(selfProvisioning = true): { access: AccessService; authorizer: RbacAuthorizer } {
  // A long cache TTL: the tests pass only if every write invalidates what it changed.
  const authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning, cacheTtlMs: 60_000, clock });
  const onProjectDeleted = (project: string, repositories: readonly string[]) => deletedProjects.push([project, repositories]);
  return { access: new AccessService({ metadata, authorizer, clock, selfProvisioning, onProjectDeleted }), authorizer };
}

function reason(expected: AccessErrorReason, field?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AccessError, `expected AccessError, got ${String(error)}`);
    assert.equal(error.reason, expected, error.message);
    if (field !== undefined) assert.equal(error.details.field, field);
    return true;
  };
}

const alice = userPrincipal('alice');
const bob = userPrincipal('bob');

describe('projects', () => {
  it('createProject makes the requester registry-admin, and refuses duplicates and bad names', async () => {
    const { access, authorizer } = service();
    assert.equal(await authorizer.can(alice, 'manage-bindings', { project: 'alpha' }), false); // cached as "no bindings"
    const project = await access.createProject('alpha', alice, 'Alpha team');
    assert.deepEqual(project, { name: 'alpha', createdAt: now, createdBy: 'alice', displayName: 'Alpha team' });
    assert.equal(await authorizer.can(alice, 'manage-bindings', { project: 'alpha' }), true);
    assert.equal(await authorizer.can(bob, 'view', { project: 'alpha' }), false);
    await assert.rejects(access.createProject('alpha', bob), reason('AlreadyExists'));
    assert.deepEqual((await access.getProject('alpha')).createdBy, 'alice');
    for (const bad of ['Alpha', '-a', 'a_b', 'a'.repeat(64), '']) await assert.rejects(access.createProject(bad, alice), reason('Invalid', 'metadata.name'), bad);
    await assert.rejects(access.createProject('anon', ANONYMOUS), reason('Forbidden'));
    await assert.rejects(access.getProject('nope'), reason('NotFound'));
  });

  it('a service account that creates a project is bound as a ServiceAccount subject', async () => {
    const { access } = service();
    await access.createProject('sa-home', alice);
    await access.createServiceAccount('sa-home', 'ci');
    await access.createProject('sa-made', serviceAccountPrincipal('sa-home', 'ci'));
    const bindings = await access.listRoleBindings('sa-made');
    assert.deepEqual(bindings, [{ project: 'sa-made', role: 'registry-admin', subjects: [{ kind: 'ServiceAccount', name: 'ci', namespace: 'sa-home' }] }]);
  });

  it('ensureProjectForPush creates once, owned by the pusher, and is safe when pushes race', async () => {
    const { access, authorizer } = service();
    const results = await Promise.all([access.ensureProjectForPush('raced', alice), access.ensureProjectForPush('raced', alice), access.ensureProjectForPush('raced', bob)]);
    assert.equal(results.filter((r) => r === 'created').length, 1, String(results));
    assert.equal(await access.ensureProjectForPush('raced', bob), 'exists');
    const owner = (await access.getProject('raced')).createdBy;
    const admins = (await access.getRoleBinding('raced', 'registry-admin')).subjects;
    assert.deepEqual(admins, [{ kind: 'User', name: owner }]);
    assert.equal(await authorizer.can(userPrincipal(owner), 'push', { project: 'raced' }), true);
  });

  it('ensureProjectForPush says why it refuses', async () => {
    const off = service(false).access;
    await assert.rejects(off.ensureProjectForPush('nope1', alice), (error: unknown) => {
      assert.ok(error instanceof AccessError && error.reason === 'Forbidden');
      assert.match(error.message, /project "nope1" does not exist and alice may not create projects: self-provisioning is off/);
      return true;
    });
    await assert.rejects(service().access.ensureProjectForPush('nope2', ANONYMOUS), (error: unknown) => {
      assert.ok(error instanceof AccessError && error.reason === 'Forbidden');
      assert.match(error.message, /anonymous users cannot create projects/);
      return true;
    });
    assert.equal(await metadata.projects.getProject('nope1'), undefined);
  });

  it('with createProjectOnPush off, no push creates a project, not even a cluster admin\'s, and the refusal names the switch', async () => {
    const authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: true, cacheTtlMs: 60_000, clock });
    const access = new AccessService({ metadata, authorizer, clock, selfProvisioning: true, createProjectOnPush: false });
    await metadata.roleBindings.addBinding({ project: CLUSTER_SCOPE, role: 'cluster-admin', subjectKind: 'User', subjectName: 'push-root' });
    authorizer.invalidate(CLUSTER_SCOPE);
    for (const pusher of [alice, userPrincipal('push-root'), ANONYMOUS]) {
      await assert.rejects(access.ensureProjectForPush('pushed-off', pusher), (error: unknown) => {
        assert.ok(error instanceof AccessError && error.reason === 'Forbidden', String(error));
        assert.match(error.message, /project "pushed-off" does not exist and creating projects by pushing is turned off/);
        return true;
      }, pusher.name);
      assert.match((await access.pushCreationRefusal('pushed-off', pusher)) ?? '', /turned off/);
    }
    assert.equal(await metadata.projects.getProject('pushed-off'), undefined);
    // Creating it through the API still works (self-provisioning is on); then pushes find it.
    await access.createProject('pushed-off', alice);
    assert.equal(await access.ensureProjectForPush('pushed-off', alice), 'exists');
    assert.equal(await service().access.pushCreationRefusal('anything', alice), undefined);
  });

  it('listProjects shows what the principal may view, keyset-paged; cluster-admin sees all', async () => {
    const { access } = service();
    for (const name of ['list-a', 'list-b', 'list-c', 'list-d']) await access.createProject(name, userPrincipal('owner'));
    await access.addRoleBinding('list-b', 'registry-viewer', { kind: 'User', name: 'carol' });
    await access.addRoleBinding('list-d', 'registry-editor', { kind: 'Group', name: 'devs' });
    await access.addRoleBinding('list-c', 'registry-viewer', { kind: 'Group', name: 'system:unauthenticated' });
    const carol = userPrincipal('carol', ['devs']);
    const first = await access.listProjects(carol, { limit: 1 });
    assert.deepEqual(first.items.map((p) => p.name), ['list-b']);
    assert.equal(first.next, 'list-b');
    const second = await access.listProjects(carol, { limit: 1, after: first.next });
    assert.deepEqual(second.items.map((p) => p.name), ['list-d']);
    assert.equal(second.next, undefined);
    // The unauthenticated group is not carol's: she is authenticated.
    assert.deepEqual((await access.listProjects(ANONYMOUS, { limit: 10 })).items.map((p) => p.name), ['list-c']);

    await access.addRoleBinding(CLUSTER_SCOPE, 'cluster-admin', { kind: 'User', name: 'root' });
    const all = await access.listProjects(userPrincipal('root'), { limit: 1000 });
    assert.ok(['list-a', 'list-b', 'list-c', 'list-d', 'alpha'].every((n) => all.items.some((p) => p.name === n)));
    const paged = await access.listProjects(userPrincipal('root'), { limit: 2, after: 'list-a' });
    assert.deepEqual(paged.items.map((p) => p.name), ['list-b', 'list-c']);
    assert.equal(paged.next, 'list-c');
    await access.removeRoleBinding(CLUSTER_SCOPE, 'cluster-admin', { kind: 'User', name: 'root' });
  });

  it('deleteProject removes its bindings, service accounts, their tokens and their bindings elsewhere', async () => {
    const { access, authorizer } = service();
    await access.createProject('doomed', alice);
    await access.createProject('other', alice);
    await access.createServiceAccount('doomed', 'ci');
    const { secret } = await access.createToken('doomed', 'ci');
    await access.addRoleBinding('other', 'registry-editor', { kind: 'ServiceAccount', name: 'ci', namespace: 'doomed' });
    await metadata.repositories.ensureRepository('doomed/app', 'doomed', now);
    await metadata.repositories.ensureRepository('doomed/tools/cli', 'doomed', now);
    const ci = serviceAccountPrincipal('doomed', 'ci');
    assert.equal(await authorizer.can(ci, 'push', { project: 'other' }), true);
    await access.deleteProject('doomed');
    assert.equal(await authorizer.can(ci, 'push', { project: 'other' }), false);
    assert.equal(await authorizer.can(alice, 'view', { project: 'doomed' }), false);
    assert.deepEqual(await metadata.roleBindings.listBindings('doomed'), []);
    assert.equal(await metadata.serviceAccounts.findTokenByHash(hashSecret(secret)), undefined);
    assert.deepEqual((await access.listRoleBindings('other')).map((b) => b.role), ['registry-admin']);
    assert.equal(await metadata.repositories.getRepository('doomed/app'), undefined);
    assert.deepEqual(deletedProjects.at(-1), ['doomed', ['doomed/app', 'doomed/tools/cli']]);
    await assert.rejects(access.deleteProject('doomed'), reason('NotFound'));
  });
});

describe('role bindings', () => {
  it('refuses unknown roles, roles of the wrong scope, missing projects and missing service accounts', async () => {
    const { access } = service();
    await access.createProject('rb', alice);
    await assert.rejects(access.addRoleBinding('rb', 'registry-owner', { kind: 'User', name: 'x' }), reason('Invalid', 'roleRef.name'));
    await assert.rejects(access.addRoleBinding('rb', 'cluster-admin', { kind: 'User', name: 'x' }), reason('Invalid', 'roleRef.name'));
    await assert.rejects(access.addRoleBinding(CLUSTER_SCOPE, 'registry-viewer', { kind: 'User', name: 'x' }), reason('Invalid', 'roleRef.name'));
    await assert.rejects(access.addRoleBinding('missing', 'registry-viewer', { kind: 'User', name: 'x' }), reason('NotFound'));
    await assert.rejects(access.addRoleBinding('rb', 'registry-viewer', { kind: 'ServiceAccount', name: 'ghost' }), reason('NotFound'));
    await assert.rejects(access.addRoleBinding('rb', 'registry-viewer', { kind: 'User', name: 'system:admin' }), reason('Invalid', 'subject.name'));
    await assert.rejects(access.addRoleBinding('rb', 'registry-viewer', { kind: 'Group', name: 'system:masters' }), reason('Invalid', 'subject.name'));
    await assert.rejects(access.addRoleBinding(CLUSTER_SCOPE, 'cluster-admin', { kind: 'ServiceAccount', name: 'ci' }), reason('Invalid', 'subject.namespace'));
    await assert.rejects(access.removeRoleBinding('rb', 'registry-viewer', { kind: 'User', name: 'nobody' }), reason('NotFound'));
    await assert.rejects(access.removeRoleBinding('rb', 'nonsense', { kind: 'User', name: 'nobody' }), reason('NotFound'));
    await assert.rejects(access.getRoleBinding('rb', 'cluster-admin'), reason('NotFound'));
  });

  it('adds (idempotently), lists grouped by role, removes, and the authorizer follows at once', async () => {
    const { access, authorizer } = service();
    await access.createProject('rb2', alice);
    await access.createServiceAccount('rb2', 'bot');
    assert.equal(await authorizer.can(ANONYMOUS, 'pull', { project: 'rb2' }), false);
    assert.equal(await access.addRoleBinding('rb2', 'registry-viewer', { kind: 'Group', name: 'system:unauthenticated' }), true);
    assert.equal(await access.addRoleBinding('rb2', 'registry-viewer', { kind: 'Group', name: 'system:unauthenticated' }), false);
    assert.equal(await access.addRoleBinding('rb2', 'registry-editor', { kind: 'ServiceAccount', name: 'bot' }), true);
    assert.equal(await authorizer.can(ANONYMOUS, 'pull', { project: 'rb2' }), true);
    assert.deepEqual(await access.listRoleBindings('rb2'), [
      { project: 'rb2', role: 'registry-admin', subjects: [{ kind: 'User', name: 'alice' }] },
      { project: 'rb2', role: 'registry-editor', subjects: [{ kind: 'ServiceAccount', name: 'bot', namespace: 'rb2' }] },
      { project: 'rb2', role: 'registry-viewer', subjects: [{ kind: 'Group', name: 'system:unauthenticated' }] },
    ]);
    await access.removeRoleBinding('rb2', 'registry-viewer', { kind: 'Group', name: 'system:unauthenticated' });
    assert.equal(await authorizer.can(ANONYMOUS, 'pull', { project: 'rb2' }), false);
    assert.deepEqual(await access.getRoleBinding('rb2', 'registry-viewer'), { project: 'rb2', role: 'registry-viewer', subjects: [] });
    const who = await access.whoCan('push', 'rb2');
    assert.ok(who.some((s) => s.kind === 'User' && s.name === 'alice'));
    assert.ok(who.some((s) => s.kind === 'ServiceAccount' && s.name === 'rb2:bot'));
    await assert.rejects(access.whoCan('push', 'no-such'), reason('NotFound'));
  });
});

describe('service accounts and tokens', () => {
  it('creates, lists, issues a token once (stored hashed), revokes, and deletes with its bindings', async () => {
    const { access, authorizer } = service();
    await access.createProject('sa', alice);
    await access.createServiceAccount('sa', 'ci');
    await assert.rejects(access.createServiceAccount('sa', 'ci'), reason('AlreadyExists'));
    await assert.rejects(access.createServiceAccount('sa', 'CI'), reason('Invalid', 'metadata.name'));
    await assert.rejects(access.createServiceAccount('no-project', 'ci'), reason('NotFound'));
    assert.deepEqual((await access.listServiceAccounts('sa')).map((a) => a.name), ['ci']);

    const created = await access.createToken('sa', 'ci', 3600);
    assert.match(created.secret, /^berth_sa_/);
    assert.equal(created.token.expiresAt, now + 3_600_000);
    assert.equal('tokenHash' in created.token, false);
    const stored = await metadata.serviceAccounts.findTokenByHash(hashSecret(created.secret));
    assert.equal(stored?.id, created.token.id);
    now += 1;
    const forever = await access.createToken('sa', 'ci');
    assert.equal(forever.token.expiresAt, null);
    await assert.rejects(access.createToken('sa', 'ci', 0), reason('Invalid', 'spec.expirationSeconds'));
    await assert.rejects(access.createToken('sa', 'ghost'), reason('NotFound'));

    const listed = await access.listTokens('sa', 'ci');
    assert.deepEqual(listed.map((t) => t.id), [created.token.id, forever.token.id]);
    assert.ok(listed.every((t) => !('tokenHash' in t) && !JSON.stringify(t).includes('berth_sa_')));

    now += 1000;
    const revoked = await access.revokeToken('sa', 'ci', created.token.id);
    assert.equal(revoked.revokedAt, now);
    assert.equal((await access.revokeToken('sa', 'ci', created.token.id)).revokedAt, now);
    await assert.rejects(access.revokeToken('sa', 'other', created.token.id), reason('NotFound'));
    await assert.rejects(access.revokeToken('sa', 'ci', 'no-such-id'), reason('NotFound'));

    await access.addRoleBinding('sa', 'registry-editor', { kind: 'ServiceAccount', name: 'ci' });
    assert.equal(await authorizer.can(serviceAccountPrincipal('sa', 'ci'), 'push', { project: 'sa' }), true);
    await access.deleteServiceAccount('sa', 'ci');
    assert.equal(await authorizer.can(serviceAccountPrincipal('sa', 'ci'), 'push', { project: 'sa' }), false);
    assert.deepEqual((await access.listRoleBindings('sa')).map((b) => b.role), ['registry-admin']);
    await assert.rejects(access.deleteServiceAccount('sa', 'ci'), reason('NotFound'));
  });

  it('rotateToken revokes the old token and creates its successor at once, with the same lifetime unless told', async () => {
    const { access } = service();
    await access.createProject('rot', alice);
    await access.createServiceAccount('rot', 'ci');
    const first = await access.createToken('rot', 'ci', 3600);
    now += 10_000;
    const rotated = await access.rotateToken('rot', 'ci', first.token.id);
    assert.match(rotated.secret, /^berth_sa_/);
    assert.notEqual(rotated.secret, first.secret);
    assert.notEqual(rotated.token.id, first.token.id);
    assert.equal(rotated.token.expiresAt, now + 3_600_000, 'the successor lives as long as the old token was given');
    assert.equal(rotated.revoked.id, first.token.id);
    assert.equal(rotated.revoked.revokedAt, now);
    assert.equal((await metadata.serviceAccounts.findTokenByHash(hashSecret(first.secret)))?.revokedAt, now, 'the old secret is revoked');
    const successor = await metadata.serviceAccounts.findTokenByHash(hashSecret(rotated.secret));
    assert.equal(successor?.revokedAt, null);
    assert.equal(successor?.id, rotated.token.id);

    const longer = await access.rotateToken('rot', 'ci', rotated.token.id, 60);
    assert.equal(longer.token.expiresAt, now + 60_000);
    const forever = await access.createToken('rot', 'ci');
    assert.equal((await access.rotateToken('rot', 'ci', forever.token.id)).token.expiresAt, null);

    await assert.rejects(access.rotateToken('rot', 'ci', first.token.id), reason('Conflict'), 'a revoked token is not rotated');
    await assert.rejects(access.rotateToken('rot', 'ci', 'no-such-id'), reason('NotFound'));
    await assert.rejects(access.rotateToken('rot', 'ghost', first.token.id), reason('NotFound'));
    await assert.rejects(access.rotateToken('rot', 'ci', longer.token.id, 0), reason('Invalid', 'spec.expirationSeconds'));
    const live = (await access.listTokens('rot', 'ci')).filter((t) => t.revokedAt === null);
    assert.equal(live.length, 2, 'each rotation leaves exactly one successor live');
  });
});

describe('users and groups', () => {
  it('creates users with bcrypt passwords, changes, disables (revoking OAuth tokens) and deletes them', async () => {
    const { access } = service();
    const user = await access.createUser('dave', 'correct horse');
    assert.deepEqual(user, { name: 'dave', createdAt: now, disabled: false, hasPassword: true, groups: [] });
    assert.ok(await verifyPassword('correct horse', (await metadata.users.getUser('dave'))?.passwordHash));
    await assert.rejects(access.createUser('dave'), reason('AlreadyExists'));
    await assert.rejects(access.createUser('bad:name'), reason('Invalid', 'metadata.name'));
    await assert.rejects(access.createUser('~'), reason('Invalid'));
    await assert.rejects(access.createUser('erin', 'x'.repeat(73)), reason('Invalid', 'password'));

    await access.setPassword('dave', 'battery staple');
    assert.ok(await verifyPassword('battery staple', (await metadata.users.getUser('dave'))?.passwordHash));
    await access.setPassword('dave', null);
    assert.equal((await access.getUser('dave')).hasPassword, false);
    await assert.rejects(access.setPassword('nobody', 'pw'), reason('NotFound'));

    const token = { kind: 'access', userName: 'dave', clientId: 'berth-cli', scopes: '', createdAt: now, expiresAt: now + 60_000, revokedAt: null, family: 'f' } as const;
    await metadata.oauthTokens.putToken({ ...token, hash: 'h1' });
    await access.setDisabled('dave', true);
    assert.equal((await access.getUser('dave')).disabled, true);
    assert.notEqual((await metadata.oauthTokens.findTokenByHash('h1'))?.revokedAt, null);
    await access.setDisabled('dave', false);

    await metadata.oauthTokens.putToken({ ...token, hash: 'h2' });
    await access.deleteUser('dave');
    assert.notEqual((await metadata.oauthTokens.findTokenByHash('h2'))?.revokedAt, null);
    await assert.rejects(access.getUser('dave'), reason('NotFound'));
    await assert.rejects(access.deleteUser('dave'), reason('NotFound'));
  });

  it('groups: create, members, list with paging, delete; virtual groups cannot be created', async () => {
    const { access } = service();
    await access.createUser('gina');
    await access.createGroup('g-one');
    await access.createGroup('g-two');
    await assert.rejects(access.createGroup('g-one'), reason('AlreadyExists'));
    await assert.rejects(access.createGroup('system:authenticated'), reason('Invalid', 'metadata.name'));
    assert.equal(await access.addMember('g-one', 'gina'), true);
    assert.equal(await access.addMember('g-one', 'gina'), false);
    await assert.rejects(access.addMember('g-one', 'nobody'), reason('NotFound'));
    await assert.rejects(access.addMember('g-none', 'gina'), reason('NotFound'));
    assert.deepEqual((await access.getUser('gina')).groups, ['g-one']);
    const page = await access.listGroups({ limit: 1, after: 'g-' });
    assert.deepEqual(page.items, [{ name: 'g-one', createdAt: now, users: ['gina'] }]);
    assert.equal(page.next, 'g-one');
    await access.removeMember('g-one', 'gina');
    await assert.rejects(access.removeMember('g-one', 'gina'), reason('NotFound'));
    await access.deleteGroup('g-two');
    await assert.rejects(access.getGroup('g-two'), reason('NotFound'));
  });

  it('deleting a user or a group removes every binding naming it, so a new one of the same name has no roles', async () => {
    const { access, authorizer } = service();
    await access.createProject('del-a', userPrincipal('owner'));
    await access.createProject('del-b', userPrincipal('owner'));
    await access.createUser('frank');
    await access.createGroup('del-devs');
    await access.addRoleBinding('del-a', 'registry-admin', { kind: 'User', name: 'frank' });
    await access.addRoleBinding('del-b', 'registry-viewer', { kind: 'User', name: 'frank' });
    await access.addRoleBinding(CLUSTER_SCOPE, 'cluster-admin', { kind: 'User', name: 'frank' });
    await access.addRoleBinding('del-a', 'registry-editor', { kind: 'Group', name: 'del-devs' });
    await access.addRoleBinding('del-b', 'registry-editor', { kind: 'User', name: 'frankie' });
    const frank = userPrincipal('frank');
    const dev = userPrincipal('someone', ['del-devs']);
    // Warm the authorizer's cache: the deletes must invalidate it.
    assert.equal(await authorizer.can(frank, 'push', { project: 'del-b' }), true);
    assert.equal(await authorizer.can(frank, 'manage-users'), true);
    assert.equal(await authorizer.can(dev, 'push', { project: 'del-a' }), true);

    await access.deleteUser('frank');
    assert.deepEqual(await metadata.roleBindings.listBindingsFor('User', 'frank'), []);
    await access.createUser('frank');
    for (const [verb, project] of [['pull', 'del-a'], ['manage-bindings', 'del-a'], ['pull', 'del-b'], ['manage-users', undefined]] as const) {
      assert.equal(await authorizer.can(frank, verb, project === undefined ? undefined : { project }), false, `the new frank may not ${verb} ${project ?? ''}`);
    }
    assert.deepEqual((await access.getRoleBinding('del-b', 'registry-editor')).subjects, [{ kind: 'User', name: 'frankie' }], 'other subjects keep their bindings');

    await access.deleteGroup('del-devs');
    assert.deepEqual(await metadata.roleBindings.listBindingsFor('Group', 'del-devs'), []);
    await access.createGroup('del-devs');
    assert.equal(await authorizer.can(dev, 'pull', { project: 'del-a' }), false, 'a new group of the same name has no roles');
    assert.deepEqual((await access.getRoleBinding('del-a', 'registry-admin')).subjects, [{ kind: 'User', name: 'owner' }]);
  });

  it('importHtpasswd creates and updates users in one go, and refuses a bad file as a whole', async () => {
    const { access } = service();
    const [h1, h2] = await Promise.all([hashPassword('pw-one', 4), hashPassword('pw-two', 4)]);
    await access.createUser('imp-b', 'old password');
    const result = await access.importHtpasswd(`# users\nimp-a:${h1}\r\nimp-b:${h2}\n\n`);
    assert.deepEqual(result, { created: 1, updated: 1, unchanged: 0, changedUsers: ['imp-a', 'imp-b'] });
    assert.ok(await verifyPassword('pw-two', (await metadata.users.getUser('imp-b'))?.passwordHash));
    assert.deepEqual(await access.importHtpasswd(`imp-a:${h1}\n`), { created: 0, updated: 0, unchanged: 1, changedUsers: [] });
    await assert.rejects(access.importHtpasswd(`imp-c:${h1}\nimp-d:$apr1$xyz\n`), reason('Invalid'));
    await assert.rejects(access.importHtpasswd(`bad~name:${h1}\n`), reason('Invalid'));
    assert.equal(await metadata.users.getUser('imp-c'), undefined);
  });
});

describe('bootstrapAdmin', () => {
  it('creates the administrator once, with a generated password, and binds cluster-admin', async () => {
    const { access, authorizer } = service();
    const first = await access.bootstrapAdmin({ name: 'root-admin' });
    assert.equal(first.created, true);
    assert.equal(first.generatedPassword?.length, 24);
    assert.ok(await verifyPassword(first.generatedPassword ?? '', (await metadata.users.getUser('root-admin'))?.passwordHash));
    assert.equal(await authorizer.can(userPrincipal('root-admin'), 'manage-users'), true);
    assert.deepEqual(await access.bootstrapAdmin({ name: 'root-admin' }), { created: false, name: 'root-admin' });
    assert.deepEqual(await access.bootstrapAdmin({ name: 'someone-else', password: 'pw' }), { created: false, name: 'someone-else' });
    assert.equal(await metadata.users.getUser('someone-else'), undefined);

    // A disabled administrator does not count: an operator recovers by restarting with a password.
    await access.setDisabled('root-admin', true);
    const again = await access.bootstrapAdmin({ name: 'root-admin', password: 'recovered' });
    assert.deepEqual(again, { created: false, name: 'root-admin' });
    assert.equal((await access.getUser('root-admin')).disabled, false);
    assert.ok(await verifyPassword('recovered', (await metadata.users.getUser('root-admin'))?.passwordHash));
  });
});
