import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { SecretBox } from '../identity/secret-box.ts';
import { openKyselyMetadata } from '../metadata/open-metadata.ts';
import type { KyselyMetadata } from '../metadata/open-metadata.ts';
import { normalizeRegistryHost, parseAuthJson, PullSecretError, PullSecretService } from './pull-secrets.ts';

function b64(text: string): string {
  return Buffer.from(text).toString('base64');
}

function authJson(auths: Record<string, unknown>): string {
  return JSON.stringify({ auths });
}

function assertInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof PullSecretError, String(error));
    assert.equal(error.code, 'INVALID');
    assert.match(error.message, pattern);
    return true;
  });
}

describe('parseAuthJson', () => {
  it('reads auth (base64 user:pass) and username/password entries, normalising hosts', () => {
    const parsed = parseAuthJson(
      authJson({
        'https://index.docker.io/v1/': { auth: b64('hubuser:hub:pass') },
        'Quay.IO': { username: 'q', password: 'qp' },
        'localhost:5000': { auth: b64('l:lp'), email: 'ignored@example.com' },
        'http://10.0.0.1:5000/v2/': { auth: b64('ip:ipp') },
      }),
    );
    assert.deepEqual(Object.fromEntries(parsed), {
      'docker.io': { username: 'hubuser', password: 'hub:pass' },
      'quay.io': { username: 'q', password: 'qp' },
      'localhost:5000': { username: 'l', password: 'lp' },
      '10.0.0.1:5000': { username: 'ip', password: 'ipp' },
    });
  });

  it('refuses bad documents with a message naming the problem and never the password', () => {
    assertInvalid(() => parseAuthJson('{"auths": {"quay.io": {"auth": "c2VjcmV0'), /not valid JSON/);
    assertInvalid(() => parseAuthJson('[]'), /must be a JSON object/);
    assertInvalid(() => parseAuthJson('{"credsStore":"desktop"}'), /no "auths" object/);
    assertInvalid(() => parseAuthJson(authJson({})), /"auths" is empty/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io': { auth: '***' } })), /auths\["quay.io"\]\.auth must be base64/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io': { auth: b64('no-colon-s3cret') } })), /does not decode to "username:password"/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io': { username: 'u' } })), /neither "auth" nor "username" and "password"/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io': { identitytoken: 'tok' } })), /identity\/registry token/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io': 'x' })), /must be an object/);
    assertInvalid(() => parseAuthJson(authJson({ 'not a host!': { auth: b64('u:p') } })), /is not a registry host/);
    assertInvalid(() => parseAuthJson(authJson({ 'quay.io/org/app': { auth: b64('u:p') } })), /per-repository entries are not supported/);
    assertInvalid(
      () => parseAuthJson(authJson({ 'docker.io': { auth: b64('a:1') }, 'https://index.docker.io/v1/': { auth: b64('b:2') } })),
      /same registry "docker.io"/,
    );
    try {
      parseAuthJson(authJson({ 'quay.io': { auth: b64('no-colon-s3cret') } }));
    } catch (error) {
      assert.doesNotMatch(String(error), /s3cret/);
    }
  });

  it('normalises hosts: lower case, Docker Hub aliases fold into docker.io', () => {
    assert.equal(normalizeRegistryHost('Registry-1.Docker.IO'), 'docker.io');
    assert.equal(normalizeRegistryHost('index.docker.io'), 'docker.io');
    assert.equal(normalizeRegistryHost('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(normalizeRegistryHost('[::1]:5000'), '[::1]:5000');
    assert.equal(normalizeRegistryHost('https://quay.io'), undefined);
  });
});

describe('PullSecretService', () => {
  let metadata: KyselyMetadata;
  let service: PullSecretService;
  let box: SecretBox;
  const hub = authJson({ 'https://index.docker.io/v1/': { auth: b64('hubuser:hub-Pa55word') }, 'quay.io': { username: 'q', password: 'quay-Pa55word' } });

  beforeEach(async () => {
    metadata = await openKyselyMetadata({ url: 'sqlite::memory:' });
    await metadata.migrate();
    box = new SecretBox(randomBytes(32));
    service = new PullSecretService({ metadata, secretBox: box, clock: () => 1234 });
  });

  afterEach(async () => {
    await metadata.close();
  });

  it('creates, lists and gets secrets without ever returning their credentials', async () => {
    const created = await service.create('p', 'hub', hub);
    const view = { project: 'p', name: 'hub', type: 'kubernetes.io/dockerconfigjson', registries: ['docker.io', 'quay.io'], createdAt: 1234 };
    assert.deepEqual(created, view);
    assert.deepEqual(await service.get('p', 'hub'), view);
    assert.deepEqual(await service.list('p'), [view]);
    assert.deepEqual(await service.list('other'), []);
    for (const shown of [created, await service.get('p', 'hub'), await service.list('p')]) {
      const text = JSON.stringify(shown);
      assert.doesNotMatch(text, /Pa55word|hubuser|sealed|v1\./);
    }
  });

  it('stores the auth.json sealed: the raw table holds no password, and a row copied to another name does not open', async () => {
    await service.create('p', 'hub', hub);
    const rows = await metadata.db.selectFrom('pull_secrets').selectAll().execute();
    assert.equal(rows.length, 1);
    const raw = JSON.stringify(rows);
    assert.doesNotMatch(raw, /Pa55word/);
    assert.ok(!raw.includes(b64('hubuser:hub-Pa55word')), 'not even base64-encoded');
    assert.match(rows[0]?.sealed ?? '', /^v1\./);
    // Moved to another project's row, the sealed value is refused (context-bound) and yields no credentials.
    await metadata.db.insertInto('pull_secrets').values({ ...rows[0]!, project: 'q' }).execute();
    assert.equal(await service.credentialsFor('q', 'docker.io'), undefined);
  });

  it('credentialsFor matches the host exactly, with Docker Hub aliases, first secret by name wins', async () => {
    await service.create('p', 'b-second', authJson({ 'quay.io': { auth: b64('other:other') } }));
    await service.create('p', 'a-first', hub);
    assert.deepEqual(await service.credentialsFor('p', 'docker.io'), { username: 'hubuser', password: 'hub-Pa55word' });
    assert.deepEqual(await service.credentialsFor('p', 'registry-1.docker.io'), { username: 'hubuser', password: 'hub-Pa55word' });
    assert.deepEqual(await service.credentialsFor('p', 'QUAY.io'), { username: 'q', password: 'quay-Pa55word' });
    assert.equal(await service.credentialsFor('p', 'quay.io:443'), undefined, 'another port is another host');
    assert.equal(await service.credentialsFor('p', 'evilquay.io'), undefined);
    assert.equal(await service.credentialsFor('p', 'ghcr.io'), undefined);
    assert.equal(await service.credentialsFor('q', 'docker.io'), undefined, 'other projects see nothing');
  });

  it('refuses a bad name, a bad document, a duplicate; get and delete of a missing secret are NotFound', async () => {
    await assert.rejects(service.create('p', 'Bad_Name', hub), (e: unknown) => e instanceof PullSecretError && e.code === 'INVALID' && /invalid secret name/.test(e.message));
    await assert.rejects(service.create('p', 'hub', '{"auths":{}}'), (e: unknown) => e instanceof PullSecretError && e.code === 'INVALID' && e.status === 422);
    await service.create('p', 'hub', hub);
    await assert.rejects(service.create('p', 'hub', hub), (e: unknown) => e instanceof PullSecretError && e.code === 'ALREADY_EXISTS' && e.status === 409);
    await service.delete('p', 'hub');
    await assert.rejects(service.get('p', 'hub'), (e: unknown) => e instanceof PullSecretError && e.code === 'NOT_FOUND');
    await assert.rejects(service.delete('p', 'hub'), (e: unknown) => e instanceof PullSecretError && e.code === 'NOT_FOUND');
    assert.equal(await service.credentialsFor('p', 'docker.io'), undefined);
  });

  it('deleting the project deletes its secrets', async () => {
    await metadata.projects.ensureProject({ name: 'p', createdAt: 1, createdBy: 'alice', displayName: null });
    await service.create('p', 'hub', hub);
    await metadata.projects.deleteProject('p');
    assert.deepEqual(await service.list('p'), []);
    assert.equal(await service.credentialsFor('p', 'docker.io'), undefined);
  });
});
