import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { openMetadata } from '../metadata/open-metadata.ts';
import type { Metadata } from '../metadata/stores.ts';
import { OAuthError, OAuthTokenService } from './oauth-token-service.ts';
import { hashSecret } from './secret-tokens.ts';

function isGrantError(error: unknown): boolean {
  return error instanceof OAuthError && error.code === 'invalid_grant';
}

describe('OAuthTokenService', () => {
  let metadata: Metadata;
  let now = 1_700_000_000_000;
  let service: OAuthTokenService;

  before(async () => {
    metadata = await openMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    for (const name of ['alice', 'bob']) {
      await metadata.users.createUser({ name, passwordHash: null, createdAt: now, disabled: false });
    }
  });
  after(async () => {
    await metadata.close();
  });
  beforeEach(() => {
    service = new OAuthTokenService({ metadata, clock: () => now, accessTokenSeconds: 3600, refreshTokenSeconds: 7200 });
  });

  it('issues an access and a refresh token, stored hashed in one family', async () => {
    const issued = await service.issue('alice', 'berth-cli', ['user:full', 'user:full', '']);
    assert.match(issued.accessToken, /^berth_at_[A-Za-z0-9_-]{43}$/);
    assert.match(issued.refreshToken, /^berth_rt_[A-Za-z0-9_-]{43}$/);
    assert.equal(issued.tokenType, 'Bearer');
    assert.equal(issued.expiresIn, 3600);
    assert.equal(issued.scope, 'user:full');
    const access = await metadata.oauthTokens.findTokenByHash(hashSecret(issued.accessToken));
    const refresh = await metadata.oauthTokens.findTokenByHash(hashSecret(issued.refreshToken));
    assert.ok(access !== undefined && refresh !== undefined);
    assert.equal(access.kind, 'access');
    assert.equal(refresh.kind, 'refresh');
    assert.equal(access.family, refresh.family);
    assert.equal(access.family, issued.family);
    assert.equal(access.expiresAt, now + 3600_000);
    assert.equal(refresh.expiresAt, now + 7200_000);
    assert.equal(access.userName, 'alice');
    assert.equal(access.clientId, 'berth-cli');
  });

  it('rotates refresh tokens within the family', async () => {
    const first = await service.issue('alice', 'berth-cli', 'a b');
    now += 1000;
    const second = await service.refresh(first.refreshToken, 'berth-cli');
    assert.notEqual(second.refreshToken, first.refreshToken);
    assert.notEqual(second.accessToken, first.accessToken);
    assert.equal(second.family, first.family);
    assert.equal(second.scope, 'a b');
    const old = await metadata.oauthTokens.findTokenByHash(hashSecret(first.refreshToken));
    assert.equal(old?.revokedAt, now);
    const fresh = await metadata.oauthTokens.findTokenByHash(hashSecret(second.refreshToken));
    assert.equal(fresh?.revokedAt, null);
    // The first access token stays valid until it expires (only reuse kills it).
    assert.equal((await metadata.oauthTokens.findTokenByHash(hashSecret(first.accessToken)))?.revokedAt, null);
  });

  it('treats a rotated refresh token presented again as reuse and revokes the whole family', async () => {
    const first = await service.issue('alice', 'berth-cli', '');
    const second = await service.refresh(first.refreshToken, 'berth-cli');
    await assert.rejects(service.refresh(first.refreshToken, 'berth-cli'), isGrantError);
    for (const token of [first.accessToken, second.accessToken, second.refreshToken]) {
      assert.notEqual((await metadata.oauthTokens.findTokenByHash(hashSecret(token)))?.revokedAt, null, token.slice(0, 9));
    }
    await assert.rejects(service.refresh(second.refreshToken, 'berth-cli'), isGrantError);
  });

  it('lets exactly one of two concurrent refreshes of one token win', async () => {
    const first = await service.issue('alice', 'berth-cli', '');
    const results = await Promise.allSettled([service.refresh(first.refreshToken, 'berth-cli'), service.refresh(first.refreshToken, 'berth-cli')]);
    assert.equal(results.filter((r) => r.status === 'rejected').length >= 1, true);
    const won = results.find((r) => r.status === 'fulfilled');
    // Whoever won, reuse revoked the family, so the winner's tokens are dead too.
    if (won !== undefined) await assert.rejects(service.refresh(won.value.refreshToken, 'berth-cli'), isGrantError);
  });

  it('refuses a refresh token from another client, an access token and garbage', async () => {
    const issued = await service.issue('alice', 'berth-cli', '');
    await assert.rejects(service.refresh(issued.refreshToken, 'berth-console'), isGrantError);
    await assert.rejects(service.refresh(issued.accessToken, 'berth-cli'), isGrantError);
    await assert.rejects(service.refresh('berth_rt_nope', 'berth-cli'), isGrantError);
    await assert.rejects(service.refresh('', 'berth-cli'), isGrantError);
    // A wrong client is not reuse: the right client can still refresh.
    await service.refresh(issued.refreshToken, 'berth-cli');
  });

  it('refuses an expired refresh token and one of a disabled user', async () => {
    const issued = await service.issue('alice', 'berth-cli', '');
    now += 7200_000;
    await assert.rejects(service.refresh(issued.refreshToken, 'berth-cli'), isGrantError);
    const bobs = await service.issue('bob', 'berth-cli', '');
    await metadata.users.setDisabled('bob', true);
    try {
      await assert.rejects(service.refresh(bobs.refreshToken, 'berth-cli'), isGrantError);
    } finally {
      await metadata.users.setDisabled('bob', false);
    }
  });

  it('revokes an access token alone, a refresh token with its family, and ignores unknown tokens', async () => {
    const a = await service.issue('alice', 'berth-cli', '');
    assert.equal(await service.revoke(a.accessToken), true);
    assert.notEqual((await metadata.oauthTokens.findTokenByHash(hashSecret(a.accessToken)))?.revokedAt, null);
    assert.equal((await metadata.oauthTokens.findTokenByHash(hashSecret(a.refreshToken)))?.revokedAt, null);
    assert.equal(await service.revoke(a.accessToken), false);

    const b = await service.issue('alice', 'berth-cli', '');
    assert.equal(await service.revoke(b.refreshToken), true);
    assert.notEqual((await metadata.oauthTokens.findTokenByHash(hashSecret(b.accessToken)))?.revokedAt, null);
    await assert.rejects(service.refresh(b.refreshToken, 'berth-cli'), isGrantError);

    assert.equal(await service.revoke('berth_at_unknown'), false);
    assert.equal(await service.revoke('not a token'), false);
  });

  it('revokes every token of a user and no one else', async () => {
    const a1 = await service.issue('alice', 'berth-cli', '');
    const a2 = await service.issueAccessToken('alice', 'berth-cli', '');
    const b = await service.issue('bob', 'berth-cli', '');
    assert.ok((await service.revokeAllForUser('alice')) >= 3);
    for (const token of [a1.accessToken, a1.refreshToken, a2.accessToken]) {
      assert.notEqual((await metadata.oauthTokens.findTokenByHash(hashSecret(token)))?.revokedAt, null);
    }
    assert.equal((await metadata.oauthTokens.findTokenByHash(hashSecret(b.accessToken)))?.revokedAt, null);
  });

  it('issues a lone access token for the token request page', async () => {
    const issued = await service.issueAccessToken('alice', 'berth-cli', '');
    assert.match(issued.accessToken, /^berth_at_/);
    assert.equal(issued.expiresAt, now + 3600_000);
    assert.equal((await metadata.oauthTokens.findTokenByHash(hashSecret(issued.accessToken)))?.kind, 'access');
  });

  it('sweeps expired tokens only', async () => {
    const old = await service.issue('alice', 'berth-cli', '');
    now += 3600_000 + 1;
    const fresh = await service.issue('alice', 'berth-cli', '');
    assert.ok((await service.sweepExpired()) >= 1);
    assert.equal(await metadata.oauthTokens.findTokenByHash(hashSecret(old.accessToken)), undefined);
    assert.notEqual(await metadata.oauthTokens.findTokenByHash(hashSecret(old.refreshToken)), undefined);
    assert.notEqual(await metadata.oauthTokens.findTokenByHash(hashSecret(fresh.accessToken)), undefined);
  });
});
