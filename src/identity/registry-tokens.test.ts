import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { ANONYMOUS } from '../authz/authorizer.ts';
import { serviceAccountPrincipal, userPrincipal } from '../authz/principals.ts';
import { RbacAuthorizer } from '../authz/rbac-authorizer.ts';
import { openMetadata } from '../metadata/open-metadata.ts';
import type { Metadata, SigningKeyStore } from '../metadata/stores.ts';
import { grants, parseScope, RegistryTokenError, RegistryTokens } from './registry-tokens.ts';
import { SecretBox, SecretBoxError } from './secret-box.ts';
import { SigningKeys } from './signing-keys.ts';

let metadata: Metadata;
let now = Date.UTC(2026, 4, 1);
const clock = () => now;
const masterKey = randomBytes(32);
let authorizer: RbacAuthorizer;

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  for (const name of ['a', 'b']) await metadata.projects.ensureProject({ name, createdAt: 1, createdBy: 'admin', displayName: null });
  await metadata.roleBindings.addBinding({ project: 'a', role: 'registry-editor', subjectKind: 'User', subjectName: 'alice' });
  await metadata.roleBindings.addBinding({ project: 'a', role: 'registry-admin', subjectKind: 'ServiceAccount', subjectName: 'a:ci' });
  await metadata.roleBindings.addBinding({ project: 'b', role: 'registry-viewer', subjectKind: 'Group', subjectName: 'system:unauthenticated' });
  authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: true, clock });
});
after(() => metadata.close());

function keys(key: Uint8Array = masterKey): SigningKeys {
  return new SigningKeys({ store: metadata.signingKeys, box: new SecretBox(key), clock });
}

function tokens(signingKeys: SigningKeys, overrides: { service?: string; issuer?: string } = {}): RegistryTokens {
  return new RegistryTokens({ keys: signingKeys, issuer: overrides.issuer ?? 'https://berth.test/token', service: overrides.service ?? 'berth.test', clock });
}

function code(expected: RegistryTokenError['code']) {
  return (error: unknown) => error instanceof RegistryTokenError && error.code === expected;
}

describe('parseScope', () => {
  it('splits type, optional class, name (which may hold colons) and actions', () => {
    assert.deepEqual(parseScope('repository:a/app:pull,push'), { type: 'repository', resourceClass: undefined, name: 'a/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository(plugin):a/app:pull'), { type: 'repository', resourceClass: 'plugin', name: 'a/app', actions: ['pull'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', resourceClass: undefined, name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository:host:5000/a/app:'), { type: 'repository', resourceClass: undefined, name: 'host:5000/a/app', actions: [] });
    for (const bad of ['repository', 'repository:a/app', ':a:pull', 'repository::pull', 'Repo$:a:pull']) {
      assert.throws(() => parseScope(bad), code('INVALID_SCOPE'), bad);
    }
  });
});

describe('RegistryTokens', () => {
  it('issues the requested scope intersected with what the authorizer allows, as a spec-shaped ES256 JWT', async () => {
    const signing = keys();
    const issued = await tokens(signing).issue(
      userPrincipal('alice'),
      [
        'repository:a/app:pull,push,delete',
        'repository:b/app:pull,push',
        'registry:catalog:*',
        'repository(plugin):a/x:*',
        'repository:a/app:pull',
        'foo:bar:baz repository:a/other:frobnicate',
      ],
      authorizer,
    );
    const expected = [
      { type: 'repository', name: 'a/app', actions: ['pull', 'push'] },
      // b is pullable by system:unauthenticated only: alice, logged in, is not in it.
      { type: 'registry', name: 'catalog', actions: ['*'] },
      { type: 'repository', name: 'a/x', actions: ['pull', 'push'] },
    ];
    assert.deepEqual(issued.access, expected);
    assert.equal(issued.expiresIn, 300);
    assert.equal(issued.issuedAt, new Date(Math.floor(now / 1000) * 1000).toISOString());

    // Checked with jose directly against the published JWKS, as a registry would.
    const header = decodeProtectedHeader(issued.token);
    assert.equal(header.alg, 'ES256');
    const jwks = await signing.jwks();
    assert.equal(jwks.keys.length, 1);
    assert.equal(header.kid, jwks.keys[0]?.kid);
    assert.equal(jwks.keys[0]?.d, undefined, 'no private part in the JWKS');
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(jwks), {
      issuer: 'https://berth.test/token',
      audience: 'berth.test',
      currentDate: new Date(now),
    });
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.iat, Math.floor(now / 1000));
    assert.equal(payload.nbf, payload.iat);
    assert.equal(payload.exp, (payload.iat ?? 0) + 300);
    assert.match(String(payload.jti), /^[0-9a-f-]{36}$/);
    assert.deepEqual(payload.access, expected);
  });

  it('normalises one-component names and grants anonymous only what system:unauthenticated may do', async () => {
    const issuer = tokens(keys());
    const anonymous = await issuer.issue(ANONYMOUS, ['repository:b/app:pull,push', 'repository:a/app:pull', 'registry:catalog:*'], authorizer);
    assert.deepEqual(anonymous.access, [
      { type: 'repository', name: 'b/app', actions: ['pull'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    assert.deepEqual(anonymous.refused, [
      { type: 'repository', name: 'b/app', actions: ['push'] },
      { type: 'repository', name: 'a/app', actions: ['pull'] },
    ], 'what was narrowed away is reported, for the denial log');
    const robot = await issuer.issue(serviceAccountPrincipal('a', 'ci'), ['repository:a/app:*'], authorizer);
    assert.deepEqual(robot.access, [{ type: 'repository', name: 'a/app', actions: ['pull', 'push', 'delete'] }]);
    const library = await issuer.issue(userPrincipal('alice'), ['repository:alpine:pull'], authorizer);
    assert.deepEqual(library.access, [], 'alpine is library/alpine, where alice has no role');
    assert.deepEqual(library.refused, [{ type: 'repository', name: 'library/alpine', actions: ['pull'] }]);
    const impossible = await issuer.issue(userPrincipal('alice'), ['repository:UPPER/case:pull', 'widget:x:pull', 'repository:a/app:fly'], authorizer);
    assert.deepEqual(impossible.access, [], 'an impossible repository name is granted nothing');
    assert.deepEqual(impossible.refused, [], 'ignored scopes (bad names, unknown types and actions) are not refusals');
  });

  it('verifies its tokens once and serves later checks from the cache until they expire', async () => {
    const issuer = tokens(keys());
    const { token } = await issuer.issue(serviceAccountPrincipal('a', 'ci'), ['repository:a/app:pull,push'], authorizer);
    const verified = await issuer.verify(token);
    assert.deepEqual(verified, {
      subject: 'system:serviceaccount:a:ci',
      kind: 'serviceaccount',
      access: [{ type: 'repository', name: 'a/app', actions: ['pull', 'push'] }],
      expiresAt: (Math.floor(now / 1000) + 300) * 1000,
    });
    assert.equal(await issuer.verify(token), verified, 'the same object: served from the cache');
    assert.ok(grants(verified, 'a/app', 'push'));
    assert.ok(!grants(verified, 'a/app', 'delete'));
    assert.ok(!grants(verified, 'a/other', 'pull'));

    const start = now;
    try {
      now += 299_000;
      assert.equal(await issuer.verify(token), verified);
      now += 1_000;
      await assert.rejects(issuer.verify(token), code('EXPIRED'), 'cached entries expire with the token');
      await assert.rejects(tokens(keys()).verify(token), code('EXPIRED'), 'and a fresh verifier agrees');
    } finally {
      now = start;
    }
  });

  it('refuses tampered, foreign, mis-addressed and malformed tokens', async () => {
    const signing = keys();
    const issuer = tokens(signing);
    const { token } = await issuer.issue(userPrincipal('alice'), ['repository:a/app:pull'], authorizer);
    const [header, payload, signature] = token.split('.');
    const forged = Buffer.from(payload ?? '', 'base64url').toString('utf8').replace('"pull"', '"push"');
    await assert.rejects(issuer.verify(`${header}.${Buffer.from(forged).toString('base64url')}.${signature}`), code('INVALID_TOKEN'));
    await assert.rejects(tokens(signing, { service: 'other.test' }).verify(token), code('INVALID_TOKEN'), 'wrong audience');
    await assert.rejects(tokens(signing, { issuer: 'https://evil.test' }).verify(token), code('INVALID_TOKEN'), 'wrong issuer');
    await assert.rejects(issuer.verify('not-a-jwt'), code('INVALID_TOKEN'));
    await assert.rejects(issuer.verify(''), code('INVALID_TOKEN'));

    // Signed by a key this registry does not have (another registry's store).
    const other = await openMetadata({ url: 'sqlite::memory:' });
    try {
      await other.migrate();
      const foreign = new RegistryTokens({
        keys: new SigningKeys({ store: other.signingKeys, box: new SecretBox(randomBytes(32)), clock }),
        issuer: 'https://berth.test/token',
        service: 'berth.test',
        clock,
      });
      const { token: foreignToken } = await foreign.issue(userPrincipal('alice'), ['repository:a/app:pull'], authorizer);
      await assert.rejects(issuer.verify(foreignToken), code('INVALID_TOKEN'));
    } finally {
      await other.close();
    }

    // Not yet valid (nbf in the future, e.g. a node with a fast clock).
    const start = now;
    now += 60_000;
    const { token: future } = await tokens(keys()).issue(userPrincipal('alice'), [], authorizer);
    now = start;
    await assert.rejects(tokens(keys()).verify(future), code('INVALID_TOKEN'));
  });

  it('keeps keys across restarts, rotates, publishes every active key, and refuses tokens of a retired key', async () => {
    const first = keys();
    const before = await tokens(first).issue(userPrincipal('alice'), ['repository:a/app:pull'], authorizer);
    const oldKid = decodeProtectedHeader(before.token).kid;

    // A restart (new instance, same store and master key): same signing key.
    const restarted = keys();
    const again = await tokens(restarted).issue(userPrincipal('alice'), [], authorizer);
    assert.equal(decodeProtectedHeader(again.token).kid, oldKid);
    assert.ok(await tokens(restarted).verify(before.token));

    const newKid = await restarted.rotate();
    assert.notEqual(newKid, oldKid);
    const issuer = tokens(restarted);
    const after = await issuer.issue(userPrincipal('alice'), ['repository:a/app:pull'], authorizer);
    assert.equal(decodeProtectedHeader(after.token).kid, newKid, 'the new key signs');
    assert.deepEqual((await restarted.jwks()).keys.map((k) => k.kid).slice(0, 2), [newKid, oldKid]);
    assert.ok(await issuer.verify(before.token), 'old tokens still verify after rotation');

    assert.equal(await restarted.retire(String(oldKid)), 'retired');
    assert.equal(await restarted.retire(String(oldKid)), 'unknown', 'a retired key is not retired again');
    assert.equal(await restarted.retire('no-such-kid'), 'unknown');
    await assert.rejects(issuer.verify(before.token), code('INVALID_TOKEN'), 'refused although it was cached');
    assert.ok(await issuer.verify(after.token));
    assert.ok(!(await restarted.jwks()).keys.some((k) => k.kid === oldKid));

    // Another node (its own instance, reloads on an unknown kid) verifies the new key's tokens.
    assert.ok(await tokens(keys()).verify(after.token));

    // The only active key is never retired: tokens could no longer be signed.
    const left = (await restarted.list()).map((k) => k.kid);
    for (const kid of left.slice(1)) assert.equal(await restarted.retire(kid), 'retired');
    assert.deepEqual((await restarted.list()).map((k) => k.kid), [newKid]);
    assert.equal(await restarted.retire(newKid), 'only-key');
    assert.ok(await issuer.verify(after.token), 'the refused retirement changed nothing');
    assert.deepEqual((await restarted.jwks()).keys.map((k) => k.kid), [newKid]);
  });

  it('refuses a key retired on another node within the reload interval, even for cached tokens, reloading in the background', async () => {
    const shared = await openMetadata({ url: 'sqlite::memory:' });
    try {
      await shared.migrate();
      let reads = 0;
      const counted: SigningKeyStore = {
        putKey: (key) => shared.signingKeys.putKey(key),
        listActiveKeys: () => {
          reads++;
          return shared.signingKeys.listActiveKeys();
        },
        retireKey: (kid, at) => shared.signingKeys.retireKey(kid, at),
      };
      const reloadIntervalMs = 30_000;
      const box = new SecretBox(masterKey);
      const nodeA = new SigningKeys({ store: shared.signingKeys, box, clock, reloadIntervalMs });
      const nodeB = new SigningKeys({ store: counted, box, clock, reloadIntervalMs });
      const oldToken = (await tokens(nodeA).issue(userPrincipal('alice'), ['repository:a/app:pull'], authorizer)).token;
      const oldKid = String(decodeProtectedHeader(oldToken).kid);
      await nodeA.rotate();
      const onB = tokens(nodeB);
      assert.ok(await onB.verify(oldToken), 'node B verifies (and caches) the token');
      const readsAfterFirstVerify = reads;

      assert.equal(await nodeA.retire(oldKid), 'retired');
      // Within the interval a cached token is a memory-only check on node B.
      now += reloadIntervalMs - 1;
      for (let i = 0; i < 20; i++) assert.ok(await onB.verify(oldToken));
      assert.equal(reads, readsAfterFirstVerify, 'no read of the key list while the set is fresh');

      // Past the interval, the next checks start one background reload and do not wait for it.
      now += 1;
      const answers = await Promise.all(Array.from({ length: 20 }, () => onB.verify(oldToken).then(() => 'ok', () => 'refused')));
      assert.equal(reads, readsAfterFirstVerify + 1, 'one reload in flight, however many requests');
      assert.ok(answers.includes('ok'), 'requests do not wait for the reload');

      let refused = false;
      for (let turn = 0; turn < 1000 && !refused; turn++) {
        await new Promise((resolve) => setImmediate(resolve));
        refused = await onB.verify(oldToken).then(() => false, (error: unknown) => code('INVALID_TOKEN')(error));
      }
      assert.ok(refused, 'node B refuses the retired key once the background reload lands');
    } finally {
      await shared.close();
    }
  });

  it('cannot sign with the wrong master key, and says so with a typed error', async () => {
    await keys().signingKey();
    await assert.rejects(keys(randomBytes(32)).signingKey(), (error: unknown) => error instanceof SecretBoxError && error.code === 'TAMPERED');
  });
});
