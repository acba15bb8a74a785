import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openMetadata } from '../metadata/open-metadata.ts';
import type { Metadata } from '../metadata/stores.ts';
import { LocalIdentityProvider } from './local-identity-provider.ts';
import { hashPassword } from './passwords.ts';

describe('LocalIdentityProvider', () => {
  let metadata: Metadata;
  let provider: LocalIdentityProvider;

  before(async () => {
    metadata = await openMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    const hash = await hashPassword('s3cret', 4);
    await metadata.users.createUser({ name: 'alice', passwordHash: hash, createdAt: 0, disabled: false });
    await metadata.users.createUser({ name: 'bob', passwordHash: hash, createdAt: 0, disabled: true });
    await metadata.users.createUser({ name: 'oidc-user', passwordHash: null, createdAt: 0, disabled: false });
    provider = new LocalIdentityProvider({ users: metadata.users });
  });
  after(async () => {
    await metadata.close();
  });

  it('is a password provider named local', () => {
    assert.equal(provider.kind, 'password');
    assert.equal(provider.name, 'local');
  });

  it('vouches for a user with the right password', async () => {
    assert.deepEqual(await provider.authenticate('alice', 's3cret'), { userName: 'alice' });
  });

  it('refuses a wrong password, a disabled user, a user without a password and an unknown user', async () => {
    assert.equal(await provider.authenticate('alice', 'nope'), undefined);
    assert.equal(await provider.authenticate('bob', 's3cret'), undefined);
    assert.equal(await provider.authenticate('oidc-user', ''), undefined);
    assert.equal(await provider.authenticate('nobody', 's3cret'), undefined);
    assert.equal(await provider.authenticate('', ''), undefined);
  });
});
