import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance, type LightMyRequestResponse } from 'fastify';
import { AccessService } from '../../authz/access-service.ts';
import { userPrincipal } from '../../authz/principals.ts';
import { RbacAuthorizer } from '../../authz/rbac-authorizer.ts';
import { Authenticator } from '../../identity/authenticator.ts';
import { LoginRateLimiter } from '../../identity/login-rate-limiter.ts';
import { hashPassword } from '../../identity/passwords.ts';
import { RegistryTokens } from '../../identity/registry-tokens.ts';
import { SecretBox } from '../../identity/secret-box.ts';
import { SigningKeys } from '../../identity/signing-keys.ts';
import { openMetadata } from '../../metadata/open-metadata.ts';
import type { Metadata } from '../../metadata/stores.ts';
import { apiPlugin } from './plugin.ts';

const V1 = '/apis/berth.dev/v1';
let now = Date.UTC(2026, 4, 1);
const clock = () => now;

let metadata: Metadata;
let app: FastifyInstance;
let tokens: RegistryTokens;
let authorizer: RbacAuthorizer;
let adminPassword: string;

type Json = Record<string, unknown> & { items?: Json[]; metadata?: Json; status?: unknown; subjects?: Json[] };

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

let admin: string;
let calls = 0;
const alice = () => basic('alice', 'alice-password');
const bob = () => basic('bob', 'bob-password');

async function call(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, auth?: string, body?: unknown, extraHeaders: Record<string, string> = {}): Promise<{ res: LightMyRequestResponse; json: Json }> {
  const headers: Record<string, string> = { ...extraHeaders };
  if (auth !== undefined) headers['authorization'] = auth;
  if (body !== undefined && headers['content-type'] === undefined) headers['content-type'] = 'application/json';
  // Each call from its own address: the limiter counts failures per address too, and this
  // suite fails on purpose often; the per-user limit is what the rate-limit test exercises.
  calls++;
  const remoteAddress = `10.0.${Math.floor(calls / 250)}.${calls % 250}`;
  const res = await app.inject({ method, remoteAddress, url: path.startsWith('/') ? path : `${V1}/${path}`, headers, ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }) });
  let json: Json = {};
  if (res.body !== '') json = JSON.parse(res.body) as Json;
  return { res, json };
}

/** Asserts the Kubernetes Status shape of an error answer. */
function assertStatus(answer: { res: LightMyRequestResponse; json: Json }, code: number, reason: string, message?: RegExp): void {
  assert.equal(answer.res.statusCode, code, answer.res.body);
  assert.match(String(answer.res.headers['content-type']), /^application\/json/);
  assert.equal(answer.json['kind'], 'Status');
  assert.equal(answer.json['apiVersion'], 'v1');
  assert.deepEqual(answer.json['metadata'], {});
  assert.equal(answer.json['status'], 'Failure');
  assert.equal(answer.json['reason'], reason);
  assert.equal(answer.json['code'], code);
  assert.equal(typeof answer.json['message'], 'string');
  if (message !== undefined) assert.match(String(answer.json['message']), message);
}

function names(list: Json): string[] {
  return (list.items ?? []).map((item) => String(item.metadata?.['name']));
}

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: true, clock });
  const keys = new SigningKeys({ store: metadata.signingKeys, box: new SecretBox(randomBytes(32)), clock });
  tokens = new RegistryTokens({ keys, issuer: 'https://berth.test/v2/token', service: 'berth.test', clock });
  const authenticator = new Authenticator({ metadata, tokens, limiter: new LoginRateLimiter({ maxFailures: 3, clock }), clock });
  const access = new AccessService({ metadata, authorizer, clock, selfProvisioning: true });
  const boot = await access.bootstrapAdmin({});
  assert.ok(boot.created && boot.generatedPassword !== undefined);
  adminPassword = boot.generatedPassword;
  admin = basic('admin', adminPassword);
  app = Fastify();
  await app.register(apiPlugin, { access, authorizer, authenticator, metadata });
  await app.ready();
});

after(async () => {
  await app.close();
  await metadata.close();
});

describe('resource API', () => {
  it('the bootstrap administrator creates users and groups; nobody sees a password hash', async () => {
    const me = await call('GET', 'users/~', admin);
    assert.equal(me.res.statusCode, 200);
    assert.deepEqual(me.json, { apiVersion: 'berth.dev/v1', kind: 'User', metadata: { name: 'admin' }, groups: ['system:authenticated'] });

    for (const [name, password] of [['alice', 'alice-password'], ['bob', 'bob-password'], ['carol', 'carol-password']]) {
      const created = await call('POST', 'users', admin, { metadata: { name }, spec: { password } });
      assert.equal(created.res.statusCode, 201, created.res.body);
      assert.equal(created.json['kind'], 'User');
      assert.deepEqual(created.json['spec'], { disabled: false });
      assert.ok(!created.res.body.includes('$2'), 'no bcrypt hash in the answer');
    }
    assertStatus(await call('POST', 'users', admin, { metadata: { name: 'alice' }, spec: { password: 'x' } }), 409, 'AlreadyExists');

    const group = await call('POST', 'groups', admin, { metadata: { name: 'devs' } });
    assert.equal(group.res.statusCode, 201);
    const member = await call('POST', 'groups/devs/members', admin, { name: 'carol' });
    assert.equal(member.res.statusCode, 201);
    assert.deepEqual(member.json['users'], ['carol']);
    const carol = await call('GET', 'users/carol', admin);
    assert.deepEqual(carol.json['groups'], ['devs']);
    const users = await call('GET', 'users', admin);
    assert.deepEqual(names(users.json), ['admin', 'alice', 'bob', 'carol']);
    assert.ok(!users.res.body.includes('$2'));
    // carol's groups are seen by the authenticator at once (its cache was told).
    assert.deepEqual((await call('GET', 'users/~', basic('carol', 'carol-password'))).json['groups'], ['devs', 'system:authenticated']);

    // A user who is no administrator may not manage users.
    assertStatus(await call('GET', 'users', alice()), 403, 'Forbidden', /user "alice" may not manage users and groups/);
  });

  it('a user creates a project and becomes its registry-admin; bindings are added and removed', async () => {
    const created = await call('POST', 'projects', alice(), { metadata: { name: 'alpha' }, spec: { displayName: 'Alpha' } });
    assert.equal(created.res.statusCode, 201, created.res.body);
    assert.deepEqual(created.json['spec'], { displayName: 'Alpha' });
    assert.deepEqual((created.json.metadata as Json)['annotations'], { 'berth.dev/requester': 'alice' });
    assert.deepEqual(created.json['status'], { phase: 'Active' });

    const admins = await call('GET', 'namespaces/alpha/rolebindings/registry-admin', alice());
    assert.deepEqual(admins.json, {
      apiVersion: 'berth.dev/v1',
      kind: 'RoleBinding',
      metadata: { name: 'registry-admin', namespace: 'alpha' },
      roleRef: { kind: 'ClusterRole', name: 'registry-admin' },
      subjects: [{ kind: 'User', name: 'alice' }],
    });

    const added = await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice(), { kind: 'User', name: 'bob' });
    assert.equal(added.res.statusCode, 201);
    assert.deepEqual(added.json.subjects, [{ kind: 'User', name: 'bob' }]);
    assert.equal((await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice(), { kind: 'User', name: 'bob' })).res.statusCode, 200);

    // bob may now view, but not manage bindings.
    assert.equal((await call('GET', 'projects/alpha', bob())).res.statusCode, 200);
    assertStatus(
      await call('POST', 'namespaces/alpha/rolebindings/registry-admin/subjects', bob(), { kind: 'User', name: 'bob' }),
      403,
      'Forbidden',
      /user "bob" may not manage role bindings in project "alpha"/,
    );
    assertStatus(await call('DELETE', 'namespaces/alpha/rolebindings/registry-viewer/subjects/User/bob', bob()), 403, 'Forbidden');

    const list = await call('GET', 'namespaces/alpha/rolebindings', bob());
    assert.equal(list.json['kind'], 'RoleBindingList');
    assert.deepEqual(names(list.json), ['registry-admin', 'registry-viewer']);

    const removed = await call('DELETE', 'namespaces/alpha/rolebindings/registry-viewer/subjects/user/bob', alice());
    assert.equal(removed.res.statusCode, 200);
    assert.deepEqual(removed.json.subjects, []);
    assertStatus(await call('GET', 'projects/alpha', bob()), 403, 'Forbidden', /user "bob" may not view project "alpha"/);
    assertStatus(await call('DELETE', 'namespaces/alpha/rolebindings/registry-viewer/subjects/User/bob', alice()), 404, 'NotFound');

    // The group binding reaches carol through devs.
    await call('POST', 'namespaces/alpha/rolebindings/registry-editor/subjects', alice(), { kind: 'Group', name: 'devs' });
    assert.deepEqual(names((await call('GET', 'projects', basic('carol', 'carol-password'))).json), ['alpha']);
  });

  it('anonymous: 401 with a challenge where a login would help; lists nothing until system:unauthenticated is bound', async () => {
    const denied = await call('GET', 'projects/alpha');
    assertStatus(denied, 401, 'Unauthorized', /anonymous users may not view project "alpha"/);
    assert.equal(denied.res.headers['www-authenticate'], 'Bearer realm="http://localhost:80/oauth/authorize"');
    assertStatus(await call('GET', 'users/~'), 401, 'Unauthorized');
    const empty = await call('GET', 'projects');
    assert.equal(empty.res.statusCode, 200);
    assert.deepEqual(empty.json, { apiVersion: 'berth.dev/v1', kind: 'ProjectList', metadata: {}, items: [] });

    const bound = await call('POST', 'namespaces/alpha/rolebindings/registry-viewer/subjects', alice(), { kind: 'Group', name: 'system:unauthenticated' });
    assert.equal(bound.res.statusCode, 201);
    assert.equal((await call('GET', 'projects/alpha')).res.statusCode, 200);
    assert.deepEqual(names((await call('GET', 'projects')).json), ['alpha']);
    assertStatus(await call('DELETE', 'projects/alpha'), 401, 'Unauthorized');
    await call('DELETE', 'namespaces/alpha/rolebindings/registry-viewer/subjects/Group/system:unauthenticated', alice());
    assertStatus(await call('GET', 'projects/alpha'), 401, 'Unauthorized');
  });

  it('service accounts: token shown once, works as Basic (any user name) and Bearer, revoked or expired → 401', async () => {
    const account = await call('POST', 'namespaces/alpha/serviceaccounts', alice(), { metadata: { name: 'ci' } });
    assert.equal(account.res.statusCode, 201, account.res.body);
    assert.deepEqual(account.json['status'], { username: 'system:serviceaccount:alpha:ci' });
    await call('POST', 'namespaces/alpha/rolebindings/registry-editor/subjects', alice(), { kind: 'ServiceAccount', name: 'ci' });

    const created = await call('POST', 'namespaces/alpha/serviceaccounts/ci/tokens', alice(), { spec: { expirationSeconds: 3600 } });
    assert.equal(created.res.statusCode, 201, created.res.body);
    const status = created.json['status'] as Json;
    const secret = String(status['token']);
    assert.match(secret, /^berth_sa_/);
    assert.equal(status['revoked'], false);
    const id = String(created.json.metadata?.['name']);
    assert.equal((created.json['spec'] as Json)['expirationTimestamp'], new Date(now + 3_600_000).toISOString());

    const listed = await call('GET', 'namespaces/alpha/serviceaccounts/ci/tokens', alice());
    assert.deepEqual(names(listed.json), [id]);
    assert.ok(!listed.res.body.includes(secret) && !listed.res.body.includes('berth_sa_'), 'no secret in listings');

    for (const auth of [basic('anything', secret), basic('', secret), `Bearer ${secret}`]) {
      const me = await call('GET', 'users/~', auth);
      assert.equal(me.res.statusCode, 200, `${auth.slice(0, 7)}: ${me.res.body}`);
      assert.equal(me.json.metadata?.['name'], 'system:serviceaccount:alpha:ci');
    }
    // Bound registry-editor: it may view the project, not manage its bindings.
    assert.equal((await call('GET', 'projects/alpha', `Bearer ${secret}`)).res.statusCode, 200);
    assertStatus(await call('GET', 'namespaces/alpha/serviceaccounts/ci/tokens', `Bearer ${secret}`), 403, 'Forbidden', /service account "system:serviceaccount:alpha:ci" may not/);

    // Rotation: a second token, then the first revoked.
    const second = await call('POST', 'namespaces/alpha/serviceaccounts/ci/tokens', alice());
    assert.equal(second.res.statusCode, 201, second.res.body);
    const secondSecret = String((second.json['status'] as Json)['token']);
    const revoked = await call('DELETE', `namespaces/alpha/serviceaccounts/ci/tokens/${id}`, alice());
    assert.equal(revoked.res.statusCode, 200);
    assert.equal(revoked.json['status'], 'Success');
    assertStatus(await call('GET', 'users/~', basic('ci', secret)), 401, 'Unauthorized', /not valid/);
    assertStatus(await call('GET', 'users/~', `Bearer ${secret}`), 401, 'Unauthorized');
    assert.equal((await call('GET', 'users/~', `Bearer ${secondSecret}`)).res.statusCode, 200);
    const after = await call('GET', 'namespaces/alpha/serviceaccounts/ci/tokens', alice());
    const revokedById = new Map((after.json.items ?? []).map((t) => [String((t['metadata'] as Json)['name']), (t['status'] as Json)['revoked']]));
    assert.equal(revokedById.size, 2);
    assert.equal(revokedById.get(String(id)), true, 'the first token is revoked');
    assert.deepEqual([...revokedById.values()].sort(), [false, true], 'the second one is not');

    const shortLived = await call('POST', 'namespaces/alpha/serviceaccounts/ci/tokens', alice(), { spec: { expirationSeconds: 60 } });
    const shortSecret = String((shortLived.json['status'] as Json)['token']);
    now += 61_000;
    assertStatus(await call('GET', 'users/~', `Bearer ${shortSecret}`), 401, 'Unauthorized', /expired/);
  });

  it('refuses registry tokens, which carry only a /v2 scope', async () => {
    const issued = await tokens.issue(userPrincipal('alice'), ['repository:alpha/app:pull'], authorizer);
    const answer = await call('GET', 'users/~', `Bearer ${issued.token}`);
    assertStatus(answer, 401, 'Unauthorized', /only for \/v2/);
    assert.match(String(answer.res.headers['www-authenticate']), /^Bearer realm=/);
  });

  it('whocan lists subjects by kind', async () => {
    const who = await call('GET', 'namespaces/alpha/whocan?verb=push', alice());
    assert.equal(who.res.statusCode, 200, who.res.body);
    assert.deepEqual(who.json, {
      apiVersion: 'berth.dev/v1',
      kind: 'WhoCan',
      verb: 'push',
      namespace: 'alpha',
      users: ['admin', 'alice'],
      groups: ['devs'],
      serviceAccounts: ['system:serviceaccount:alpha:ci'],
    });
    assertStatus(await call('GET', 'namespaces/alpha/whocan?verb=fly', alice()), 400, 'BadRequest', /verb must be one of/);
    assertStatus(await call('GET', 'namespaces/alpha/whocan?verb=push', bob()), 403, 'Forbidden');
  });

  it('pages lists with limit and continue', async () => {
    for (const name of ['page-1', 'page-2', 'page-3']) assert.equal((await call('POST', 'projects', admin, { metadata: { name } })).res.statusCode, 201);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await call('GET', `projects?limit=2${cursor === undefined ? '' : `&continue=${encodeURIComponent(cursor)}`}`, admin);
      assert.equal(page.res.statusCode, 200, page.res.body);
      seen.push(...names(page.json));
      cursor = page.json.metadata?.['continue'] as string | undefined;
      pages++;
    } while (cursor !== undefined);
    assert.deepEqual(seen, ['alpha', 'page-1', 'page-2', 'page-3']);
    assert.equal(pages, 2);

    const first = await call('GET', 'users?limit=1', admin);
    assert.deepEqual(names(first.json), ['admin']);
    const next = await call('GET', `users?limit=1&continue=${String(first.json.metadata?.['continue'])}`, admin);
    assert.deepEqual(names(next.json), ['alice']);
    const bindings = await call('GET', 'namespaces/alpha/rolebindings?limit=1', alice());
    assert.deepEqual(names(bindings.json), ['registry-admin']);
    assert.equal(typeof bindings.json.metadata?.['continue'], 'string');

    assertStatus(await call('GET', 'projects?limit=zero', admin), 400, 'BadRequest', /limit/);
    assertStatus(await call('GET', 'projects?continue=not-a-cursor', admin), 400, 'BadRequest', /continue/);
  });

  it('answers every error as a Status with the right reason and code', async () => {
    assertStatus(await call('GET', 'projects/missing', admin), 404, 'NotFound', /project "missing" not found/);
    const notFound = await call('GET', 'projects/missing', admin);
    assert.deepEqual(notFound.json['details'], { kind: 'projects', name: 'missing' });
    assertStatus(await call('GET', 'no-such-resource', admin), 404, 'NotFound');
    assertStatus(await call('GET', '/apis/other.group/v1/things', admin), 404, 'NotFound');
    assertStatus(await call('POST', 'projects', admin, { metadata: { name: 'alpha' } }), 409, 'AlreadyExists');

    const invalid = await call('POST', 'projects', admin, { metadata: { name: 'Not_Valid' } });
    assertStatus(invalid, 422, 'Invalid', /invalid project name/);
    assert.deepEqual((invalid.json['details'] as Json)['causes'], [{ reason: 'FieldValueInvalid', message: String(invalid.json['message']), field: 'metadata.name' }]);
    const missingField = await call('POST', 'projects', admin, { spec: {} });
    assertStatus(missingField, 422, 'Invalid', /metadata/);
    assert.equal(((missingField.json['details'] as Json)['causes'] as Json[])[0]?.['field'], 'metadata');
    assert.equal(((missingField.json['details'] as Json)['causes'] as Json[])[0]?.['reason'], 'FieldValueRequired');
    const wrongType = await call('POST', 'namespaces/alpha/serviceaccounts/ci/tokens', admin, { spec: { expirationSeconds: 'soon' } });
    assertStatus(wrongType, 422, 'Invalid');
    assert.equal(((wrongType.json['details'] as Json)['causes'] as Json[])[0]?.['field'], 'spec.expirationSeconds');
    assertStatus(await call('POST', 'namespaces/alpha/rolebindings/registry-owner/subjects', admin, { kind: 'User', name: 'x' }), 422, 'Invalid', /registry-owner/);
    assertStatus(await call('POST', 'clusterrolebindings/registry-viewer/subjects', admin, { kind: 'User', name: 'x' }), 422, 'Invalid', /cannot be bound in the cluster/);

    assertStatus(await call('POST', 'projects', admin, '{"metadata":'), 400, 'BadRequest', /not valid JSON/);
    assertStatus(await call('POST', 'projects', admin), 400, 'BadRequest', /needs a JSON body/);
    assertStatus(await call('POST', 'projects', admin, 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, 'UnsupportedMediaType');
    assertStatus(await call('POST', 'htpasswdimports', admin, { spec: { htpasswd: 'x'.repeat(1024 * 1024 + 10) } }), 413, 'RequestEntityTooLarge');

    assertStatus(await call('GET', 'users/~', basic('alice', 'wrong')), 401, 'Unauthorized', /invalid user name or password/);
    assertStatus(await call('GET', 'users/~', 'Digest abc'), 401, 'Unauthorized');
    // Three failures for one user within the window: rate-limited, with Retry-After, even with the right password.
    await call('GET', 'users/~', basic('bob', 'wrong'));
    await call('GET', 'users/~', basic('bob', 'wrong'));
    await call('GET', 'users/~', basic('bob', 'wrong'));
    const limited = await call('GET', 'users/~', bob());
    assertStatus(limited, 429, 'TooManyRequests');
    assert.match(String(limited.res.headers['retry-after']), /^\d+$/);
  });

  it('cluster role bindings are for cluster admins only', async () => {
    assertStatus(await call('GET', 'clusterrolebindings', alice()), 403, 'Forbidden', /may not view cluster role bindings/);
    const list = await call('GET', 'clusterrolebindings', admin);
    assert.equal(list.json['kind'], 'ClusterRoleBindingList');
    assert.deepEqual(list.json.items, [
      { apiVersion: 'berth.dev/v1', kind: 'ClusterRoleBinding', metadata: { name: 'cluster-admin' }, roleRef: { kind: 'ClusterRole', name: 'cluster-admin' }, subjects: [{ kind: 'User', name: 'admin' }] },
    ]);
    const added = await call('POST', 'clusterrolebindings/cluster-admin/subjects', admin, { kind: 'User', name: 'carol' });
    assert.equal(added.res.statusCode, 201);
    assert.equal((await call('GET', 'users', basic('carol', 'carol-password'))).res.statusCode, 200);
    assert.equal((await call('DELETE', 'clusterrolebindings/cluster-admin/subjects/User/carol', admin)).res.statusCode, 200);
    assertStatus(await call('GET', 'users', basic('carol', 'carol-password')), 403, 'Forbidden');
  });

  it('user updates: password change, disable (login refused), delete', async () => {
    const changed = await call('PUT', 'users/bob', admin, { spec: { password: 'new-bob-password' } });
    assert.equal(changed.res.statusCode, 200, changed.res.body);
    const disabled = await call('PUT', 'users/carol', admin, { spec: { disabled: true } });
    assert.deepEqual(disabled.json['spec'], { disabled: true });
    assertStatus(await call('GET', 'users/~', basic('carol', 'carol-password')), 401, 'Unauthorized');
    assertStatus(await call('PUT', 'users/nobody', admin, { spec: { disabled: true } }), 404, 'NotFound');
    assert.equal((await call('DELETE', 'users/carol', admin)).json['status'], 'Success');
    assertStatus(await call('GET', 'users/carol', admin), 404, 'NotFound');
  });

  it('htpasswd import over the API', async () => {
    const imported = await call('POST', 'htpasswdimports', admin, { spec: { htpasswd: `dora:${await hashPassword('dora-password', 4)}\n` } });
    assert.equal(imported.res.statusCode, 201, imported.res.body);
    assert.deepEqual(imported.json['status'], { created: 1, updated: 0, unchanged: 0 });
    assertStatus(await call('POST', 'htpasswdimports', admin, { spec: { htpasswd: 'eve:{SHA}abc\n' } }), 422, 'Invalid', /only bcrypt/);
    assert.equal((await call('GET', 'users/~', basic('dora', 'dora-password'))).res.statusCode, 200);

    // One user at a time, as `berth adm users import` may send it: a bcrypt hash made elsewhere.
    const withHash = await call('POST', 'users', admin, { metadata: { name: 'fred' }, spec: { passwordHash: await hashPassword('fred-password', 4) } });
    assert.equal(withHash.res.statusCode, 201, withHash.res.body);
    assert.deepEqual(withHash.json['status'], { passwordSet: true });
    assert.equal((await call('GET', 'users/~', basic('fred', 'fred-password'))).res.statusCode, 200);
    const notBcrypt = await call('PUT', 'users/fred', admin, { spec: { passwordHash: '{SHA}abc' } });
    assertStatus(notBcrypt, 422, 'Invalid', /bcrypt/);
    assert.equal(((notBcrypt.json['details'] as Json)['causes'] as Json[])[0]?.['field'], 'spec.passwordHash');
    assertStatus(await call('PUT', 'users/fred', admin, { spec: { password: 'a', passwordHash: 'b' } }), 422, 'Invalid', /not both/);
  });

  it('deleting a project removes its bindings and service accounts', async () => {
    const deleted = await call('DELETE', 'projects/alpha', alice());
    assert.equal(deleted.res.statusCode, 200, deleted.res.body);
    assert.deepEqual(deleted.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200, details: { kind: 'projects', name: 'alpha' } });
    assert.deepEqual(await metadata.roleBindings.listBindings('alpha'), []);
    assert.deepEqual(await metadata.serviceAccounts.listServiceAccounts('alpha'), []);
    assertStatus(await call('GET', 'projects/alpha', admin), 404, 'NotFound');
    assertStatus(await call('GET', 'projects/alpha', alice()), 403, 'Forbidden');
    assert.deepEqual(names((await call('GET', 'projects', alice())).json), []);
  });
});
