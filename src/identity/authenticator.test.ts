import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { AccessService } from '../authz/access-service.ts';
import { ANONYMOUS } from '../authz/authorizer.ts';
import { userPrincipal } from '../authz/principals.ts';
import { RbacAuthorizer } from '../authz/rbac-authorizer.ts';
import { openMetadata } from '../metadata/open-metadata.ts';
import type { Metadata } from '../metadata/stores.ts';
import { AuthenticationError, type AuthenticationFailure, Authenticator } from './authenticator.ts';
import { IdentityProviderError, type IdentityClaims, type PasswordIdentityProvider } from './identity-provider.ts';
import { LocalIdentityProvider } from './local-identity-provider.ts';
import { LoginRateLimiter } from './login-rate-limiter.ts';
import { PasswordProviderChain } from './password-providers.ts';
import { OAuthTokenService } from './oauth-token-service.ts';
import { RegistryTokens } from './registry-tokens.ts';
import { SecretBox } from './secret-box.ts';
import { SigningKeys } from './signing-keys.ts';

let metadata: Metadata;
let now = Date.UTC(2026, 4, 1);
const clock = () => now;
let access: AccessService;
let oauth: OAuthTokenService;
let registryTokens: RegistryTokens;
let authorizer: RbacAuthorizer;

const PASSWORD = 'alice-unit-Secret-1';

before(async () => {
  metadata = await openMetadata({ url: 'sqlite::memory:' });
  await metadata.migrate();
  authorizer = new RbacAuthorizer({ bindings: metadata.roleBindings, selfProvisioning: true, clock });
  access = new AccessService({ metadata, authorizer, clock, selfProvisioning: true });
  await access.createUser('alice', PASSWORD);
  await access.createProject('team', userPrincipal('alice'));
  await access.createServiceAccount('team', 'ci');
  // One hour for access tokens, so that the tests can step the clock past it.
  oauth = new OAuthTokenService({ metadata, clock, accessTokenSeconds: 3600 });
  const keys = new SigningKeys({ store: metadata.signingKeys, box: new SecretBox(randomBytes(32)), clock });
  registryTokens = new RegistryTokens({ keys, issuer: 'berth-token-service', service: 'berth', lifetimeSeconds: 300, clock });
});
after(() => metadata.close());

function authenticator(maxFailures = 10, providers?: PasswordProviderChain): Authenticator {
  return new Authenticator({ metadata, tokens: registryTokens, limiter: new LoginRateLimiter({ maxFailures, windowMs: 60_000, clock }), clock, providers });
}

/** A directory as a password provider sees it: a test double of the provider contract, like an LDAP bind would answer. */
class DirectoryProvider implements PasswordIdentityProvider {
  readonly kind = 'password';
  readonly displayName = 'Directory';
  readonly name: string;
  readonly asked: string[] = [];
  down = false;
  readonly #users: ReadonlyMap<string, { password: string; claims: IdentityClaims }>;
  constructor(name: string, users: Record<string, { password: string; userName?: string }>) {
    this.name = name;
    this.#users = new Map(Object.entries(users).map(([login, u]) => [login, { password: u.password, claims: { userName: u.userName ?? login } }]));
  }
  async authenticate(username: string, password: string): Promise<IdentityClaims | undefined> {
    this.asked.push(username);
    if (this.down) throw new IdentityProviderError(this.name, 'directory unreachable');
    const user = this.#users.get(username);
    return user !== undefined && user.password === password ? user.claims : undefined;
  }
}

function basic(user: string, secret: string): string {
  return `Basic ${Buffer.from(`${user}:${secret}`).toString('base64')}`;
}

function failure(expected: AuthenticationFailure, user?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof AuthenticationError, `expected AuthenticationError, got ${String(error)}`);
    assert.equal(error.reason, expected, error.message);
    if (user !== undefined) assert.equal(error.user, user, 'the error names who tried (for the denial log)');
    return true;
  };
}

describe('OAuth access tokens', () => {
  it('are accepted until they expire and refused after, as Bearer, as Basic and at the token endpoint', async () => {
    const auth = authenticator();
    const issued = await oauth.issue('alice', 'berth-cli', []);
    for (const present of [() => auth.fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.1'), () => auth.fromHeader(basic('alice', issued.accessToken), '10.0.0.1'), () => auth.checkCredentials('whoever', issued.accessToken, '10.0.0.1')]) {
      const ok = await present();
      assert.equal(ok.method, 'access-token');
      assert.equal(ok.principal.name, 'alice');
    }
    const start = now;
    try {
      now = start + 3600 * 1000 - 1;
      assert.equal((await auth.fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.1')).principal.name, 'alice', 'still valid one millisecond before expiry');
      now = start + 3600 * 1000;
      await assert.rejects(auth.fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.1'), failure('expired-token', 'alice'));
      await assert.rejects(auth.fromHeader(basic('alice', issued.accessToken), '10.0.0.1'), failure('expired-token', 'alice'));
      await assert.rejects(auth.checkCredentials('alice', issued.accessToken, '10.0.0.1'), failure('expired-token', 'alice'));
      // A fresh authenticator (another replica, or after a restart) refuses it too: nothing is cached as valid.
      await assert.rejects(authenticator().fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.1'), failure('expired-token'));
    } finally {
      now = start;
    }
  });

  it('are refused once revoked, and a refresh token is no credential', async () => {
    const auth = authenticator();
    const issued = await oauth.issue('alice', 'berth-cli', []);
    assert.equal((await auth.fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.2')).principal.name, 'alice');
    assert.equal(await oauth.revoke(issued.accessToken), true);
    await assert.rejects(auth.fromHeader(`Bearer ${issued.accessToken}`, '10.0.0.2'), failure('invalid-token', 'alice'));
    await assert.rejects(auth.checkCredentials('alice', issued.refreshToken, '10.0.0.2'), failure('invalid-credentials'));
    await assert.rejects(auth.fromHeader('Bearer berth_at_unknown', '10.0.0.2'), failure('invalid-token'));
  });
});

describe('service-account tokens', () => {
  it('expire, and are refused after revocation, naming the account', async () => {
    const auth = authenticator();
    const { token, secret } = await access.createToken('team', 'ci', 60);
    assert.equal((await auth.checkCredentials('', secret, '10.0.0.3')).principal.name, 'system:serviceaccount:team:ci');
    const start = now;
    try {
      now = start + 60_000;
      await assert.rejects(auth.checkCredentials('', secret, '10.0.0.3'), failure('expired-token', 'system:serviceaccount:team:ci'));
    } finally {
      now = start;
    }
    await access.revokeToken('team', 'ci', token.id);
    await assert.rejects(auth.fromHeader(`Bearer ${secret}`, '10.0.0.3'), failure('invalid-token', 'system:serviceaccount:team:ci'));
  });
});

describe('registry tokens', () => {
  it('are refused once expired, although verified (and cached) before', async () => {
    const auth = authenticator();
    const issued = await registryTokens.issue(userPrincipal('alice'), ['repository:team/app:pull'], authorizer);
    const ok = await auth.fromHeader(`Bearer ${issued.token}`, '10.0.0.4');
    assert.equal(ok.method, 'registry-token');
    const start = now;
    try {
      now = start + 300 * 1000;
      await assert.rejects(auth.fromHeader(`Bearer ${issued.token}`, '10.0.0.4'), failure('expired-token'));
    } finally {
      now = start;
    }
  });
});

describe('passwords', () => {
  it('a wrong password names the user tried; no credentials is anonymous', async () => {
    const auth = authenticator();
    assert.equal((await auth.fromHeader(undefined, '10.0.0.5')).principal, ANONYMOUS);
    assert.equal((await auth.fromHeader(basic('alice', PASSWORD), '10.0.0.5')).method, 'password');
    await assert.rejects(auth.fromHeader(basic('alice', 'wrong'), '10.0.0.5'), failure('invalid-credentials', 'alice'));
    await assert.rejects(auth.fromHeader(basic('nobody', 'wrong'), '10.0.0.5'), failure('invalid-credentials', 'nobody'));
    await assert.rejects(auth.fromHeader('Basic bm8tY29sb24=', '10.0.0.5'), failure('malformed'));
  });

  it('failures for many users from one address lock that address, the right password included', async () => {
    const auth = authenticator(3);
    for (let i = 0; i < 3; i++) await assert.rejects(auth.checkCredentials(`guess${i}`, 'wrong', '10.0.0.6'), failure('invalid-credentials'));
    await assert.rejects(auth.checkCredentials('alice', PASSWORD, '10.0.0.6'), failure('rate-limited', 'alice'));
    assert.equal((await auth.checkCredentials('alice', PASSWORD, '10.0.0.7')).principal.name, 'alice', 'another address is not locked');
    const start = now;
    try {
      now = start + 60_000;
      assert.equal((await auth.checkCredentials('alice', PASSWORD, '10.0.0.6')).principal.name, 'alice', 'the window ends');
    } finally {
      now = start;
    }
  });
});

describe('password identity providers', () => {
  it('Basic credentials go through the provider chain, the local users table first', async () => {
    const directory = new DirectoryProvider('corp', { carol: { password: 'carol-directory-pw' }, alice: { password: 'alice-directory-pw' }, 'd.smith': { password: 'dave-pw', userName: 'dave' } });
    const auth = authenticator(10, new PasswordProviderChain([new LocalIdentityProvider({ users: metadata.users }), directory]));
    const carol = await auth.fromHeader(basic('carol', 'carol-directory-pw'), '10.1.0.1');
    assert.equal(carol.method, 'password');
    assert.equal(carol.principal.name, 'carol', 'a user only the directory knows logs in (podman login with a directory password)');
    assert.ok(carol.principal.groups.includes('system:authenticated'));
    assert.equal((await auth.checkCredentials('d.smith', 'dave-pw', '10.1.0.1')).principal.name, 'dave', 'the provider maps its login to the Berth user name');

    directory.asked.length = 0;
    assert.equal((await auth.checkCredentials('alice', PASSWORD, '10.1.0.1')).principal.name, 'alice');
    assert.deepEqual(directory.asked, [], 'the local provider vouched first: the directory was not asked');
    assert.equal((await auth.checkCredentials('alice', 'alice-directory-pw', '10.1.0.1')).principal.name, 'alice', 'then the next provider is asked');
    await assert.rejects(auth.checkCredentials('carol', 'wrong', '10.1.0.1'), failure('invalid-credentials', 'carol'));
  });

  it('a disabled local user stays out whichever provider vouches', async () => {
    await access.createUser('erin', 'erin-local-Secret-1');
    await access.setDisabled('erin', true);
    const directory = new DirectoryProvider('corp', { erin: { password: 'erin-directory-pw' } });
    const auth = authenticator(10, new PasswordProviderChain([new LocalIdentityProvider({ users: metadata.users }), directory]));
    await assert.rejects(auth.checkCredentials('erin', 'erin-directory-pw', '10.1.0.2'), failure('invalid-credentials', 'erin'));
  });

  it('a provider that cannot answer makes the login unavailable, not failed: it is not counted by the rate limiter', async () => {
    const directory = new DirectoryProvider('corp', { carol: { password: 'carol-directory-pw' } });
    directory.down = true;
    const auth = authenticator(2, new PasswordProviderChain([new LocalIdentityProvider({ users: metadata.users }), directory]));
    for (let i = 0; i < 3; i++) await assert.rejects(auth.checkCredentials('carol', 'carol-directory-pw', '10.1.0.3'), failure('unavailable', 'carol'));
    assert.equal((await auth.checkCredentials('alice', PASSWORD, '10.1.0.3')).principal.name, 'alice', 'the local provider still answers, and the address is not locked');
    directory.down = false;
    assert.equal((await auth.checkCredentials('carol', 'carol-directory-pw', '10.1.0.3')).principal.name, 'carol');
  });
});
