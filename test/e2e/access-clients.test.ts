/**
 * Access control as real clients meet it, over TLS trusting only the CA the
 * server generated: podman login + push + pull, skopeo with
 * `--dest-creds`/`--src-creds` (a password, an OAuth access token, a
 * service-account token), anonymous pull failing and then succeeding once
 * `system:unauthenticated` is bound to registry-viewer (skopeo --no-creds,
 * curl, undici), and the refusals: an expired and a revoked service-account
 * token, a tampered registry token, a wrong password, and the rate limit
 * after repeated failures.
 *
 * Order matters: failed logins are counted per user and per client address
 * (everything here comes from 127.0.0.1), so the tests that fail logins on
 * purpose come last, and the rate-limit test, which locks the address out
 * for the rest of the window, is the very last.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../support/berth-server.ts';
import type { BerthServer } from '../support/berth-server.ts';
import { AccessAdmin, ANONYMOUS_AUTH, basicAuth, HttpClient, jwtPayload, unsigned, withFlippedSignature, withPayload } from '../support/access-api.ts';
import type { Auth, StatusBody } from '../support/access-api.ts';
import { createClients, run } from '../support/container-clients.ts';
import type { ContainerClients, RunResult } from '../support/container-clients.ts';
import { createImageLayout, MEDIA_TYPES, readLayoutTag } from '../support/oci-images.ts';
import type { BuiltLayout } from '../support/oci-images.ts';
import { describeResponse } from '../support/registry-http.ts';

const EDITOR = { username: 'editor', password: 'editor-e2e-Secret-1' } as const;
const VIEWER = { username: 'viewer', password: 'viewer-e2e-Secret-1' } as const;

function assertFailed(result: RunResult, pattern: RegExp, what: string): void {
  assert.notEqual(result.code, 0, `${what} must fail: ${result.command}\n${result.stdout}\n${result.stderr}`);
  assert.match(result.stderr, pattern, `${what}: ${result.command}\n${result.stderr}`);
}

/** What skopeo/podman print when the registry refuses the credentials or the access. */
const REFUSED = /unauthorized|authentication required|401|denied|403|invalid username\/password/i;

describe('access control with real clients (TLS)', { concurrency: false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let work: string;
  let tools: ContainerClients;
  let http: HttpClient;
  let admin: AccessAdmin;
  let layout: BuiltLayout;
  let host: string;
  let caPath: string;
  let saToken = '';

  const copy = (src: string, dest: string, extra: string[], allowFailure = false): Promise<RunResult> =>
    tools.skopeoCopy(src, dest, extra, { allowFailure, timeoutMs: 120_000 });
  const inspect = (ref: string, extra: string[], allowFailure = false): Promise<RunResult> =>
    tools.skopeoInspect(`docker://${ref}`, ['--raw', '--retry-times', '0', ...extra], { allowFailure, timeoutMs: 60_000 });
  /** The status curl gets, with no credentials. */
  const curlStatus = async (path: string, headers: string[] = [], method = 'GET'): Promise<string> => {
    const result = await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', method, '--cacert', caPath, ...headers.flatMap((h) => ['-H', h]), `${server.url}${path}`]);
    return result.stdout.trim();
  };

  before(async () => {
    work = join(tmpdir(), `berth-e2e-access-clients-${randomBytes(6).toString('hex')}`);
    await mkdir(work);
    server = await startBerth();
    assert.ok(server.url.startsWith('https://'), `TLS expected, got ${server.url}`);
    assert.ok(server.caPath, 'the server reported its CA certificate');
    assert.ok(server.credentials);
    caPath = server.caPath;
    host = server.hostPort;
    // No credentials: every command says who it is (or nobody) itself.
    tools = await createClients({ workDir: join(work, 'clients'), caPath });
    http = await HttpClient.create(server.url, caPath);
    admin = new AccessAdmin(http, basicAuth(server.credentials));
    await admin.createUser(EDITOR.username, EDITOR.password);
    await admin.createUser(VIEWER.username, VIEWER.password);
    await admin.createProject('team');
    await admin.bind('team', 'registry-editor', { kind: 'User', name: EDITOR.username });
    await admin.bind('team', 'registry-viewer', { kind: 'User', name: VIEWER.username });
    await admin.createServiceAccount('team', 'ci');
    await admin.bind('team', 'registry-editor', { kind: 'ServiceAccount', name: 'ci' });
    saToken = (await admin.createToken('team', 'ci')).token;
    layout = await createImageLayout(join(work, 'layout'), 'v1', {
      layers: [{ size: 256 * 1024, seed: 'access-clients-base', files: 2 }, { size: 32 * 1024, seed: 'access-clients-app' }],
      labels: { 'org.opencontainers.image.title': 'berth-access-e2e' },
      cmd: ['run'],
    });
    const adminCreds = `${server.credentials.username}:${server.credentials.password}`;
    await copy(layout.ref, `docker://${host}/team/app:1`, ['--dest-creds', adminCreds, '--preserve-digests']);
  });

  after(async () => {
    await http?.close();
    await tools?.cleanup();
    await server?.stop();
    if (work) await rm(work, { recursive: true, force: true });
  });

  test('podman login, push and pull as a registry-editor', async () => {
    const authFile = join(work, 'podman-auth.json');
    const env = { REGISTRY_AUTH_FILE: authFile };
    const login = await tools.podman('login', ['login', '--tls-verify', '--cert-dir', tools.certDir ?? '', '-u', EDITOR.username, '-p', EDITOR.password, host], { env });
    assert.match(login.stdout + login.stderr, /Login Succeeded/i, login.stdout + login.stderr);
    const saved = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(saved.auths[host]?.auth ?? '', 'base64').toString('utf8'), `${EDITOR.username}:${EDITOR.password}`, 'podman saved the login');

    await tools.podman('push-store', ['pull', layout.ref], { env });
    const id = (await tools.podman('push-store', ['images', '--quiet', '--no-trunc'], { env })).stdout.trim().split('\n')[0];
    assert.ok(id, 'podman stored the image');
    const remote = `${host}/team/podman-app:1`;
    await tools.podman('push-store', ['push', ...tools.tlsArgs(), id, `docker://${remote}`], { env });
    const pushed = await http.request('GET', '/v2/team/podman-app/manifests/1', {
      auth: basicAuth(EDITOR),
      headers: { accept: `${MEDIA_TYPES.ociManifest}, ${MEDIA_TYPES.dockerManifest}` },
    });
    assert.equal(pushed.status, 200, describeResponse(pushed));

    await tools.podman('pull-store', ['pull', ...tools.tlsArgs(), remote], { env });
    const inspected = JSON.parse((await tools.podman('pull-store', ['image', 'inspect', remote], { env })).stdout) as Array<{ Labels?: Record<string, string> }>;
    assert.equal(inspected[0]?.Labels?.['org.opencontainers.image.title'], 'berth-access-e2e');

    // Logged out, the same pull is refused.
    await tools.podman('login', ['logout', host], { env });
    const refused = await tools.podman('pull-store-2', ['pull', ...tools.tlsArgs(), remote], { env, allowFailure: true, timeoutMs: 60_000 });
    assertFailed(refused, REFUSED, 'podman pull after logout');
  });

  test('podman login as a viewer succeeds, but its push is refused', async () => {
    const env = { REGISTRY_AUTH_FILE: join(work, 'podman-viewer-auth.json') };
    await tools.podman('login', ['login', '--tls-verify', '--cert-dir', tools.certDir ?? '', '-u', VIEWER.username, '-p', VIEWER.password, host], { env });
    await tools.podman('viewer-store', ['pull', layout.ref], { env });
    const id = (await tools.podman('viewer-store', ['images', '--quiet', '--no-trunc'], { env })).stdout.trim().split('\n')[0] ?? '';
    const push = await tools.podman('viewer-store', ['push', ...tools.tlsArgs(), id, `docker://${host}/team/viewer-app:1`], { env, allowFailure: true, timeoutMs: 60_000 });
    assertFailed(push, REFUSED, 'podman push as a viewer');
    await tools.podman('viewer-store', ['pull', ...tools.tlsArgs(), `${host}/team/app:1`], { env });
  });

  test('skopeo with --dest-creds and --src-creds round-trips an image', async () => {
    const creds = `${EDITOR.username}:${EDITOR.password}`;
    await copy(layout.ref, `docker://${host}/team/skopeo-app:1`, ['--dest-creds', creds, '--preserve-digests']);
    const back = join(work, 'skopeo-back');
    await copy(`docker://${host}/team/skopeo-app:1`, `oci:${back}:1`, ['--src-creds', creds, '--preserve-digests']);
    assert.equal((await readLayoutTag(back, '1')).digest, layout.digest, 'the same manifest came back');
    await rm(back, { recursive: true, force: true });

    // A viewer may read but not write.
    const viewer = `${VIEWER.username}:${VIEWER.password}`;
    const raw = await inspect(`${host}/team/skopeo-app:1`, ['--creds', viewer]);
    assert.equal(JSON.parse(raw.stdout).config.digest, layout.images[0]?.configDigest);
    assertFailed(await copy(layout.ref, `docker://${host}/team/viewer-push:1`, ['--dest-creds', viewer], true), REFUSED, 'skopeo push as a viewer');
  });

  test('an OAuth access token works as a password for skopeo', async () => {
    const res = await http.request('POST', '/oauth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'berth-cli', username: EDITOR.username, password: EDITOR.password }).toString(),
    });
    assert.equal(res.status, 200, describeResponse(res));
    const accessToken = res.json<{ access_token: string }>().access_token;
    assert.match(accessToken, /^berth_at_/);
    await copy(layout.ref, `docker://${host}/team/oauth-app:1`, ['--dest-creds', `${EDITOR.username}:${accessToken}`]);
    await inspect(`${host}/team/oauth-app:1`, ['--creds', `${EDITOR.username}:${accessToken}`]);
  });

  test('anonymous pull is refused, then allowed once system:unauthenticated is a registry-viewer of the project', async () => {
    const ref = `${host}/team/app:1`;
    const accept = `Accept: ${MEDIA_TYPES.ociManifest}`;
    assertFailed(await inspect(ref, ['--no-creds'], true), REFUSED, 'anonymous skopeo inspect');
    assert.equal(await curlStatus('/v2/team/app/manifests/1', [accept]), '401', 'curl without credentials');
    const before = await http.request('GET', '/v2/team/app/manifests/1', { headers: { accept: MEDIA_TYPES.ociManifest } });
    assert.equal(before.status, 401, describeResponse(before));
    assert.match(before.headers['www-authenticate'] ?? '', /^Bearer realm="https:\/\/[^"]+\/v2\/token",service="berth",scope="repository:team\/app:pull"/);

    const bound = await http.api('POST', '/namespaces/team/rolebindings/registry-viewer/subjects', admin.auth, { kind: 'Group', name: 'system:unauthenticated' });
    assert.equal(bound.status, 201, describeResponse(bound));
    try {
      const raw = await inspect(ref, ['--no-creds']);
      assert.equal(JSON.parse(raw.stdout).config.digest, layout.images[0]?.configDigest, 'skopeo --no-creds reads the manifest');
      assert.equal(await curlStatus('/v2/team/app/manifests/1', [accept]), '200', 'curl without credentials');
      const layer = layout.images[0]?.layers[0]?.digest ?? '';
      assert.equal(await curlStatus(`/v2/team/app/blobs/${layer}`), '200', 'curl fetches a layer without credentials');
      const got = await http.request('GET', '/v2/team/app/manifests/1', { headers: { accept: MEDIA_TYPES.ociManifest } });
      assert.equal(got.status, 200, describeResponse(got));
      assert.equal(got.headers['docker-content-digest'], layout.digest);
      // Pulling is all that was granted.
      assertFailed(await copy(layout.ref, `docker://${host}/team/anonymous-push:1`, ['--dest-no-creds'], true), REFUSED, 'anonymous skopeo push');
      const put = await http.request('PUT', '/v2/team/app/manifests/anonymous', { headers: { 'content-type': MEDIA_TYPES.ociManifest }, body: got.body });
      assert.equal(put.status, 401, describeResponse(put));
      assert.equal(await curlStatus(`/v2/team/app/manifests/${layout.digest}`, [], 'DELETE'), '401', 'curl DELETE without credentials');
    } finally {
      await admin.unbind('team', 'registry-viewer', 'Group', 'system:unauthenticated');
    }
    // Unbound again: closed at once (requests without a token are decided by the bindings).
    assert.equal(await curlStatus('/v2/team/app/manifests/1', [accept]), '401', 'curl after the binding was removed');
    assertFailed(await inspect(ref, ['--no-creds'], true), REFUSED, 'anonymous skopeo inspect after the binding was removed');
  });

  test('a service-account token works for skopeo, whatever the user name', async () => {
    await copy(layout.ref, `docker://${host}/team/ci-app:1`, ['--dest-creds', `ci:${saToken}`]);
    const back = join(work, 'ci-back');
    await copy(`docker://${host}/team/ci-app:1`, `oci:${back}:1`, ['--src-creds', `ci:${saToken}`]);
    await rm(back, { recursive: true, force: true });
    await inspect(`${host}/team/app:1`, ['--creds', `robot:${saToken}`]);
    // And it is the service account, not a user: nothing outside its project.
    const whoami = await http.api('GET', '/users/~', { kind: 'bearer', token: saToken });
    assert.equal(whoami.status, 200, describeResponse(whoami));
    assert.equal(whoami.json<{ metadata: { name: string } }>().metadata.name, 'system:serviceaccount:team:ci');
    assertFailed(await copy(layout.ref, `docker://${host}/elsewhere/ci-app:1`, ['--dest-creds', `ci:${saToken}`], true), REFUSED, 'a service account pushing outside its project');
  });

  // --- refusals (each counts as a failed login) --------------------------------

  test('an expired service-account token is refused', async () => {
    const { token } = await admin.createToken('team', 'ci', 1);
    await new Promise((r) => setTimeout(r, 2100));
    const back = join(work, 'expired-back');
    assertFailed(await copy(`docker://${host}/team/app:1`, `oci:${back}:1`, ['--src-creds', `ci:${token}`], true), REFUSED, 'skopeo with an expired token');
    await rm(back, { recursive: true, force: true });
    const res = await http.registryToken(basicAuth({ username: 'ci', password: token }), ['repository:team/app:pull']);
    assert.equal(res.status, 401, `token endpoint with an expired service-account token: ${describeResponse(res)}`);
    const api = await http.api('GET', '/users/~', { kind: 'bearer', token });
    assert.equal(api.status, 401, `the resource API with an expired service-account token: ${describeResponse(api)}`);
  });

  test('a revoked service-account token is refused', async () => {
    const { id, token } = await admin.createToken('team', 'ci');
    await inspect(`${host}/team/app:1`, ['--creds', `ci:${token}`]);
    await admin.revokeToken('team', 'ci', id);
    const back = join(work, 'revoked-back');
    assertFailed(await copy(`docker://${host}/team/app:1`, `oci:${back}:1`, ['--src-creds', `ci:${token}`], true), REFUSED, 'skopeo with a revoked token');
    await rm(back, { recursive: true, force: true });
    const res = await http.registryToken(basicAuth({ username: 'ci', password: token }), ['repository:team/app:pull']);
    assert.equal(res.status, 401, `token endpoint with a revoked service-account token: ${describeResponse(res)}`);
    const listed = await http.api('GET', '/namespaces/team/serviceaccounts/ci/tokens', admin.auth);
    const entry = listed.json<{ items: Array<{ metadata: { name: string }; status: { revoked: boolean } }> }>().items.find((t) => t.metadata.name === id);
    assert.equal(entry?.status.revoked, true, listed.text());
    // The long-lived token of the same account is untouched.
    await inspect(`${host}/team/app:1`, ['--creds', `ci:${saToken}`]);
  });

  // Expiry of registry tokens (exp in the past, nbf in the future) is covered by the unit
  // tests of src/identity/registry-tokens.ts: a server with the shortest lifetime (30 s) would
  // make this suite wait that long. Here: tokens the server did not sign as they are.
  test('a registry token with a tampered signature or payload is refused with 401', async () => {
    const res = await http.registryToken(basicAuth(EDITOR), ['repository:team/app:pull']);
    assert.equal(res.status, 200, describeResponse(res));
    const token = res.json<{ token: string }>().token;
    const get = (bearer: string) =>
      http.request('GET', '/v2/team/app/manifests/1', { auth: { kind: 'bearer', token: bearer }, headers: { accept: MEDIA_TYPES.ociManifest } });
    const good = await get(token);
    assert.equal(good.status, 200, `the untouched token works: ${describeResponse(good)}`);

    type Claims = { sub: string; access: Array<{ type: string; name: string; actions: string[] }> };
    const claims = jwtPayload<Claims>(token);
    const forged: Array<[string, string]> = [
      ['a flipped signature bit', withFlippedSignature(token)],
      ['push and delete added to the access claim', withPayload(token, { ...claims, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })],
      ['another subject', withPayload(token, { ...claims, sub: server.credentials?.username })],
      ['alg none', unsigned(token, { ...claims, access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] })],
      ['no signature', token.split('.').slice(0, 2).join('.') + '.'],
    ];
    for (const [what, bad] of forged) {
      const refused = await get(bad);
      assert.equal(refused.status, 401, `${what}: ${describeResponse(refused)}`);
      assert.match(refused.headers['www-authenticate'] ?? '', /^Bearer realm=/, `${what}: a Bearer challenge`);
      const del = await http.request('DELETE', `/v2/team/app/manifests/${layout.digest}`, { auth: { kind: 'bearer', token: bad } });
      assert.equal(del.status, 401, `${what} (DELETE): ${describeResponse(del)}`);
    }
    // A registry token is for /v2 only.
    const api = await http.api('GET', '/users/~', { kind: 'bearer', token });
    assert.equal(api.status, 401, `a registry token on /apis: ${describeResponse(api)}`);
    assert.equal((await get(token)).status, 200, 'the real token still works');
  });

  test('a wrong password is refused, and repeated failures are rate-limited, the right password included', async () => {
    const wrong: Auth = basicAuth({ username: EDITOR.username, password: 'not-the-password' });
    const scope = ['repository:team/app:pull'];
    const first = await http.registryToken(wrong, scope);
    assert.equal(first.status, 401, `a wrong password at the token endpoint: ${describeResponse(first)}`);
    assertFailed(await inspect(`${host}/team/app:1`, ['--creds', `${EDITOR.username}:not-the-password`], true), REFUSED, 'skopeo with a wrong password');

    let limited: Awaited<ReturnType<HttpClient['registryToken']>> | undefined;
    for (let attempt = 0; attempt < 12 && limited === undefined; attempt++) {
      const res = await http.registryToken(wrong, scope);
      if (res.status === 429) limited = res;
      else assert.equal(res.status, 401, `attempt ${attempt + 2}: ${describeResponse(res)}`);
    }
    assert.ok(limited, 'the token endpoint answers 429 after repeated failures');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 3600, `Retry-After: ${describeResponse(limited)}`);

    // During the window even the right password is refused, everywhere it is checked.
    const right = await http.registryToken(basicAuth(EDITOR), scope);
    assert.equal(right.status, 429, `the right password during the window: ${describeResponse(right)}`);
    assert.ok(Number(right.headers['retry-after']) > 0, describeResponse(right));
    const api = await http.api('GET', '/users/~', basicAuth(EDITOR));
    assert.equal(api.status, 429, `the resource API during the window: ${describeResponse(api)}`);
    assert.equal(api.json<StatusBody>().reason, 'TooManyRequests');
    assert.ok(Number(api.headers['retry-after']) > 0, describeResponse(api));
    const oauth = await http.request('POST', '/oauth/token', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'password', client_id: 'berth-cli', username: EDITOR.username, password: EDITOR.password }).toString(),
    });
    assert.equal(oauth.status, 429, `the OAuth password grant during the window: ${describeResponse(oauth)}`);
    assert.equal(oauth.json<{ error: string }>().error, 'temporarily_unavailable');
    assertFailed(await inspect(`${host}/team/app:1`, ['--creds', `${EDITOR.username}:${EDITOR.password}`], true), /429|too many|toomanyrequests|unauthorized|401/i, 'skopeo with the right password during the window');
    // Anonymous requests are not logins: they are still answered by the bindings.
    const anonymous = await http.registryToken(ANONYMOUS_AUTH, scope);
    assert.equal(anonymous.status, 200, describeResponse(anonymous));
  });
});
