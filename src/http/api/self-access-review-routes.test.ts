import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { AccessService } from '../../authz/access-service.ts';
import { userPrincipal } from '../../authz/principals.ts';
import { RbacAuthorizer } from '../../authz/rbac-authorizer.ts';
import { Authenticator } from '../../identity/authenticator.ts';
import { LoginRateLimiter } from '../../identity/login-rate-limiter.ts';
import { RegistryTokens } from '../../identity/registry-tokens.ts';
import { SecretBox } from '../../identity/secret-box.ts';
import { SigningKeys } from '../../identity/signing-keys.ts';
import { openMetadata } from '../../metadata/open-metadata.ts';
import type { Metadata } from '../../metadata/stores.ts';
import { apiPlugin } from './plugin.ts';

const V1 = '/apis/berth.dev/v1';
const clock = () => Date.UTC(2026, 4, 1);
const basic = (user: string, secret: string): string => `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;

type Json = Record<string, unknown>;

/** One API with its own database, self-provisioning on or off; alice and bob are plain users. */
async function startApi(selfProvisioning: boolean): Promise<{ app: FastifyInstance; metadata: Metadata; admin: string; access: AccessService }> {
  const metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  const authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning, clock });
  const keys = new SigningKeys({ store: metadata.signingKeys, box: new SecretBox(randomBytes(32)), clock });
  const tokens = new RegistryTokens({ keys, issuer: 'https://berth.test/v2/token', service: 'berth.test', clock });
  const authenticator = new Authenticator({ metadata, tokens, limiter: new LoginRateLimiter({ maxFailures: 100, clock }), clock });
  const access = new AccessService({ metadata, authorizer, clock, selfProvisioning });
  const boot = await access.bootstrapAdmin({});
  assert.ok(boot.created && boot.generatedPassword !== undefined);
  const app = Fastify();
  await app.register(apiPlugin, { access, authorizer, authenticator, metadata });
  await app.ready();
  const admin = basic('admin', boot.generatedPassword);
  for (const name of ['alice', 'bob']) {
    const created = await app.inject({ method: 'POST', url: `${V1}/users`, headers: { authorization: admin, 'content-type': 'application/json' }, payload: JSON.stringify({ metadata: { name }, spec: { password: `${name}-password` } }) });
    assert.equal(created.statusCode, 201, created.body);
  }
  return { app, metadata, admin, access };
}

async function call(app: FastifyInstance, method: 'GET' | 'POST', path: string, auth: string | undefined, body?: unknown): Promise<{ status: number; json: Json }> {
  const headers: Record<string, string> = {};
  if (auth !== undefined) headers['authorization'] = auth;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await app.inject({ method, url: `${V1}/${path}`, headers, ...(body === undefined ? {} : { payload: JSON.stringify(body) }) });
  return { status: res.statusCode, json: res.body === '' ? {} : JSON.parse(res.body) as Json };
}

/** Asks the API whether the caller may `verb` (in `namespace`); returns the whole answer after checking its shape. */
async function review(app: FastifyInstance, auth: string | undefined, verb: string, namespace?: string): Promise<{ allowed: boolean; reason?: string }> {
  const spec = namespace === undefined ? { verb } : { verb, namespace };
  const answer = await call(app, 'POST', 'selfsubjectaccessreviews', auth, { spec });
  assert.equal(answer.status, 200, JSON.stringify(answer.json));
  assert.equal(answer.json['apiVersion'], 'berth.dev/v1');
  assert.equal(answer.json['kind'], 'SelfSubjectAccessReview');
  assert.deepEqual(answer.json['spec'], spec, 'the question comes back as asked');
  const status = answer.json['status'] as { allowed: boolean; reason?: string };
  assert.equal(typeof status.allowed, 'boolean');
  assert.equal(status.reason === undefined, status.allowed, 'a reason exactly when not allowed');
  return status;
}

const alice = basic('alice', 'alice-password');
const bob = basic('bob', 'bob-password');

describe('POST selfsubjectaccessreviews', () => {
  describe('with self-provisioning on', () => {
    let api: Awaited<ReturnType<typeof startApi>>;
    before(async () => { api = await startApi(true); });
    after(async () => { await api.app.close(); await api.metadata.close(); });

    it('create-project: any user and the admin may; anonymous and service accounts may not, as POST /projects agrees', async () => {
      assert.deepEqual(await review(api.app, alice, 'create-project'), { allowed: true });
      assert.deepEqual(await review(api.app, api.admin, 'create-project'), { allowed: true });
      const anonymous = await review(api.app, undefined, 'create-project');
      assert.equal(anonymous.allowed, false);
      assert.match(anonymous.reason ?? '', /^anonymous users may not create-project/);
      assert.equal((await call(api.app, 'POST', 'projects', undefined, { metadata: { name: 'nope' } })).status, 401);

      assert.equal((await call(api.app, 'POST', 'projects', alice, { metadata: { name: 'alpha' } })).status, 201);
      assert.equal((await call(api.app, 'POST', 'namespaces/alpha/serviceaccounts', alice, { metadata: { name: 'ci' } })).status, 201);
      const token = await call(api.app, 'POST', 'namespaces/alpha/serviceaccounts/ci/tokens', alice);
      const secret = (token.json['status'] as { token: string }).token;
      const robot = await review(api.app, `Bearer ${secret}`, 'create-project');
      assert.equal(robot.allowed, false);
      assert.match(robot.reason ?? '', /^service account "system:serviceaccount:alpha:ci" may not create-project/);
      assert.equal((await call(api.app, 'POST', 'projects', `Bearer ${secret}`, { metadata: { name: 'robots' } })).status, 403);
    });

    it('project verbs follow the caller\'s role in that project, and never leak whether a project exists', async () => {
      assert.equal((await call(api.app, 'POST', 'namespaces/alpha/rolebindings/registry-editor/subjects', alice, { kind: 'User', name: 'bob' })).status, 201);
      assert.deepEqual(await review(api.app, bob, 'push', 'alpha'), { allowed: true });
      const del = await review(api.app, bob, 'delete', 'alpha');
      assert.equal(del.allowed, false);
      assert.equal(del.reason, 'user "bob" may not delete in project "alpha"');
      assert.deepEqual(await review(api.app, alice, 'delete', 'alpha'), { allowed: true }, 'the creator is its registry-admin');
      // The same answer for a project bob is not in and one that does not exist.
      assert.equal((await review(api.app, bob, 'view', 'beta')).allowed, false);
      assert.equal((await review(api.app, bob, 'view', 'no-such-project')).allowed, false);
      // No namespace: registry-wide, which only a cluster binding grants.
      assert.equal((await review(api.app, alice, 'push')).allowed, false);
      assert.deepEqual(await review(api.app, api.admin, 'push'), { allowed: true });
      assert.deepEqual(await review(api.app, api.admin, 'manage-users'), { allowed: true });
      assert.equal((await review(api.app, alice, 'manage-users')).allowed, false);
    });

    it('refuses malformed questions in words', async () => {
      const unknownVerb = await call(api.app, 'POST', 'selfsubjectaccessreviews', alice, { spec: { verb: 'fly' } });
      assert.equal(unknownVerb.status, 422);
      assert.equal(unknownVerb.json['reason'], 'Invalid');
      assert.equal((unknownVerb.json['details'] as { causes: Array<{ field: string }> }).causes[0]?.field, 'spec.verb');
      const wideInProject = await call(api.app, 'POST', 'selfsubjectaccessreviews', alice, { spec: { verb: 'create-project', namespace: 'alpha' } });
      assert.equal(wideInProject.status, 422);
      assert.match(String(wideInProject.json['message']), /create-project is registry-wide: leave spec\.namespace out/);
      assert.equal((await call(api.app, 'POST', 'selfsubjectaccessreviews', alice)).status, 400, 'a body is needed');
      assert.equal((await call(api.app, 'GET', 'selfsubjectaccessreviews', alice)).status, 404, 'nothing is stored to GET');
    });
  });

  describe('with self-provisioning off', () => {
    let api: Awaited<ReturnType<typeof startApi>>;
    before(async () => { api = await startApi(false); });
    after(async () => { await api.app.close(); await api.metadata.close(); });

    it('create-project: a plain user may not and is told why; a cluster-admin may; POST /projects agrees', async () => {
      const denied = await review(api.app, alice, 'create-project');
      assert.deepEqual(denied, { allowed: false, reason: 'user "alice" may not create projects: self-provisioning is off' });
      const refused = await call(api.app, 'POST', 'projects', alice, { metadata: { name: 'alpha' } });
      assert.equal(refused.status, 403);
      // The review, the refused POST and a refused push into a missing project word it alike.
      assert.equal(refused.json['message'], denied.reason);
      assert.equal(await api.access.pushCreationRefusal('alpha', userPrincipal('alice')), 'alice may not create projects: self-provisioning is off');
      assert.deepEqual(await review(api.app, api.admin, 'create-project'), { allowed: true });
      assert.equal((await call(api.app, 'POST', 'projects', api.admin, { metadata: { name: 'alpha' } })).status, 201);

      // A cluster-admin binding made later is seen at once (the authorizer is told of binding changes).
      assert.equal((await call(api.app, 'POST', 'clusterrolebindings/cluster-admin/subjects', api.admin, { kind: 'User', name: 'bob' })).status, 201);
      assert.deepEqual(await review(api.app, bob, 'create-project'), { allowed: true });
    });
  });
});
