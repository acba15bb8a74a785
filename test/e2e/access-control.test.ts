/**
 * Access control over HTTP with real tokens, against one Berth (plain HTTP):
 *
 * - a matrix, one test per principal × verb × project: anonymous, a user
 *   with no bindings, registry-viewer, registry-editor and registry-admin of
 *   `team`, the cluster admin, and a service account of `team` bound
 *   registry-editor; pull, push, delete, tag, cross-repository mount, the
 *   catalog and managing role bindings; against `team` and against `other`
 *   (where only the cluster admin holds a role). Every allowed request must
 *   succeed and every denied one must fail and leave no trace;
 * - `_catalog` lists (and its paging links name) only repositories the
 *   caller may pull;
 * - a push into a project that does not exist creates it, owned by the
 *   pusher, and nobody else gets in; with self-provisioning off (a second
 *   server) that push is refused with a message that says why; with
 *   `auth.createProjectOnPush` off (a third server) every push into a
 *   missing project is refused, the cluster admin's too, with a message
 *   that names the switch.
 *
 * Registry clients do the Docker token flow (probe /v2/, Bearer challenge,
 * GET /v2/token with Basic, Bearer); the anonymous principal sends its
 * requests with no credentials at all, as curl does. The resource API is
 * called with Basic user:password (a service account: Bearer <its token>).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startBerth } from '../support/berth-server.ts';
import type { BerthServer } from '../support/berth-server.ts';
import { AccessAdmin, ANONYMOUS_AUTH, basicAuth, HttpClient, jwtPayload } from '../support/access-api.ts';
import type { Auth, RoleBindingBody, StatusBody } from '../support/access-api.ts';
import { randomBytes } from '../support/oci-images.ts';
import { buildManifest, describeResponse, digestOf, pushImage, RegistryClient } from '../support/registry-http.ts';
import type { Credentials, HttpResponse, MemoryImage } from '../support/registry-http.ts';

const PROJECTS = ['team', 'other'] as const;
type Project = (typeof PROJECTS)[number];
const otherThan = (p: Project): Project => (p === 'team' ? 'other' : 'team');

type Verb = 'pull' | 'push' | 'delete' | 'tag' | 'mount' | 'catalog' | 'manage bindings';
const VERBS: readonly Verb[] = ['pull', 'push', 'delete', 'tag', 'mount', 'catalog', 'manage bindings'];

/** What a principal may do in a project (mount and catalog follow from pull and push). */
type Grant = 'pull' | 'push' | 'delete' | 'tag' | 'manage bindings';
const VIEWER: Grant[] = ['pull'];
const EDITOR: Grant[] = ['pull', 'push', 'tag'];
const ADMIN: Grant[] = ['pull', 'push', 'tag', 'delete', 'manage bindings'];

const PASSWORDS = {
  nobody: 'nobody-e2e-Secret-1',
  viewer: 'viewer-e2e-Secret-1',
  editor: 'editor-e2e-Secret-1',
  padmin: 'padmin-e2e-Secret-1',
} as const;

interface PrincipalSpec {
  readonly key: string;
  readonly label: string;
  readonly grants: Record<Project, readonly Grant[]>;
}

const PRINCIPALS: readonly PrincipalSpec[] = [
  { key: 'anonymous', label: 'anonymous', grants: { team: [], other: [] } },
  { key: 'nobody', label: 'nobody (no bindings)', grants: { team: [], other: [] } },
  { key: 'viewer', label: 'viewer (registry-viewer of team)', grants: { team: VIEWER, other: [] } },
  { key: 'editor', label: 'editor (registry-editor of team)', grants: { team: EDITOR, other: [] } },
  { key: 'padmin', label: 'padmin (registry-admin of team)', grants: { team: ADMIN, other: [] } },
  { key: 'admin', label: 'cluster admin', grants: { team: ADMIN, other: ADMIN } },
  { key: 'sa', label: 'service account team:ci (registry-editor of team)', grants: { team: EDITOR, other: [] } },
];

/** A principal at run time: how it talks to /v2 (token flow) and to /apis. */
interface Actor {
  readonly spec: PrincipalSpec;
  readonly registry: RegistryClient;
  readonly api: Auth;
  readonly anonymous: boolean;
}

/** A small image with its own config and one layer, unique per `seed`. */
function smallImage(seed: string, extra: Record<string, unknown> = {}): MemoryImage {
  const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { seed } }, rootfs: { type: 'layers', diff_ids: [] } }));
  return buildManifest(config, [randomBytes(`access-layer-${seed}`, 700)], extra);
}

/** Assert a /v2 denial: 401 with a Bearer challenge for anonymous; 401 insufficient_scope or 403 DENIED for anyone else. */
function assertV2Denied(res: HttpResponse, actor: Actor, what: string): void {
  const message = `${what} must be denied to ${actor.spec.label}: ${describeResponse(res)}`;
  const challenge = res.headers['www-authenticate'] ?? '';
  if (actor.anonymous) {
    assert.equal(res.status, 401, message);
    assert.match(challenge, /^Bearer realm="[^"]+\/v2\/token",service="berth"/, message);
    return;
  }
  assert.ok(res.status === 401 || res.status === 403, message);
  if (res.status === 401) assert.match(challenge, /error="insufficient_scope"/, message);
  else assert.ok(res.errorCodes().includes('DENIED'), message);
}

function assertApiDenied(res: HttpResponse, actor: Actor, what: string): void {
  const message = `${what} must be denied to ${actor.spec.label}: ${describeResponse(res)}`;
  const expected = actor.anonymous ? { code: 401, reason: 'Unauthorized' } : { code: 403, reason: 'Forbidden' };
  assert.equal(res.status, expected.code, message);
  const body = res.json<StatusBody>();
  assert.equal(body.kind, 'Status', message);
  assert.equal(body.reason, expected.reason, message);
}

function assertStatus(res: HttpResponse, status: number, what: string): void {
  assert.equal(res.status, status, `${what}: ${describeResponse(res)}`);
}

describe('access control matrix (plain HTTP, real tokens)', { concurrency: false, timeout: 180_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  let admin: AccessAdmin;
  /** The cluster admin's registry client, to set up and to check what a denied request left behind. */
  let root: RegistryClient;
  const actors = new Map<string, Actor>();
  const seeds: Record<Project, MemoryImage> = { team: smallImage('seed-team'), other: smallImage('seed-other') };
  let saToken = '';
  let serial = 0;

  const actor = (key: string): Actor => {
    const found = actors.get(key);
    assert.ok(found, `actor ${key} was set up`);
    return found;
  };

  before(async () => {
    server = await startBerth({ insecureHttp: true });
    const adminCredentials = server.credentials;
    assert.ok(adminCredentials, 'the bootstrap admin');
    http = new HttpClient(server.url);
    admin = new AccessAdmin(http, basicAuth(adminCredentials));
    for (const [name, password] of Object.entries(PASSWORDS)) await admin.createUser(name, password);
    for (const project of PROJECTS) await admin.createProject(project);
    await admin.bind('team', 'registry-viewer', { kind: 'User', name: 'viewer' });
    await admin.bind('team', 'registry-editor', { kind: 'User', name: 'editor' });
    await admin.bind('team', 'registry-admin', { kind: 'User', name: 'padmin' });
    await admin.createServiceAccount('team', 'ci');
    await admin.bind('team', 'registry-editor', { kind: 'ServiceAccount', name: 'ci', namespace: 'team' });
    saToken = (await admin.createToken('team', 'ci')).token;

    root = new RegistryClient(server.url, undefined, { credentials: adminCredentials });
    for (const project of PROJECTS) await pushImage(root, `${project}/app`, '1', seeds[project]);

    const registryClient = (credentials: Credentials | undefined) => new RegistryClient(server.url, undefined, { headersTimeoutMs: 15_000, credentials });
    const credentialsOf: Record<string, Credentials | undefined> = {
      anonymous: undefined,
      ...Object.fromEntries(Object.entries(PASSWORDS).map(([username, password]) => [username, { username, password }])),
      admin: adminCredentials,
      sa: { username: 'ci', password: saToken },
    };
    for (const spec of PRINCIPALS) {
      const credentials = credentialsOf[spec.key];
      const api: Auth = spec.key === 'sa' ? { kind: 'bearer', token: saToken } : credentials === undefined ? ANONYMOUS_AUTH : basicAuth(credentials);
      actors.set(spec.key, { spec, registry: registryClient(credentials), api, anonymous: credentials === undefined });
    }
  });

  after(async () => {
    for (const a of actors.values()) await a.registry.close();
    await root?.close();
    await http?.close();
    await server?.stop();
  });

  test('every principal is who the API says it is', async () => {
    for (const spec of PRINCIPALS) {
      const a = actor(spec.key);
      const res = await http.api('GET', '/users/~', a.api);
      if (a.anonymous) {
        assertStatus(res, 401, 'GET users/~ anonymously');
        continue;
      }
      assertStatus(res, 200, `GET users/~ as ${spec.label}`);
      const expected = spec.key === 'sa' ? 'system:serviceaccount:team:ci' : spec.key === 'admin' ? server.credentials?.username : spec.key;
      assert.equal(res.json<{ metadata: { name: string } }>().metadata.name, expected);
    }
  });

  // -------------------------------------------------------------------------
  // The matrix

  const rows: Array<{ principal: PrincipalSpec; verb: Verb; project: Project }> = [];
  for (const principal of PRINCIPALS) for (const verb of VERBS) for (const project of PROJECTS) rows.push({ principal, verb, project });

  for (const { principal, verb, project } of rows) {
    const may = (g: Grant, p: Project = project) => principal.grants[p].includes(g);
    let outcome: string;
    switch (verb) {
      case 'mount':
        outcome = !may('push') ? 'denied' : may('pull', otherThan(project)) ? 'mounted (201)' : 'a plain upload session (202)';
        break;
      case 'catalog':
        outcome = may('pull') ? `lists ${project}/app` : `hides ${project}/app`;
        break;
      default:
        outcome = may(verb) ? 'allowed' : 'denied';
    }
    const what =
      verb === 'mount' ? `mount from ${otherThan(project)}/app into ${project}` : verb === 'catalog' ? 'list the catalog' : `${verb} in ${project}`;
    test(`${principal.label}: ${what} → ${outcome}`, async () => {
      const a = actor(principal.key);
      const id = `${principal.key}-${serial++}`;
      const repo = `${project}/app`;
      switch (verb) {
        case 'pull': {
          const res = await a.registry.getManifest(repo, '1', seeds[project].mediaType);
          if (may('pull')) {
            assertStatus(res, 200, `GET ${repo}:1`);
            assert.equal(res.headers['docker-content-digest'], seeds[project].digest);
            assert.deepEqual(res.body, seeds[project].manifest);
            // Blobs too, not only the manifest.
            const blob = await a.registry.getBlob(repo, digestOf(seeds[project].layers[0] ?? Buffer.alloc(0)));
            assertStatus(blob, 200, `GET a layer of ${repo}`);
            assert.deepEqual(blob.body, seeds[project].layers[0]);
            const tags = await a.registry.request('GET', `/v2/${repo}/tags/list`);
            assertStatus(tags, 200, `GET ${repo} tags`);
            assert.ok(tags.json<{ tags: string[] }>().tags.includes('1'), tags.text());
          } else {
            assertV2Denied(res, a, `GET ${repo}:1`);
            assertV2Denied(await a.registry.getBlob(repo, digestOf(seeds[project].config)), a, `GET the config blob of ${repo}`);
            assertV2Denied(await a.registry.request('GET', `/v2/${repo}/tags/list`), a, `GET ${repo} tags`);
            const head = await a.registry.request('HEAD', `/v2/${repo}/manifests/1`);
            assert.ok(head.status === 401 || head.status === 403, `HEAD ${repo}:1: ${describeResponse(head)}`);
          }
          return;
        }
        case 'push': {
          const image = smallImage(`push-${id}`);
          const tag = `push-${id}`;
          if (may('push')) {
            await pushImage(a.registry, repo, tag, image);
            const back = await root.getManifest(repo, tag, image.mediaType);
            assertStatus(back, 200, `the pushed ${repo}:${tag}`);
            assert.equal(back.headers['docker-content-digest'], image.digest);
            return;
          }
          const layer = image.layers[0] ?? Buffer.alloc(0);
          assertV2Denied(await a.registry.postBlob(repo, layer), a, `a monolithic blob upload to ${repo}`);
          assertV2Denied(await a.registry.startUpload(repo), a, `opening an upload session in ${repo}`);
          // A manifest over blobs the repository already has: only authorization can refuse it.
          const over = buildManifest(seeds[project].config, seeds[project].layers, { annotations: { push: id } });
          assertV2Denied(await a.registry.putManifest(repo, tag, over.manifest, over.mediaType), a, `PUT ${repo}:${tag}`);
          // Nor can it write into somebody else's upload session.
          const session = await root.openUpload(repo);
          assertV2Denied(await a.registry.patchChunk(session, layer, 0), a, `PATCH of another's upload session in ${repo}`);
          assertV2Denied(await a.registry.finishUpload(session, digestOf(layer), layer), a, `PUT of another's upload session in ${repo}`);
          assertStatus(await root.headBlob(repo, digestOf(layer)), 404, 'the refused blob was not stored');
          assertStatus(await root.request('DELETE', session), 204, 'the admin cancels its session');
          assertStatus(await root.getManifest(repo, tag), 404, 'the refused tag does not exist');
          return;
        }
        case 'delete': {
          const image = smallImage(`delete-${id}`);
          await pushImage(root, repo, `delete-${id}`, image);
          const res = await a.registry.request('DELETE', `/v2/${repo}/manifests/${image.digest}`);
          if (may('delete')) {
            assertStatus(res, 202, `DELETE ${repo}@${image.digest}`);
            assertStatus(await root.getManifest(repo, image.digest), 404, 'the deleted manifest is gone');
          } else {
            assertV2Denied(res, a, `DELETE ${repo}@${image.digest}`);
            assertStatus(await root.getManifest(repo, image.digest), 200, 'the manifest is still there');
          }
          return;
        }
        case 'tag': {
          const tag = `tag-${id}`;
          const res = await a.registry.putManifest(repo, tag, seeds[project].manifest, seeds[project].mediaType);
          const back = await root.getManifest(repo, tag, seeds[project].mediaType);
          if (may('tag')) {
            assertStatus(res, 201, `PUT ${repo}:${tag} (an existing manifest)`);
            assertStatus(back, 200, `the new tag ${repo}:${tag}`);
            assert.equal(back.headers['docker-content-digest'], seeds[project].digest);
          } else {
            assertV2Denied(res, a, `PUT ${repo}:${tag} (an existing manifest)`);
            assertStatus(back, 404, 'the refused tag does not exist');
          }
          return;
        }
        case 'mount': {
          const source = otherThan(project);
          const layer = seeds[source].layers[0] ?? Buffer.alloc(0);
          const digest = digestOf(layer);
          const target = `${project}/mount-${id}`;
          const res = await a.registry.request('POST', `/v2/${target}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${source}/app`, {
            headers: { 'content-length': '0' },
          });
          if (!may('push')) {
            assertV2Denied(res, a, `mounting into ${target}`);
            assertStatus(await root.headBlob(target, digest), 404, 'nothing was mounted');
            return;
          }
          if (may('pull', source)) {
            assertStatus(res, 201, `mount ${digest} from ${source}/app into ${target}`);
            assert.equal(res.headers['docker-content-digest'], digest);
          } else {
            // No pull on the source: an ordinary upload session, and the push still succeeds.
            assertStatus(res, 202, `mount ${digest} from ${source}/app (not readable) into ${target}`);
            const location = res.headers['location'];
            assert.ok(location, `202 with a Location: ${describeResponse(res)}`);
            assertStatus(await a.registry.finishUpload(location, digest, layer), 201, 'uploading the blob instead');
          }
          const head = await root.headBlob(target, digest);
          assertStatus(head, 200, `the blob is in ${target}`);
          return;
        }
        case 'catalog': {
          const res = await a.registry.request('GET', '/v2/_catalog?n=1000');
          if (a.anonymous && res.status === 401) return; // requiring a login for the catalog is allowed too
          assertStatus(res, 200, 'GET /v2/_catalog');
          const repositories = res.json<{ repositories: string[] }>().repositories;
          assert.equal(repositories.includes(repo), may('pull'), `${repo} in the catalog of ${principal.label}: ${JSON.stringify(repositories)}`);
          return;
        }
        case 'manage bindings': {
          const probe = `probe-${id}`;
          const res = await http.api('POST', `/namespaces/${project}/rolebindings/registry-viewer/subjects`, a.api, { kind: 'User', name: probe });
          const binding = await http.api('GET', `/namespaces/${project}/rolebindings/registry-viewer`, admin.auth);
          assertStatus(binding, 200, `GET the registry-viewer binding of ${project}`);
          const subjects = binding.json<RoleBindingBody>().subjects.map((s) => `${s.kind}/${s.name}`);
          if (may('manage bindings')) {
            assertStatus(res, 201, `add User ${probe} to registry-viewer in ${project}`);
            assert.ok(res.json<RoleBindingBody>().subjects.some((s) => s.kind === 'User' && s.name === probe), describeResponse(res));
            assert.ok(subjects.includes(`User/${probe}`), JSON.stringify(subjects));
            await admin.unbind(project, 'registry-viewer', 'User', probe);
          } else {
            assertApiDenied(res, a, `adding a subject to registry-viewer in ${project}`);
            assert.ok(!subjects.includes(`User/${probe}`), `the refused subject was not added: ${JSON.stringify(subjects)}`);
          }
          return;
        }
      }
    });
  }

  // -------------------------------------------------------------------------
  // Beyond the matrix

  test('a request with Basic credentials straight to /v2 is decided by the bindings: allowed, or 403 DENIED', async () => {
    const viewer = new RegistryClient(server.url);
    try {
      const basic = { authorization: `Basic ${Buffer.from(`viewer:${PASSWORDS.viewer}`).toString('base64')}` };
      const got = await viewer.request('GET', '/v2/team/app/manifests/1', { headers: { ...basic, accept: seeds.team.mediaType } });
      assertStatus(got, 200, 'viewer GET team/app:1 with Basic');
      const other = await viewer.request('GET', '/v2/other/app/manifests/1', { headers: basic });
      assertStatus(other, 403, 'viewer GET other/app:1 with Basic');
      assert.ok(other.errorCodes().includes('DENIED'), describeResponse(other));
      const put = await viewer.request('PUT', '/v2/team/app/manifests/basic-tag', {
        headers: { ...basic, 'content-type': seeds.team.mediaType },
        body: seeds.team.manifest,
      });
      assertStatus(put, 403, 'viewer PUT team/app:basic-tag with Basic');
      assert.ok(put.errorCodes().includes('DENIED'), describeResponse(put));
      // A wrong password is a 401, not an anonymous request.
      const wrong = await viewer.request('GET', '/v2/team/app/manifests/1', {
        headers: { authorization: `Basic ${Buffer.from('viewer:not-the-password').toString('base64')}` },
      });
      assertStatus(wrong, 401, 'a wrong password on /v2');
    } finally {
      await viewer.close();
    }
  });

  test('the token endpoint grants the requested scope intersected with the bindings', async () => {
    type Claims = { sub: string; access: Array<{ type: string; name: string; actions: string[] }> };
    const ask = async (auth: Auth, scopes: string[]): Promise<Claims> => {
      const res = await http.registryToken(auth, scopes);
      assertStatus(res, 200, `GET /v2/token ${scopes.join(' ')}`);
      return jwtPayload<Claims>(res.json<{ token: string }>().token);
    };
    const actionsOn = (claims: Claims, name: string): string[] =>
      [...(claims.access.find((e) => e.type === 'repository' && e.name === name)?.actions ?? [])].sort();
    const all = ['repository:team/app:pull,push,delete', 'repository:other/app:pull,push,delete'];

    const viewer = await ask(basicAuth({ username: 'viewer', password: PASSWORDS.viewer }), all);
    assert.equal(viewer.sub, 'viewer');
    assert.deepEqual(actionsOn(viewer, 'team/app'), ['pull']);
    assert.deepEqual(actionsOn(viewer, 'other/app'), []);
    const editor = await ask(basicAuth({ username: 'editor', password: PASSWORDS.editor }), all);
    assert.deepEqual(actionsOn(editor, 'team/app'), ['pull', 'push']);
    const padmin = await ask(basicAuth({ username: 'padmin', password: PASSWORDS.padmin }), all);
    assert.deepEqual(actionsOn(padmin, 'team/app'), ['delete', 'pull', 'push']);
    assert.deepEqual(actionsOn(padmin, 'other/app'), []);
    const sa = await ask(basicAuth({ username: 'anything', password: saToken }), all);
    assert.equal(sa.sub, 'system:serviceaccount:team:ci');
    assert.deepEqual(actionsOn(sa, 'team/app'), ['pull', 'push']);
    const anonymous = await ask(ANONYMOUS_AUTH, all);
    assert.deepEqual(actionsOn(anonymous, 'team/app'), []);
    assert.deepEqual(actionsOn(anonymous, 'other/app'), []);

    // An anonymous token is no key: with it, team/app stays closed.
    const res = await http.registryToken(ANONYMOUS_AUTH, all);
    const token = res.json<{ token: string }>().token;
    const got = await http.request('GET', '/v2/team/app/manifests/1', { auth: { kind: 'bearer', token } });
    assertStatus(got, 401, 'GET team/app:1 with an anonymous token');
    assert.match(got.headers['www-authenticate'] ?? '', /error="insufficient_scope"/);
  });

  /** The whole catalog as the cluster admin sees it, and what each principal should see of it. */
  const catalogs = async (): Promise<Array<{ a: Actor; expected: string[]; all: string[] }>> => {
    const everything = await root.request('GET', '/v2/_catalog?n=1000');
    assertStatus(everything, 200, 'the cluster admin lists the catalog');
    const all = everything.json<{ repositories: string[] }>().repositories;
    assert.ok(all.includes('team/app') && all.includes('other/app'), JSON.stringify(all));
    assert.ok(all.length >= 5, `the matrix left repositories behind: ${JSON.stringify(all)}`);
    return PRINCIPALS.map((spec) => {
      const pullable = PROJECTS.filter((p) => spec.grants[p].includes('pull'));
      return { a: actor(spec.key), all, expected: all.filter((name) => pullable.some((p) => name.startsWith(`${p}/`))) };
    });
  };

  /** Every page of the catalog at `n` per page: the names, and the `last` of each Link followed. */
  const pagedCatalog = async (a: Actor, n: number, bound: number): Promise<{ names: string[]; links: Array<{ last: string; link: string }> }> => {
    const names: string[] = [];
    const links: Array<{ last: string; link: string }> = [];
    let next: string | undefined = `/v2/_catalog?n=${n}`;
    for (let pages = 0; next !== undefined; pages++) {
      assert.ok(pages <= bound, `paging of ${a.spec.label}'s catalog ends`);
      const page = await a.registry.request('GET', next);
      assertStatus(page, 200, `GET ${next} as ${a.spec.label}`);
      const got = page.json<{ repositories: string[] }>().repositories;
      assert.ok(got.length <= n, `a page of at most n=${n}: ${JSON.stringify(got)}`);
      names.push(...got);
      const link = page.headers['link'];
      next = link === undefined ? undefined : /<([^>]+)>/.exec(link)?.[1];
      if (link !== undefined && next !== undefined) links.push({ link, last: new URL(next, server.url).searchParams.get('last') ?? '' });
    }
    return { names, links };
  };

  test('_catalog lists exactly the repositories the caller may pull', async () => {
    for (const { a, expected } of await catalogs()) {
      const res = await a.registry.request('GET', '/v2/_catalog?n=1000');
      if (a.anonymous && res.status === 401) continue;
      assertStatus(res, 200, `the catalog of ${a.spec.label}`);
      assert.deepEqual(res.json<{ repositories: string[] }>().repositories, expected, `the catalog of ${a.spec.label}`);
    }
  });

  test('_catalog paged two at a time lists the same repositories', async () => {
    for (const { a, expected, all } of await catalogs()) {
      if (a.anonymous && (await a.registry.request('GET', '/v2/_catalog')).status === 401) continue;
      const { names } = await pagedCatalog(a, 2, all.length + 1);
      assert.deepEqual(names, expected, `the paged catalog of ${a.spec.label}`);
    }
  });

  test("_catalog paging links name no repository the caller may not pull", async () => {
    for (const { a, expected, all } of await catalogs()) {
      if (a.anonymous && (await a.registry.request('GET', '/v2/_catalog')).status === 401) continue;
      const { links } = await pagedCatalog(a, 2, all.length + 1);
      for (const { last, link } of links) {
        assert.ok(last === '' || expected.includes(last), `the Link of ${a.spec.label}'s catalog names ${JSON.stringify(last)}, which ${a.spec.label} may not pull: ${link}`);
      }
    }
  });

  test('a push into a new project creates it with the pusher as registry-admin, and nobody else gets in', async () => {
    const nobody = actor('nobody');
    const image = smallImage('self-provisioned');
    const project = 'nobody-proj';
    await pushImage(nobody.registry, `${project}/app`, '1', image);
    // Straight after the push, from another user who may create projects too (the project exists now).
    const viewer = actor('viewer');
    const stolen = await viewer.registry.getManifest(`${project}/app`, '1', image.mediaType);
    assertV2Denied(stolen, viewer, `viewer GET ${project}/app:1 right after nobody created ${project}`);
    const intruder = smallImage('intruder');
    assertV2Denied(await viewer.registry.postBlob(`${project}/app`, intruder.config), viewer, `viewer pushing into ${project} right after it was created`);

    const bindings = await http.api('GET', `/namespaces/${project}/rolebindings`, nobody.api);
    assertStatus(bindings, 200, `nobody lists the role bindings of ${project}`);
    const items = bindings.json<{ items: RoleBindingBody[] }>().items;
    const owner = items.find((b) => b.metadata.name === 'registry-admin');
    assert.ok(owner, `a registry-admin binding: ${bindings.text()}`);
    assert.deepEqual(owner.subjects, [{ kind: 'User', name: 'nobody' }]);
    assert.deepEqual(items.map((b) => b.metadata.name), ['registry-admin'], 'no other binding');
    const projectRes = await http.api('GET', `/projects/${project}`, nobody.api);
    assertStatus(projectRes, 200, `GET project ${project}`);
    const back = await nobody.registry.getManifest(`${project}/app`, '1', image.mediaType);
    assertStatus(back, 200, `nobody pulls ${project}/app:1`);
    assert.deepEqual(back.body, image.manifest);

    // Later on, still nothing for viewer.
    await new Promise((r) => setTimeout(r, 2500));
    assertV2Denied(await viewer.registry.getManifest(`${project}/app`, '1'), viewer, `viewer GET ${project}/app:1 later`);
  });

  test('a registry-admin manages its own project only, and cannot make itself more', async () => {
    const padmin = actor('padmin');
    const editor = actor('editor');
    const sa = actor('sa');
    const inTeam = await http.api('POST', '/namespaces/team/rolebindings/cluster-admin/subjects', padmin.api, { kind: 'User', name: 'padmin' });
    assertStatus(inTeam, 422, 'binding cluster-admin inside a project');
    assertApiDenied(await http.api('POST', '/clusterrolebindings/cluster-admin/subjects', padmin.api, { kind: 'User', name: 'padmin' }), padmin, 'a cluster binding');
    assertApiDenied(await http.api('POST', '/users', padmin.api, { metadata: { name: 'made-by-padmin' }, spec: { password: 'made-by-padmin-1' } }), padmin, 'creating a user');
    assertApiDenied(await http.api('POST', '/namespaces/other/serviceaccounts', padmin.api, { metadata: { name: 'sneaky' } }), padmin, 'a service account in other');
    assertApiDenied(await http.api('GET', '/namespaces/other/rolebindings', padmin.api), padmin, 'viewing the bindings of other');
    // In its own project it manages service accounts and their tokens; an editor does not.
    assertStatus(await http.api('POST', '/namespaces/team/serviceaccounts', padmin.api, { metadata: { name: 'deployer' } }), 201, 'padmin creates a service account');
    assertStatus(await http.api('POST', '/namespaces/team/serviceaccounts/deployer/tokens', padmin.api, {}), 201, 'padmin creates a token');
    assertApiDenied(await http.api('POST', '/namespaces/team/serviceaccounts/ci/tokens', editor.api, {}), editor, 'an editor creating a token');
    assertApiDenied(await http.api('POST', '/namespaces/team/serviceaccounts/ci/tokens', sa.api, {}), sa, 'a service account minting tokens for itself');
    assertApiDenied(await http.api('DELETE', '/projects/team', editor.api), editor, 'an editor deleting the project');
    assertApiDenied(await http.api('DELETE', '/projects/other', padmin.api), padmin, 'padmin deleting other');
    assertStatus(await http.api('GET', '/projects/other', admin.auth), 200, 'other is still there');
  });

  test('a service account cannot create a project by pushing', async () => {
    const sa = actor('sa');
    const res = await sa.registry.postBlob('ci-made/app', Buffer.from('service accounts own no projects'));
    assertV2Denied(res, sa, 'a service account pushing into a new project');
    const project = await http.api('GET', '/projects/ci-made', admin.auth);
    assertStatus(project, 404, 'the project was not created');
  });

  test('an anonymous push into a new project is refused and says to log in', async () => {
    const anonymous = actor('anonymous');
    const res = await anonymous.registry.postBlob('anon-made/app', Buffer.from('anonymous'));
    assertV2Denied(res, anonymous, 'an anonymous push into a new project');
    assertStatus(await http.api('GET', '/projects/anon-made', admin.auth), 404, 'the project was not created');
  });
});

describe('push into a new project with self-provisioning off', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  let nobody: RegistryClient;
  let root: RegistryClient;
  const password = 'nobody-e2e-Secret-2';

  before(async () => {
    server = await startBerth({ insecureHttp: true, env: { BERTH_AUTH__SELF_PROVISIONING: 'false' } });
    assert.ok(server.credentials);
    http = new HttpClient(server.url);
    await new AccessAdmin(http, basicAuth(server.credentials)).createUser('nobody', password);
    nobody = new RegistryClient(server.url, undefined, { credentials: { username: 'nobody', password } });
    root = new RegistryClient(server.url, undefined, { credentials: server.credentials });
  });

  after(async () => {
    await nobody?.close();
    await root?.close();
    await http?.close();
    await server?.stop();
  });

  test('the push is refused with a message saying the project does not exist and the user may not create projects', async () => {
    const image = smallImage('no-self-provisioning');
    const checkMessage = (res: HttpResponse, what: string): void => {
      const message = JSON.parse(res.text()) as { errors?: Array<{ message?: string }> };
      const text = message.errors?.map((e) => e.message ?? '').join(' ') ?? '';
      assert.match(text, /does not exist/, `${what}: ${describeResponse(res)}`);
      assert.match(text, /nobody/, `${what}: ${describeResponse(res)}`);
      assert.match(text, /may not create projects/, `${what}: ${describeResponse(res)}`);
    };
    const viaToken = await nobody.postBlob('newproj/app', image.config);
    assert.ok(viaToken.status === 401 || viaToken.status === 403, describeResponse(viaToken));
    checkMessage(viaToken, 'token flow');
    const viaBasic = await http.request('POST', '/v2/newproj/app/blobs/uploads/', {
      auth: { kind: 'basic', username: 'nobody', password },
      headers: { 'content-length': '0' },
    });
    assertStatus(viaBasic, 403, 'Basic push into a missing project');
    checkMessage(viaBasic, 'Basic');
    assertStatus(await http.api('GET', '/projects/newproj', basicAuth(server.credentials ?? { username: '', password: '' })), 404, 'no project was created');
    const create = await http.api('POST', '/projects', { kind: 'basic', username: 'nobody', password }, { metadata: { name: 'newproj' } });
    assertStatus(create, 403, 'creating the project through the API');
  });

  test('the cluster admin still creates a project by pushing', async () => {
    const image = smallImage('admin-push');
    await pushImage(root, 'adminproj/app', '1', image);
    const bindings = await http.api('GET', '/namespaces/adminproj/rolebindings', basicAuth(server.credentials ?? { username: '', password: '' }));
    assertStatus(bindings, 200, 'the bindings of adminproj');
    const owner = bindings.json<{ items: RoleBindingBody[] }>().items.find((b) => b.metadata.name === 'registry-admin');
    assert.deepEqual(owner?.subjects, [{ kind: 'User', name: server.credentials?.username }]);
  });
});

describe('push into a new project with auth.createProjectOnPush off', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  let nobody: RegistryClient;
  let root: RegistryClient;
  let adminAuth: Auth;
  const password = 'nobody-e2e-Secret-3';
  const nobodyAuth: Auth = { kind: 'basic', username: 'nobody', password };

  before(async () => {
    server = await startBerth({ insecureHttp: true, env: { BERTH_AUTH__CREATE_PROJECT_ON_PUSH: 'false' } });
    assert.ok(server.credentials);
    adminAuth = basicAuth(server.credentials);
    http = new HttpClient(server.url);
    await new AccessAdmin(http, adminAuth).createUser('nobody', password);
    nobody = new RegistryClient(server.url, undefined, { credentials: { username: 'nobody', password } });
    root = new RegistryClient(server.url, undefined, { credentials: server.credentials });
  });

  after(async () => {
    await nobody?.close();
    await root?.close();
    await http?.close();
    await server?.stop();
  });

  /** The refusal names the switch (not "may not create projects", which the API would contradict). */
  const assertSwitchRefusal = (res: HttpResponse, project: string, what: string): void => {
    assert.ok(res.status === 401 || res.status === 403, `${what}: ${describeResponse(res)}`);
    const text = (JSON.parse(res.text()) as { errors?: Array<{ message?: string }> }).errors?.map((e) => e.message ?? '').join(' ') ?? '';
    assert.match(text, new RegExp(`project ${project} does not exist|project "${project}" does not exist`), `${what}: ${describeResponse(res)}`);
    assert.match(text, /creating projects by pushing is turned off/, `${what}: ${describeResponse(res)}`);
    assert.doesNotMatch(text, /may not create projects/, `${what}: ${describeResponse(res)}`);
  };

  test('a user who may create projects is refused with a message that says creation on push is off', async () => {
    const image = smallImage('push-off-user');
    assertSwitchRefusal(await nobody.postBlob('userproj/app', image.config), 'userproj', 'token flow');
    const viaBasic = await http.request('POST', '/v2/userproj/app/blobs/uploads/', { auth: nobodyAuth, headers: { 'content-length': '0' } });
    assertStatus(viaBasic, 403, 'Basic push into a missing project');
    assertSwitchRefusal(viaBasic, 'userproj', 'Basic');
    assertStatus(await http.api('GET', '/projects/userproj', adminAuth), 404, 'no project was created');
  });

  test("the cluster admin's push is refused too, and creates nothing", async () => {
    const image = smallImage('push-off-admin');
    const res = await root.postBlob('adminproj/app', image.config);
    assertStatus(res, 403, 'the cluster admin pushing into a missing project');
    assert.ok(res.errorCodes().includes('DENIED'), describeResponse(res));
    assertSwitchRefusal(res, 'adminproj', 'cluster admin, token flow');
    const viaBasic = await http.request('POST', '/v2/adminproj/app/blobs/uploads/', { auth: adminAuth, headers: { 'content-length': '0' } });
    assertSwitchRefusal(viaBasic, 'adminproj', 'cluster admin, Basic');
    assertStatus(await http.api('GET', '/projects/adminproj', adminAuth), 404, 'no project was created');
  });

  test('a project created through the API first takes the push', async () => {
    assertStatus(await http.api('POST', '/projects', nobodyAuth, { metadata: { name: 'userproj' } }), 201, 'nobody creates userproj through the API');
    const image = smallImage('push-off-after-create');
    // A fresh client: the first one caches the token it got while the project was missing (no push in it).
    const again = new RegistryClient(server.url, undefined, { credentials: { username: 'nobody', password } });
    try {
      await pushImage(again, 'userproj/app', '1', image);
      const back = await again.getManifest('userproj/app', '1', image.mediaType);
      assertStatus(back, 200, 'nobody pulls userproj/app:1');
    } finally {
      await again.close();
    }
    await pushImage(root, 'userproj/admin-app', '1', smallImage('push-off-admin-after-create'));
  });
});

/** A `denied` line of Berth's log, as logDenial writes it. */
interface DenialLine {
  msg: 'denied';
  surface: string;
  user: string;
  address: string;
  verb: string;
  resource?: string;
  reason: string;
}

/** Waits for a denial line matching `expected` (every given field equal, `reason` a pattern). */
async function waitForDenial(server: BerthServer, expected: Partial<Omit<DenialLine, 'reason'>> & { reason?: RegExp }): Promise<DenialLine> {
  const { reason, ...fields } = expected;
  const line = await server.waitForLog((text) => {
    if (!text.startsWith('{')) return false;
    const entry = JSON.parse(text) as Partial<DenialLine>;
    if (entry.msg !== 'denied') return false;
    if (reason !== undefined && !reason.test(entry.reason ?? '')) return false;
    return Object.entries(fields).every(([key, value]) => (entry as Record<string, unknown>)[key] === value);
  });
  return JSON.parse(line) as DenialLine;
}

describe('every denial is logged with who, what and why', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  let adminAuth: Auth;
  const password = 'nobody-e2e-Secret-4';
  const nobody: Credentials = { username: 'nobody', password };
  const wrong: Auth = { kind: 'basic', username: 'nobody', password: 'not-the-password' };

  before(async () => {
    server = await startBerth({ insecureHttp: true });
    assert.ok(server.credentials);
    adminAuth = basicAuth(server.credentials);
    http = new HttpClient(server.url);
    const admin = new AccessAdmin(http, adminAuth);
    await admin.createUser('nobody', password);
    await admin.createProject('team');
  });

  after(async () => {
    await http?.close();
    await server?.stop();
  });

  test('a wrong password on /v2 names the user, the address and the reason', async () => {
    assertStatus(await http.request('GET', '/v2/', { auth: wrong }), 401, 'GET /v2/ with a wrong password');
    const line = await waitForDenial(server, { surface: 'v2', user: 'nobody', verb: 'login' });
    assert.equal(line.address, '127.0.0.1');
    assert.match(line.reason, /invalid-credentials/);
    assert.equal(line.resource, '/v2/');
    assert.doesNotMatch(JSON.stringify(line), /not-the-password/, 'the password is never logged');
  });

  test('a wrong password at the token endpoint (GET with Basic, and the OAuth2 form POST) names the user', async () => {
    assertStatus(await http.registryToken(wrong, ['repository:team/app:pull']), 401, 'GET /v2/token with a wrong password');
    const get = await waitForDenial(server, { surface: 'token', user: 'nobody', verb: 'login', resource: 'repository:team/app:pull' });
    assert.match(get.reason, /invalid-credentials/);
    const form = new URLSearchParams({ grant_type: 'password', service: 'berth', client_id: 'e2e', username: 'nobody', password: 'still-wrong', scope: 'repository:team/form:pull' });
    const post = await http.request('POST', '/v2/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
    assertStatus(post, 401, 'POST /v2/token grant_type=password with a wrong password');
    await waitForDenial(server, { surface: 'token', user: 'nobody', verb: 'login', resource: 'repository:team/form:pull' });
  });

  test('a wrong password on /apis is logged', async () => {
    assertStatus(await http.api('GET', '/projects', wrong), 401, 'GET /projects with a wrong password');
    const line = await waitForDenial(server, { surface: 'apis', user: 'nobody', verb: 'login', resource: 'GET /apis/berth.dev/v1/projects' });
    assert.match(line.reason, /invalid-credentials/);
  });

  test('a denied push is logged with the narrowed scope at the token endpoint and the refusal at /v2', async () => {
    const client = new RegistryClient(server.url, undefined, { credentials: nobody });
    try {
      const res = await client.postBlob('team/app', Buffer.from('nobody may not push here'));
      assertStatus(res, 401, 'nobody pushing into team with a token');
    } finally {
      await client.close();
    }
    const narrowed = await waitForDenial(server, { surface: 'token', user: 'nobody', verb: 'token', reason: /scope narrowed/ });
    assert.match(narrowed.resource ?? '', /^repository:team\/app:pull,push\b/);
    const push = await waitForDenial(server, { surface: 'v2', user: 'nobody', verb: 'push', resource: 'team/app' });
    assert.match(push.reason, /nobody may not push team\/app/);
    assert.equal(push.address, '127.0.0.1');
    const viaBasic = await http.request('POST', '/v2/team/basic/blobs/uploads/', { auth: basicAuth(nobody), headers: { 'content-length': '0' } });
    assertStatus(viaBasic, 403, 'a Basic push into team');
    await waitForDenial(server, { surface: 'v2', user: 'nobody', verb: 'push', resource: 'team/basic', reason: /may not push/ });
  });

  test('an /apis request the authorizer refuses is logged with its verb, project and reason', async () => {
    assertStatus(await http.api('GET', '/namespaces/team/rolebindings', basicAuth(nobody)), 403, 'nobody lists the bindings of team');
    const line = await waitForDenial(server, { surface: 'apis', user: 'nobody', verb: 'view', resource: 'project/team' });
    assert.match(line.reason, /user "nobody" may not/);
    assertStatus(await http.api('GET', '/users', ANONYMOUS_AUTH), 401, 'anonymous lists users');
    await waitForDenial(server, { surface: 'apis', user: 'system:anonymous', verb: 'manage-users', reason: /authentication required/ });
  });
});

describe('failed logins are rate-limited per client address', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  const MAX = 4;

  before(async () => {
    server = await startBerth({ insecureHttp: true, env: { BERTH_AUTH__MAX_LOGIN_FAILURES: String(MAX) } });
    assert.ok(server.credentials);
    http = new HttpClient(server.url);
    await new AccessAdmin(http, basicAuth(server.credentials)).createUser('innocent', 'innocent-e2e-Secret-1');
  });

  after(async () => {
    await http?.close();
    await server?.stop();
  });

  test('bad passwords for many different users from one address lock that address out, right passwords too', async () => {
    // Every name differs, so no per-user window fills: only the address's does.
    for (let i = 0; i < MAX; i++) {
      const res = await http.request('GET', '/v2/', { auth: { kind: 'basic', username: `guess${i}`, password: 'wrong-password' } });
      assertStatus(res, 401, `bad password #${i + 1} (user guess${i})`);
    }
    const locked = await http.request('GET', '/v2/', { auth: { kind: 'basic', username: 'innocent', password: 'innocent-e2e-Secret-1' } });
    assertStatus(locked, 429, 'a right password from the locked address');
    assert.ok(Number(locked.headers['retry-after']) > 0, describeResponse(locked));
    assert.ok(locked.errorCodes().includes('TOOMANYREQUESTS'), describeResponse(locked));
    const token = await http.registryToken({ kind: 'basic', username: 'innocent', password: 'innocent-e2e-Secret-1' }, []);
    assertStatus(token, 429, 'the token endpoint from the locked address');
    const api = await http.api('GET', '/projects', { kind: 'basic', username: 'innocent', password: 'innocent-e2e-Secret-1' });
    assertStatus(api, 429, '/apis from the locked address');
    assert.equal(api.json<StatusBody>().reason, 'TooManyRequests');
    const line = await waitForDenial(server, { surface: 'v2', user: 'innocent', verb: 'login', reason: /rate-limited/ });
    assert.equal(line.address, '127.0.0.1');
  });
});

describe('the OAuth2 flows of /v2/token that docker and podman use for refresh tokens', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  const viewer: Credentials = { username: 'viewer', password: 'viewer-e2e-Secret-5' };
  const image = smallImage('oauth2-form');

  interface TokenAnswer {
    token: string;
    access_token: string;
    expires_in: number;
    refresh_token?: string;
  }

  const form = (fields: Record<string, string>): Promise<HttpResponse> =>
    http.request('POST', '/v2/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ service: 'berth', ...fields }).toString() });
  const pullWith = (token: string): Promise<HttpResponse> =>
    http.request('GET', '/v2/team/app/manifests/1', { auth: { kind: 'bearer', token }, headers: { accept: image.mediaType } });
  const actionsOf = (token: string, repository: string): string[] =>
    jwtPayload<{ access: Array<{ type: string; name: string; actions: string[] }> }>(token).access.find((a) => a.type === 'repository' && a.name === repository)?.actions ?? [];

  before(async () => {
    server = await startBerth({ insecureHttp: true });
    assert.ok(server.credentials);
    http = new HttpClient(server.url);
    const admin = new AccessAdmin(http, basicAuth(server.credentials));
    await admin.createUser(viewer.username, viewer.password);
    await admin.createProject('team');
    await admin.bind('team', 'registry-viewer', { kind: 'User', name: viewer.username });
    const root = new RegistryClient(server.url, undefined, { credentials: server.credentials });
    try {
      await pushImage(root, 'team/app', '1', image);
    } finally {
      await root.close();
    }
  });

  after(async () => {
    await http?.close();
    await server?.stop();
  });

  test('grant_type=password issues a registry token, and a refresh token only with access_type=offline', async () => {
    const plain = await form({ grant_type: 'password', client_id: 'podman', username: viewer.username, password: viewer.password, scope: 'repository:team/app:pull' });
    assertStatus(plain, 200, 'grant_type=password');
    const answer = plain.json<TokenAnswer>();
    assert.equal(answer.refresh_token, undefined, 'no refresh token unless asked for');
    assert.equal(answer.access_token, answer.token);
    assert.equal(jwtPayload<{ sub: string }>(answer.token).sub, viewer.username);
    assert.deepEqual(actionsOf(answer.token, 'team/app'), ['pull']);
    assertStatus(await pullWith(answer.token), 200, 'pull with the form-issued token');

    const offline = await form({ grant_type: 'password', client_id: 'podman', access_type: 'offline', username: viewer.username, password: viewer.password, scope: 'repository:team/app:pull,push' });
    assertStatus(offline, 200, 'grant_type=password, access_type=offline');
    const withRefresh = offline.json<TokenAnswer>();
    assert.match(withRefresh.refresh_token ?? '', /^berth_rt_/);
    assert.deepEqual(actionsOf(withRefresh.token, 'team/app'), ['pull'], 'push is narrowed away for a viewer');
  });

  test('a wrong password in the form is 401 UNAUTHORIZED, and a missing grant_type is 400', async () => {
    const res = await form({ grant_type: 'password', client_id: 'podman', username: viewer.username, password: 'wrong-password', scope: 'repository:team/app:pull' });
    assertStatus(res, 401, 'grant_type=password with a wrong password');
    assert.ok(res.errorCodes().includes('UNAUTHORIZED'), describeResponse(res));
    assert.equal(res.json<{ token?: string }>().token, undefined);
    const unknownUser = await form({ grant_type: 'password', client_id: 'podman', username: 'nobody-at-all', password: 'wrong-password' });
    assertStatus(unknownUser, 401, 'grant_type=password for an unknown user');
    assertStatus(await form({ client_id: 'podman', username: viewer.username, password: viewer.password }), 400, 'no grant_type');
    assertStatus(await form({ grant_type: 'client_credentials', client_id: 'podman' }), 400, 'an unsupported grant_type');
  });

  test('grant_type=refresh_token rotates the refresh token; reusing a rotated one is refused and ends the whole login', async () => {
    const login = await form({ grant_type: 'password', client_id: 'podman', access_type: 'offline', username: viewer.username, password: viewer.password });
    assertStatus(login, 200, 'login with access_type=offline');
    const first = login.json<TokenAnswer>().refresh_token ?? '';
    assert.match(first, /^berth_rt_/);

    const refreshed = await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: first, scope: 'repository:team/app:pull' });
    assertStatus(refreshed, 200, 'grant_type=refresh_token');
    const answer = refreshed.json<TokenAnswer>();
    const second = answer.refresh_token ?? '';
    assert.match(second, /^berth_rt_/);
    assert.notEqual(second, first, 'the refresh token rotates');
    assert.equal(jwtPayload<{ sub: string }>(answer.token).sub, viewer.username);
    assert.deepEqual(actionsOf(answer.token, 'team/app'), ['pull']);
    assertStatus(await pullWith(answer.token), 200, 'pull with the refreshed token');

    const reused = await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: first, scope: 'repository:team/app:pull' });
    assertStatus(reused, 401, 'reusing a rotated refresh token');
    assert.ok(reused.errorCodes().includes('UNAUTHORIZED'), describeResponse(reused));
    const afterReuse = await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: second });
    assertStatus(afterReuse, 401, 'the newest refresh token of a login whose old token was replayed');
    await waitForDenial(server, { surface: 'token', verb: 'login', reason: /refresh token refused/ });
  });

  test('a refresh token is bound to its client, and junk is refused', async () => {
    const login = await form({ grant_type: 'password', client_id: 'podman', access_type: 'offline', username: viewer.username, password: viewer.password });
    const token = login.json<TokenAnswer>().refresh_token ?? '';
    assertStatus(await form({ grant_type: 'refresh_token', client_id: 'docker', refresh_token: token }), 401, 'a refresh token of podman presented by docker');
    assertStatus(await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: 'berth_rt_not-a-real-token' }), 401, 'an unknown refresh token');
    assertStatus(await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: '' }), 401, 'an empty refresh token');
    assertStatus(await form({ grant_type: 'refresh_token', client_id: 'podman', refresh_token: token }), 200, 'the same token with its own client still works');
  });

  test('GET with Basic and offline_token=true returns a refresh token that the form POST accepts', async () => {
    const query = new URLSearchParams({ service: 'berth', scope: 'repository:team/app:pull', offline_token: 'true', client_id: 'docker' });
    const got = await http.request('GET', `/v2/token?${query.toString()}`, { auth: basicAuth(viewer) });
    assertStatus(got, 200, 'GET /v2/token with offline_token=true');
    const answer = got.json<TokenAnswer>();
    const refresh = answer.refresh_token ?? '';
    assert.match(refresh, /^berth_rt_/);
    assertStatus(await pullWith(answer.token), 200, 'pull with the GET token');
    const exchanged = await form({ grant_type: 'refresh_token', client_id: 'docker', refresh_token: refresh, scope: 'repository:team/app:pull' });
    assertStatus(exchanged, 200, 'exchanging the offline token');
    assertStatus(await pullWith(exchanged.json<TokenAnswer>().token), 200, 'pull with the token the refresh token bought');

    const withoutOffline = await http.request('GET', `/v2/token?${new URLSearchParams({ service: 'berth', scope: 'repository:team/app:pull' }).toString()}`, { auth: basicAuth(viewer) });
    assert.equal(withoutOffline.json<TokenAnswer>().refresh_token, undefined, 'no refresh token without offline_token=true');
    const anonymous = await http.request('GET', `/v2/token?${query.toString()}`);
    assertStatus(anonymous, 200, 'an anonymous GET with offline_token=true');
    assert.equal(anonymous.json<TokenAnswer>().refresh_token, undefined, 'nobody gets no refresh token');
  });
});

describe('deleting removes what hangs on the deleted: a project its repositories and streams, a user or group its bindings', { concurrency: false, timeout: 120_000 }, () => {
  let server: BerthServer;
  let http: HttpClient;
  let root: RegistryClient;
  let adminAuth: Auth;

  before(async () => {
    server = await startBerth({ insecureHttp: true });
    assert.ok(server.credentials);
    adminAuth = basicAuth(server.credentials);
    http = new HttpClient(server.url);
    root = new RegistryClient(server.url, undefined, { credentials: server.credentials });
  });

  after(async () => {
    await root?.close();
    await http?.close();
    await server?.stop();
  });

  test('push, delete the project: the pull is NAME_UNKNOWN, and the stream is gone, also from a new project of the same name', async () => {
    const image = smallImage('doomed');
    await new AccessAdmin(http, adminAuth).createProject('doomed');
    await pushImage(root, 'doomed/app', '1', image);
    await pushImage(root, 'doomed/nested/tool', 'v2', smallImage('doomed-nested'));
    assertStatus(await root.getManifest('doomed/app', '1', image.mediaType), 200, 'the pull before the delete');
    assertStatus(await http.api('GET', '/namespaces/doomed/imagestreams/app', adminAuth), 200, 'the stream the push created');
    const streams = await http.api('GET', '/namespaces/doomed/imagestreams', adminAuth);
    assertStatus(streams, 200, 'the streams of doomed');
    assert.deepEqual(streams.json<{ items: Array<{ metadata: { name: string } }> }>().items.map((i) => i.metadata.name).sort(), ['app', 'nested/tool']);

    assertStatus(await http.api('DELETE', '/projects/doomed', adminAuth), 200, 'DELETE /projects/doomed');

    // A manifest GET answers MANIFEST_UNKNOWN for any reference it cannot find (the registry does not
    // tell unknown repositories apart there); the tag list says whether the repository itself is known.
    for (const [repository, reference] of [['doomed/app', '1'], ['doomed/nested/tool', 'v2']] as const) {
      const pulled = await root.getManifest(repository, reference, image.mediaType);
      assertStatus(pulled, 404, `the pull of ${repository}:${reference} after the delete`);
      assert.ok(pulled.errorCodes().some((c) => c === 'NAME_UNKNOWN' || c === 'MANIFEST_UNKNOWN'), describeResponse(pulled));
      const tags = await root.request('GET', `/v2/${repository}/tags/list`);
      assertStatus(tags, 404, `the tags of ${repository} after the delete`);
      assert.ok(tags.errorCodes().includes('NAME_UNKNOWN'), describeResponse(tags));
    }
    const blob = await root.headBlob('doomed/app', digestOf(image.config));
    assertStatus(blob, 404, 'the config blob through the deleted repository');
    const catalog = await root.request('GET', '/v2/_catalog');
    assert.deepEqual(catalog.json<{ repositories: string[] }>().repositories.filter((r) => r.startsWith('doomed/')), [], 'no doomed/ repository in the catalog');
    assertStatus(await http.api('GET', '/namespaces/doomed/imagestreams/app', adminAuth), 404, 'the stream after the delete');
    assertStatus(await http.api('GET', '/projects/doomed', adminAuth), 404, 'the project after the delete');

    // A new project of the same name starts empty: nothing of the old one was only hidden.
    await new AccessAdmin(http, adminAuth).createProject('doomed');
    const empty = await http.api('GET', '/namespaces/doomed/imagestreams', adminAuth);
    assertStatus(empty, 200, 'the streams of the new doomed');
    assert.deepEqual(empty.json<{ items: unknown[] }>().items, []);
    assertStatus(await http.api('GET', '/namespaces/doomed/imagestreams/app', adminAuth), 404, 'no stream app in the new doomed');
    assertStatus(await root.getManifest('doomed/app', '1', image.mediaType), 404, 'the old image is not pullable from the new doomed');
    assertStatus(await root.getManifest('doomed/app', image.digest, image.mediaType), 404, 'nor by digest');
    const tags = await root.request('GET', '/v2/doomed/app/tags/list');
    assert.ok(tags.status === 404 && tags.errorCodes().includes('NAME_UNKNOWN'), `the tags of doomed/app in the new doomed: ${describeResponse(tags)}`);
  });

  test('a deleted user or group loses its role bindings: a new one of the same name has no roles', async () => {
    const admin = new AccessAdmin(http, adminAuth);
    await admin.createProject('kept');
    await pushImage(root, 'kept/app', '1', smallImage('kept'));
    const password = 'temp-e2e-Secret-1';
    await admin.createUser('temp', password);
    await admin.bind('kept', 'registry-editor', { kind: 'User', name: 'temp' });
    assertStatus(await http.api('POST', '/groups', adminAuth, { metadata: { name: 'crew' } }), 201, 'create group crew');
    await admin.bind('kept', 'registry-viewer', { kind: 'Group', name: 'crew' });
    const pull = (auth: Auth): Promise<HttpResponse> => http.request('GET', '/v2/kept/app/manifests/1', { auth, headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
    assertStatus(await pull({ kind: 'basic', username: 'temp', password }), 200, 'temp pulls while bound');

    assertStatus(await http.api('DELETE', '/users/temp', adminAuth), 200, 'delete user temp');
    assertStatus(await http.api('DELETE', '/groups/crew', adminAuth), 200, 'delete group crew');
    const subjects = (await admin.roleBindings('kept')).flatMap((b) => b.subjects.map((x) => `${x.kind}/${x.name}`));
    assert.deepEqual(subjects.filter((x) => x === 'User/temp' || x === 'Group/crew'), [], `no binding names temp or crew: ${JSON.stringify(subjects)}`);

    await admin.createUser('temp', 'temp-e2e-Secret-2');
    assertStatus(await http.api('POST', '/groups', adminAuth, { metadata: { name: 'crew' } }), 201, 'create group crew again');
    assertStatus(await http.api('POST', '/groups/crew/members', adminAuth, { name: 'temp' }), 201, 'the new temp joins the new crew');
    const newTemp: Auth = { kind: 'basic', username: 'temp', password: 'temp-e2e-Secret-2' };
    assertStatus(await pull(newTemp), 403, 'the new temp (in the new crew) may not pull');
    const push = await http.request('POST', '/v2/kept/app/blobs/uploads/', { auth: newTemp, headers: { 'content-length': '0' } });
    assertStatus(push, 403, 'the new temp may not push');
  });
});
