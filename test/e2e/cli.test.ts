/**
 * The `berth` command against a real Berth over TLS, trusting only the CA the
 * server generated: login (password, pasted token), users, projects, role
 * bindings, who-can, service accounts and their tokens (rotation too), the
 * containers auth file used by skopeo, anonymous pull by podman through
 * `policy add-role-to-group registry-viewer system:unauthenticated`, signing
 * keys (rotate, retire), token refresh, logout.
 *
 * The CLI runs as a child process with its own BERTH_CONFIG_DIR and
 * REGISTRY_AUTH_FILE in a temp dir; only the process environment of the CLI
 * gets them, not the server's (the server refuses unknown BERTH_* variables).
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { writeFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { Agent, request } from 'undici';
import { PROJECT_ROOT, startBerth } from '../support/berth-server.ts';
import type { BerthServer } from '../support/berth-server.ts';
import { createClients } from '../support/container-clients.ts';
import type { ContainerClients } from '../support/container-clients.ts';
import { createImageLayout } from '../support/oci-images.ts';
import type { BuiltLayout } from '../support/oci-images.ts';

const ADMIN_PASSWORD = 'admin-e2e-Secret-1';
const ALICE_PASSWORD = 'alice-e2e-Secret-1';
const BOB_PASSWORD = 'bob-e2e-Secret-1';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** Exactly one `berth: …` line on stderr and exit status 1. */
function assertOneLineError(result: Result, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit status; stdout: ${result.stdout} stderr: ${result.stderr}`);
  const lines = result.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', /^berth: /);
  assert.match(lines[0] ?? '', pattern);
}

describe('berth CLI against a real server', { concurrency: false, timeout: 600_000 }, () => {
  let server: BerthServer;
  let work: string;
  let configDir: string;
  let authFile: string;
  let tools: ContainerClients;
  let layout: BuiltLayout;
  let saToken = '';

  const berth = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolveRun) => {
      const child = execFile(
        process.execPath,
        [join(PROJECT_ROOT, 'bin', 'berth.js'), ...args],
        { env: { ...process.env, BERTH_CONFIG_DIR: configDir, REGISTRY_AUTH_FILE: authFile }, timeout: 60_000 },
        (error, stdout, stderr) => resolveRun({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  /** Runs and asserts success; returns stdout. */
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await berth(args, input);
    assert.equal(result.code, 0, `berth ${args.join(' ')} failed (${result.code}): ${result.stderr}`);
    assert.equal(result.stderr.includes('berth: '), false, `no error line on success: ${result.stderr}`);
    return result.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'])) as T;
  const config = async (): Promise<{ currentServer: string; servers: Array<Record<string, string>> }> =>
    parse(await readFile(join(configDir, 'config.yaml'), 'utf8')) as { currentServer: string; servers: Array<Record<string, string>> };

  /** A direct HTTP call, for what the test itself must check on the server (not through the CLI). */
  let dispatcher: Agent;
  const http = async (method: 'GET' | 'POST', path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> => {
    const res = await request(`${server.url}${path}`, { method, headers, dispatcher, ...(body === undefined ? {} : { body }) });
    return { status: res.statusCode, body: await res.body.text() };
  };

  before(async () => {
    server = await startBerth({ env: { BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-cli-'));
    configDir = join(work, 'config');
    authFile = join(work, 'auth', 'auth.json');
    assert.ok(server.caPath, 'the server runs TLS with a generated CA');
    dispatcher = new Agent({ connect: { ca: await readFile(server.caPath, 'utf8') } });
    tools = await createClients({ workDir: join(work, 'clients'), caPath: server.caPath });
    layout = await createImageLayout(join(work, 'image'), '1.0', { layers: [{ size: 4096, seed: 'cli-e2e' }] });
  });

  after(async () => {
    await dispatcher?.close();
    await tools?.cleanup();
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('an untrusted server certificate is one line with the fix', async () => {
    assertOneLineError(await berth(['login', server.url, '-u', 'admin', '-p', ADMIN_PASSWORD]), /certificate is not trusted.*--certificate-authority/);
  });

  test('a wrong password exits 1 with one line', async () => {
    assertOneLineError(await berth(['login', server.url, '--certificate-authority', server.caPath ?? '', '-u', 'admin', '-p', 'wrong-password']), /login failed: /);
  });

  test('login as admin (password from stdin), whoami, whoami -t', async () => {
    const out = await ok(['login', server.url, '--certificate-authority', server.caPath ?? '', '-u', 'admin', '-p', '-'], `${ADMIN_PASSWORD}\n`);
    assert.match(out, new RegExp(`Logged into "${server.url}" as "admin"`));
    assert.equal((await ok(['whoami'])).trim(), 'admin');
    assert.equal((await ok(['whoami', '-n', 'any-project'])).trim(), 'admin', '-n is accepted (and ignored) by every command');
    const token = (await ok(['whoami', '-t'])).trim();
    assert.match(token, /^berth_at_/);
    // The config holds the tokens: 0600 in a 0700 dir, with the CA path remembered.
    assert.equal((await stat(join(configDir, 'config.yaml'))).mode & 0o777, 0o600);
    assert.equal((await stat(configDir)).mode & 0o777, 0o700);
    const saved = await config();
    assert.equal(saved.currentServer, server.url);
    assert.equal(saved.servers[0]?.['certificateAuthority'], server.caPath);
    assert.equal(saved.servers[0]?.['accessToken'], token);
    assert.match(saved.servers[0]?.['refreshToken'] ?? '', /^berth_rt_/);
  });

  test('adm users create alice and bob, groups', async () => {
    assert.match(await ok(['adm', 'users', 'create', 'alice', '--password', '-'], `${ALICE_PASSWORD}\n`), /user "alice" created/);
    await ok(['adm', 'users', 'create', 'bob', '--password', BOB_PASSWORD]);
    assertOneLineError(await berth(['adm', 'users', 'create', 'bob', '--password', BOB_PASSWORD]), /bob/);
    const users = await json<{ kind: string; items: Array<{ metadata: { name: string } }> }>(['adm', 'users', 'list']);
    assert.deepEqual(users.items.map((u) => u.metadata.name).filter((n) => n === 'alice' || n === 'bob').sort(), ['alice', 'bob']);
    const table = await ok(['adm', 'users', 'list']);
    assert.match(table.split('\n')[0] ?? '', /^NAME\s+GROUPS\s+DISABLED$/);

    await ok(['adm', 'groups', 'create', 'devs', 'alice']);
    await ok(['adm', 'groups', 'add-users', 'devs', 'bob']);
    await ok(['adm', 'groups', 'remove-users', 'devs', 'bob']);
    const groups = await json<{ items: Array<{ metadata: { name: string }; users: string[] }> }>(['adm', 'groups', 'list']);
    assert.deepEqual(groups.items.find((g) => g.metadata.name === 'devs')?.users, ['alice']);
  });

  // Failed logins from this address are rate-limited (10 in 5 minutes, and the server counts a bad
  // access token twice): the suite keeps its deliberate failures few so that later steps are not refused.
  test('adm signing-keys rotate makes a new key sign, and the JWKS keeps the old one for verification', async () => {
    type KeyList = { kind: string; items: Array<{ metadata: { name: string }; status: { signing: boolean } }> };
    const before = (await json<KeyList>(['adm', 'signing-keys', 'list'])).items.map((k) => k.metadata.name);
    // Empty until the first registry token (the CLI logged in through OAuth); then one key.
    const rotated = await ok(['adm', 'signing-keys', 'rotate']);
    const kid = /signing key (\S+) now signs/.exec(rotated)?.[1];
    assert.ok(kid, rotated);
    const after = await json<KeyList>(['adm', 'signing-keys', 'list']);
    assert.equal(after.kind, 'SigningKeyList');
    assert.deepEqual(after.items.map((k) => k.metadata.name), [kid, ...before], 'newest first, older keys still verify');
    assert.deepEqual(after.items.map((k) => k.status.signing), [true, ...before.map(() => false)]);
    const table = (await ok(['adm', 'signing-keys', 'list'])).split('\n');
    assert.match(table[0] ?? '', /^KID\s+SIGNING\s+AGE$/);
    assert.match(table[1] ?? '', new RegExp(`^${kid}\\s+yes\\s+\\d+s$`));
    assert.match(await ok(['adm', 'signing-keys', 'list', '-o', 'wide']), /ES256/);
  });

  test('adm signing-keys retire drops a key from the JWKS and refuses its tokens at once; the only key stays', async () => {
    type KeyList = { items: Array<{ metadata: { name: string } }> };
    const adminBasic = { authorization: `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}` };
    const jwks = async (): Promise<string[]> => (JSON.parse((await http('GET', '/v2/token/jwks', {})).body) as { keys: Array<{ kid: string }> }).keys.map((k) => k.kid);
    const issued = await http('GET', '/v2/token?service=berth&scope=registry:catalog:*', adminBasic);
    assert.equal(issued.status, 200, issued.body);
    const signing = (await json<KeyList>(['adm', 'signing-keys', 'list'])).items[0]?.metadata.name ?? '';
    assert.notEqual(signing, '', 'a key signs once a token was issued');
    const oldToken = (JSON.parse(issued.body) as { token: string }).token;
    const withOld = async (): Promise<number> => (await http('GET', '/v2/_catalog', { authorization: `Bearer ${oldToken}` })).status;
    assert.equal(await withOld(), 200, 'the token works before anything changes');
    await ok(['adm', 'signing-keys', 'rotate']);
    assert.equal(await withOld(), 200, 'rotation alone leaves issued tokens valid');

    const retired = await ok(['adm', 'signing-keys', 'retire', signing]);
    assert.match(retired, new RegExp(`signing key ${signing} retired`));
    assert.equal((await jwks()).includes(signing), false, 'the retired key left the JWKS');
    assert.equal((await json<KeyList>(['adm', 'signing-keys', 'list'])).items.some((k) => k.metadata.name === signing), false);
    assert.equal(await withOld(), 401, 'a token of the retired key is refused at once, although it has not expired');
    const fresh = await http('GET', '/v2/token?service=berth&scope=registry:catalog:*', adminBasic);
    assert.equal((await http('GET', '/v2/_catalog', { authorization: `Bearer ${(JSON.parse(fresh.body) as { token: string }).token}` })).status, 200, 'new tokens work');

    assertOneLineError(await berth(['adm', 'signing-keys', 'retire', signing]), /no active signing key/);
    const remaining = (await json<KeyList>(['adm', 'signing-keys', 'list'])).items.map((k) => k.metadata.name);
    for (const kid of remaining.slice(1)) await ok(['adm', 'signing-keys', 'retire', kid]);
    const last = remaining[0] ?? '';
    assertOneLineError(await berth(['adm', 'signing-keys', 'retire', last]), /only active key: rotate first/);
    assert.deepEqual(await jwks(), [last]);
    assertOneLineError(await berth(['adm', 'signing-keys', 'retire', 'not a kid']), /invalid key id/);
  });

  test('disable and enable a user', async () => {
    const disabled = async (): Promise<boolean | undefined> =>
      (await json<{ items: Array<{ metadata: { name: string }; spec: { disabled: boolean } }> }>(['adm', 'users', 'list'])).items.find((u) => u.metadata.name === 'bob')?.spec.disabled;
    assert.match(await ok(['adm', 'users', 'disable', 'bob']), /user "bob" disabled/);
    assert.equal(await disabled(), true);
    assert.match(await ok(['adm', 'users', 'list']), /^bob\s+<none>\s+yes$/m);
    await ok(['adm', 'users', 'enable', 'bob']);
    assert.equal(await disabled(), false);
  });

  /** Whether the OAuth server gives `user` a token for `password`. */
  const canLogIn = async (user: string, password: string): Promise<boolean> => {
    const answer = await http('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ grant_type: 'password', username: user, password, client_id: 'berth-cli' }).toString());
    return answer.status === 200;
  };

  test('set-password and htpasswd import change who can log in', async () => {
    await ok(['adm', 'users', 'set-password', 'bob', '--password', '-'], 'bob-new-Secret-2\n');
    assert.equal(await canLogIn('bob', 'bob-new-Secret-2'), true);
    // An htpasswd file (htpasswd -B) creates carol and puts bob back on his first password.
    const file = join(work, 'htpasswd');
    await writeFile(file, `carol:${bcrypt.hashSync('carol-e2e-Secret-1', 5).replace(/^\$2b\$/, '$2y$')}\nbob:${bcrypt.hashSync(BOB_PASSWORD, 5)}\n`);
    assert.match(await ok(['adm', 'users', 'import', 'htpasswd', file]), /imported 2 users from .*: 1 created, 1 updated, 0 unchanged/);
    assert.equal(await canLogIn('carol', 'carol-e2e-Secret-1'), true);
    assert.equal(await canLogIn('bob', BOB_PASSWORD), true);
    assert.match(await ok(['adm', 'users', 'delete', 'carol']), /user "carol" deleted/);
    const users = await json<{ items: Array<{ metadata: { name: string } }> }>(['adm', 'users', 'list']);
    assert.equal(users.items.some((u) => u.metadata.name === 'carol'), false);
  });

  test('login as alice, new-project, projects, project', async () => {
    const adminRefresh = (await config()).servers[0]?.['refreshToken'] ?? '';
    assert.match(await ok(['login', '-u', 'alice', '-p', ALICE_PASSWORD]), /as "alice"/);
    // The replaced login's tokens are revoked, not left alive with nobody holding them.
    const reuse = await http('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ grant_type: 'refresh_token', refresh_token: adminRefresh, client_id: 'berth-cli' }).toString());
    assert.notEqual(reuse.status, 200, "admin's refresh token no longer works");
    assert.equal((await ok(['whoami'])).trim(), 'alice');
    assert.match(await ok(['new-project', 'demo', '--display-name', 'Demo project']), /Now using project "demo"/);
    const table = await ok(['projects']);
    assert.match(table, /^CURRENT\s+NAME\s+DISPLAY NAME\s+STATUS\n\*\s+demo\s+Demo project\s+Active\n$/);
    const list = await json<{ kind: string; items: Array<{ metadata: { name: string; annotations?: Record<string, string> } }> }>(['projects']);
    assert.equal(list.kind, 'ProjectList');
    assert.deepEqual(list.items.map((p) => p.metadata.name), ['demo']);
    assert.equal(list.items[0]?.metadata.annotations?.['berth.dev/requester'], 'alice');
    assert.match(await ok(['project']), /Using project "demo"/);
    assertOneLineError(await berth(['project', 'nosuch']), /nosuch/);
    assert.match(await ok(['project']), /Using project "demo"/, 'a failed switch keeps the current project');
  });

  test('policy add-role-to-user, get rolebindings, who-can', async () => {
    assert.match(await ok(['policy', 'add-role-to-user', 'registry-viewer', 'bob']), /role "registry-viewer" added: "bob"/);
    const bindings = await json<{ items: Array<{ metadata: { name: string }; roleRef: { name: string }; subjects: Array<{ kind: string; name: string }> }> }>(['get', 'rolebindings', '-n', 'demo']);
    const viewer = bindings.items.find((b) => b.roleRef.name === 'registry-viewer');
    assert.deepEqual(viewer?.subjects, [{ kind: 'User', name: 'bob' }]);
    const admin = bindings.items.find((b) => b.roleRef.name === 'registry-admin');
    assert.ok(admin?.subjects.some((s) => s.kind === 'User' && s.name === 'alice'), 'the creator is registry-admin');
    assert.match(await ok(['get', 'rolebindings']), /registry-viewer\s+ClusterRole\/registry-viewer\s+bob/);

    const whoCan = await json<{ users: string[] }>(['who-can', 'pull', 'demo']);
    assert.ok(whoCan.users.includes('alice') && whoCan.users.includes('bob'), JSON.stringify(whoCan));
    const text = await ok(['who-can', 'pull', '-n', 'demo']);
    assert.match(text, /^Namespace: demo\nVerb: {6}pull\n\nUsers: +\S+\n/);
    assert.match(text, /^(Users:)? +alice$/m);
    assert.match(text, /^(Users:)? +bob$/m);
    const push = await json<{ users: string[] }>(['who-can', 'push']);
    assert.equal(push.users.includes('bob'), false, 'a viewer may not push');

    assert.match(await ok(['policy', 'remove-role-from-user', 'registry-viewer', 'bob']), /removed: "bob"/);
    const after = await json<{ items: Array<{ roleRef: { name: string }; subjects: Array<{ name: string }> }> }>(['get', 'rolebindings']);
    assert.equal(after.items.find((b) => b.roleRef.name === 'registry-viewer')?.subjects.some((s) => s.name === 'bob') ?? false, false);
    await ok(['policy', 'add-role-to-group', 'registry-viewer', 'devs']);
  });

  test('create serviceaccount, bind it, create token', async () => {
    assert.match(await ok(['create', 'serviceaccount', 'ci']), /serviceaccount "ci" created/);
    const accounts = await json<{ items: Array<{ metadata: { name: string }; status: { username: string } }> }>(['get', 'serviceaccounts']);
    assert.deepEqual(accounts.items.map((a) => [a.metadata.name, a.status.username]), [['ci', 'system:serviceaccount:demo:ci']]);
    await ok(['policy', 'add-role-to-user', 'registry-editor', 'system:serviceaccount:demo:ci']);
    const bindings = await json<{ items: Array<{ roleRef: { name: string }; subjects: Array<{ kind: string; name: string; namespace?: string }> }> }>(['get', 'rolebindings']);
    assert.deepEqual(bindings.items.find((b) => b.roleRef.name === 'registry-editor')?.subjects, [{ kind: 'ServiceAccount', name: 'ci', namespace: 'demo' }]);
    saToken = (await ok(['create', 'token', 'serviceaccount', 'ci', '--duration', '1h'])).trim();
    assert.match(saToken, /^berth_sa_\S+$/);
    const tokens = await json<{ items: Array<{ status: { token?: string; revoked: boolean } }> }>(['get', 'tokens', 'ci']);
    assert.equal(tokens.items.length, 1);
    assert.equal(tokens.items[0]?.status.token, undefined, 'secrets are shown only once');
    const whoCan = await json<{ serviceAccounts: string[] }>(['who-can', 'push']);
    assert.deepEqual(whoCan.serviceAccounts, ['system:serviceaccount:demo:ci']);
  });

  test('the service-account token pushes with skopeo', async () => {
    await tools.skopeoCopy(layout.ref, `docker://${server.hostPort}/demo/app:sa`, ['--dest-creds', `ci:${saToken}`]);
    const inspected = JSON.parse((await tools.skopeoInspect(`docker://${server.hostPort}/demo/app:sa`, ['--creds', `ci:${saToken}`])).stdout) as { Digest: string };
    assert.equal(inspected.Digest, layout.digest);
  });

  test('create token --rotate revokes the old token and prints its successor once', async () => {
    const basicStatus = async (secret: string): Promise<number> =>
      (await http('GET', '/v2/', { authorization: `Basic ${Buffer.from(`ci:${secret}`).toString('base64')}` })).status;
    const first = saToken;
    assert.equal(await basicStatus(first), 200);
    const rotated = await berth(['create', 'token', 'serviceaccount', 'ci', '--rotate']);
    assert.equal(rotated.code, 0, rotated.stderr);
    const second = rotated.stdout.trim();
    assert.match(second, /^berth_sa_\S+$/, 'only the new secret on stdout');
    assert.notEqual(second, first);
    assert.match(rotated.stderr, /revoked; its successor is/);
    assert.equal(await basicStatus(first), 401, 'the old token is refused');
    assert.equal(await basicStatus(second), 200, 'the new token works');
    type Tokens = { items: Array<{ metadata: { name: string }; spec: { expirationTimestamp: string | null }; status: { token?: string; revoked: boolean } }> };
    const listed = (await json<Tokens>(['get', 'tokens', 'ci'])).items;
    assert.deepEqual(listed.map((t) => t.status.revoked), [true, false]);
    assert.ok(listed.every((t) => t.status.token === undefined), 'listings never carry secrets');
    assert.notEqual(listed[1]?.spec.expirationTimestamp, null, 'the successor expires like the old one (1h)');

    // With an id; and without one when several tokens are live, the CLI asks which.
    const oldId = listed[0]?.metadata.name ?? '';
    const liveId = listed[1]?.metadata.name ?? '';
    const third = (await ok(['create', 'token', 'serviceaccount', 'ci', '--rotate', liveId, '-n', 'demo'])).trim();
    assert.equal(await basicStatus(second), 401);
    assert.equal(await basicStatus(third), 200);
    await ok(['create', 'token', 'serviceaccount', 'ci', '--duration', '1h']);
    assertOneLineError(await berth(['create', 'token', 'serviceaccount', 'ci', '--rotate']), /has 2 live tokens: name the one to rotate/);
    assertOneLineError(await berth(['create', 'token', 'serviceaccount', 'ci', '--rotate', oldId]), /is revoked: create a new token instead/);
    assertOneLineError(await berth(['create', 'token', 'serviceaccount', 'ci', '--rotate', 'no-such-token']), /has no token "no-such-token"/);
    saToken = third;
  });

  test('registry login writes the auth file that skopeo uses', async () => {
    assert.match(await ok(['registry', 'login']), new RegExp(`for ${server.hostPort.replace(/\./g, '\\.')} in ${authFile.replace(/\./g, '\\.')}`));
    assert.equal((await stat(authFile)).mode & 0o777, 0o600);
    const auth = JSON.parse(await readFile(authFile, 'utf8')) as { auths: Record<string, { auth: string }> };
    const token = (await ok(['whoami', '-t'])).trim();
    assert.equal(Buffer.from(auth.auths[server.hostPort]?.auth ?? '', 'base64').toString(), `alice:${token}`);

    await tools.skopeoCopy(layout.ref, `docker://${server.hostPort}/demo/app:1.0`, ['--dest-authfile', authFile]);
    const inspected = JSON.parse((await tools.skopeoInspect(`docker://${server.hostPort}/demo/app:1.0`, ['--authfile', authFile])).stdout) as { Digest: string };
    assert.equal(inspected.Digest, layout.digest);
    const anonymous = await tools.skopeoInspect(`docker://${server.hostPort}/demo/app:1.0`, ['--no-creds'], { allowFailure: true });
    assert.notEqual(anonymous.code, 0, 'without credentials the image is not visible');
  });

  test('policy add-role-to-group registry-viewer system:unauthenticated -n demo makes podman pull anonymously; remove-role-from-group ends it', async () => {
    // podman with an empty auth file: it has nothing to send, as on a machine that never logged in.
    const emptyAuth = join(work, 'anonymous-auth.json');
    await writeFile(emptyAuth, '{"auths":{}}\n', { mode: 0o600 });
    const env = { REGISTRY_AUTH_FILE: emptyAuth };
    const image = `${server.hostPort}/demo/app:1.0`;
    const anonymousPull = (store: string) => tools.podman(store, ['pull', ...tools.tlsArgs(), image], { env, allowFailure: true, timeoutMs: 120_000 });

    const before = await anonymousPull('anon-before');
    assert.notEqual(before.code, 0, `an anonymous pull must fail before the binding:\n${before.stdout}\n${before.stderr}`);
    assert.match(before.stderr, /unauthorized|authentication required|denied|401|403/i, before.stderr);

    assert.match(await ok(['policy', 'add-role-to-group', 'registry-viewer', 'system:unauthenticated', '-n', 'demo']), /system:unauthenticated/);
    const bound = await json<{ items: Array<{ roleRef: { name: string }; subjects: Array<{ kind: string; name: string }> }> }>(['get', 'rolebindings', '-n', 'demo']);
    assert.ok(bound.items.find((b) => b.roleRef.name === 'registry-viewer')?.subjects.some((x) => x.kind === 'Group' && x.name === 'system:unauthenticated'), JSON.stringify(bound.items));
    const pulled = await anonymousPull('anon-bound');
    assert.equal(pulled.code, 0, `an anonymous pull must succeed once system:unauthenticated is bound:\n${pulled.stderr}`);
    const id = (await tools.podman('anon-bound', ['images', '--quiet', '--no-trunc'], { env })).stdout.trim();
    assert.match(id, /^sha256:[0-9a-f]{64}$/, 'podman stored the image');
    const push = await tools.skopeoCopy(layout.ref, `docker://${server.hostPort}/demo/app:anonymous`, ['--dest-no-creds'], { allowFailure: true, timeoutMs: 120_000 });
    assert.notEqual(push.code, 0, 'registry-viewer is pull only: an anonymous push still fails');

    await ok(['policy', 'remove-role-from-group', 'registry-viewer', 'system:unauthenticated', '-n', 'demo']);
    const afterRemoval = await anonymousPull('anon-after');
    assert.notEqual(afterRemoval.code, 0, `an anonymous pull must fail again after remove-role-from-group:\n${afterRemoval.stdout}`);
    assert.match(afterRemoval.stderr, /unauthorized|authentication required|denied|401|403/i, afterRemoval.stderr);
  });

  test('a revoked access token is refreshed once with the refresh token', async () => {
    const before = (await config()).servers[0];
    const oldToken = before?.['accessToken'] ?? '';
    const revoked = await http('POST', '/oauth/revoke', { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ token: oldToken, client_id: 'berth-cli' }).toString());
    assert.equal(revoked.status, 200);
    assert.equal((await ok(['whoami'])).trim(), 'alice');
    const now = (await config()).servers[0]?.['accessToken'];
    assert.ok(now !== undefined && now !== oldToken, 'a new access token was saved');
  });

  test('remove a service-account subject, delete the account', async () => {
    await ok(['policy', 'remove-role-from-user', 'registry-editor', 'system:serviceaccount:demo:ci']);
    const bindings = await json<{ items: Array<{ roleRef: { name: string }; subjects: unknown[] }> }>(['get', 'rolebindings']);
    assert.equal(bindings.items.find((b) => b.roleRef.name === 'registry-editor')?.subjects.length ?? 0, 0);
    await ok(['delete', 'serviceaccount', 'ci']);
    assertOneLineError(await berth(['get', 'serviceaccounts', 'ci']), /ci/);
  });

  test('logout revokes the tokens; then whoami fails with one line', async () => {
    const token = (await config()).servers[0]?.['accessToken'] ?? '';
    assert.match(await ok(['logout']), /Logged "alice" out/);
    assertOneLineError(await berth(['whoami']), /not logged in to /);
    const answer = await http('GET', '/apis/berth.dev/v1/users/~', { authorization: `Bearer ${token}` });
    assert.equal(answer.status, 401, 'the revoked token is refused by the server');
    assert.equal((await config()).servers[0]?.['refreshToken'], undefined);
  });

  test('login --token with a pasted token; delete project', async () => {
    const issued = await http('POST', '/oauth/token', { 'content-type': 'application/x-www-form-urlencoded' },
      new URLSearchParams({ grant_type: 'password', username: 'alice', password: ALICE_PASSWORD, client_id: 'berth-cli' }).toString());
    const token = (JSON.parse(issued.body) as { access_token: string }).access_token;
    assert.match(await ok(['login', '--token', token]), /as "alice" using the token provided/);
    assert.equal((await ok(['whoami'])).trim(), 'alice');
    assertOneLineError(await berth(['login', '--token', 'berth_at_not-a-token']), /login failed/);
    assert.match(await ok(['delete', 'project', 'demo']), /project "demo" deleted/);
    assertOneLineError(await berth(['project']), /no current project/);
  });

  test('login --web: authorization code with PKCE through the loopback redirect', async () => {
    const child = spawn(process.execPath, [join(PROJECT_ROOT, 'bin', 'berth.js'), 'login', '--web'], {
      env: { ...process.env, BERTH_CONFIG_DIR: configDir, REGISTRY_AUTH_FILE: authFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((resolveExit) => child.on('close', (code) => resolveExit(code)));
    try {
      // The browser's part: open the printed URL, sign in on the form, follow the redirect to the CLI.
      const authorizeUrl = await new Promise<string>((resolveUrl, reject) => {
        child.stdout.on('data', (c: Buffer) => {
          stdout += c.toString();
          const match = /(https:\/\/\S+\/oauth\/authorize\?\S+)/.exec(stdout);
          if (match?.[1] !== undefined) resolveUrl(match[1]);
        });
        child.on('close', () => reject(new Error(`berth login --web exited early: ${stderr}`)));
      });
      const page = await request(authorizeUrl, { dispatcher });
      const html = await page.body.text();
      assert.equal(page.statusCode, 200, html);
      const cookie = [page.headers['set-cookie'] ?? []].flat().map((c) => c.split(';')[0]).join('; ');
      const csrf = /name="csrf_token" value="([^"]+)"/.exec(html)?.[1];
      assert.ok(csrf, 'the login page has a csrf token');
      const submitted = await request(new URL('/oauth/authorize', server.url).toString(), {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams({ csrf_token: csrf, username: 'bob', password: BOB_PASSWORD }).toString(),
      });
      await submitted.body.dump();
      assert.equal(submitted.statusCode, 302);
      const location = String(submitted.headers['location'] ?? '');
      assert.match(location, /^http:\/\/127\.0\.0\.1:\d+\/callback\?/);
      const callback = await request(location);
      assert.match(await callback.body.text(), /logged in/i);
      assert.equal(await exited, 0, stderr);
    } finally {
      child.kill();
    }
    assert.match(stdout, /Logged into .* as "bob" using the browser/);
    assert.equal((await ok(['whoami'])).trim(), 'bob');
  });
});
