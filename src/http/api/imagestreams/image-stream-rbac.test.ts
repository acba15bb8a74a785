/**
 * RBAC on every image-stream route, as one table: route × caller → the
 * status the API must answer. Through the real resource API plugin, the
 * real RbacAuthorizer and Authenticator, with real credentials: OAuth
 * access tokens (`berth_at_…`, what `berth login` stores) for the users, a
 * service-account token (`berth_sa_…`) minted through the API, a password
 * for the cluster admin, and no credentials at all for the anonymous caller.
 * The importer and the pull-secret store are the real ones too (the import
 * target is a closed port, so an allowed import answers 200 with the failure
 * in `importResult`).
 *
 * Callers, in project `team`: a user who is registry-admin of another
 * project only (an outsider here), registry-viewer, registry-editor,
 * registry-admin, a service account bound registry-editor, and the cluster
 * admin. What each role may do is written out below by hand, not derived
 * from roles.ts, so that a change there that loosens a route fails here.
 *
 * Every refusal must be a Kubernetes Status (401 with a Bearer challenge for
 * the anonymous caller, 403 naming the caller for anyone else), and must
 * leave no trace: each row observes the state it would change before and
 * after a refused call. Every allowed call must succeed and do its work.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { OAuthTokenService } from '../../../identity/oauth-token-service.ts';
import { SecretBox } from '../../../identity/secret-box.ts';
import { ImageStreamImporter } from '../../../imagestreams/image-importer.ts';
import { PullSecretService } from '../../../imagestreams/pull-secrets.ts';
import { openRegistryFixture, PULL_SPEC_HOST, type PushedImage, type RegistryFixture } from '../../../imagestreams/registry-fixture.ts';
import { RemoteRegistryClient } from '../../../remote/remote-client.ts';
import { ok, startImageStreamApi, V1, type Answer, type ImageStreamApi, type Json, type Method } from '../../../../test/support/imagestream-api.ts';

const P = 'team';

/** The callers, in the order the table lists them. */
const CALLERS = ['anonymous', 'outsider', 'viewer', 'editor', 'serviceaccount', 'admin', 'clusteradmin'] as const;
type Caller = (typeof CALLERS)[number];

/** What a route needs, in the words of docs/api.md ("With the project roles: …"). */
type Need = 'read' | 'write' | 'delete' | 'secrets';

/** Written out by hand: registry-viewer reads; registry-editor also writes; registry-admin also deletes (and prunes history) and manages pull secrets. */
const MAY: Record<Caller, readonly Need[]> = {
  anonymous: [],
  outsider: [],
  viewer: ['read'],
  editor: ['read', 'write'],
  serviceaccount: ['read', 'write'],
  admin: ['read', 'write', 'delete', 'secrets'],
  clusteradmin: ['read', 'write', 'delete', 'secrets'],
};

/** The status of a refusal: 401 for the anonymous caller, 403 for anyone else. */
const refused = (caller: Caller): number => (caller === 'anonymous' ? 401 : 403);

interface Call {
  readonly method: Method;
  readonly path: string;
  readonly body?: unknown;
}

interface Row<C> {
  /** The route as Fastify knows it (`GET /namespaces/:p/imagestreams/:name`), plus what the row is about when routes repeat. */
  readonly route: string;
  /** Status per caller (refusals included). */
  readonly expect: Record<Caller, number>;
  /** Makes what one call needs; `key` is unique per call. */
  readonly prepare: (key: string) => Promise<C>;
  readonly call: (context: C) => Call;
  /** The state the call would change (compared before and after a refusal). */
  readonly observe: (context: C) => Promise<unknown>;
  /** Checks an allowed call's answer and effect. */
  readonly verify: (context: C, body: Json) => Promise<void>;
}

/** Expected statuses of a route that needs `need` and answers `success` when allowed. */
function by(need: Need, success: number, overrides: Partial<Record<Caller, number>> = {}): Record<Caller, number> {
  const out = {} as Record<Caller, number>;
  for (const caller of CALLERS) out[caller] = overrides[caller] ?? (MAY[caller].includes(need) ? success : refused(caller));
  return out;
}

let f: RegistryFixture;
let api: ImageStreamApi;
let app: FastifyInstance;
let secrets: PullSecretService;
const auth = {} as Record<Caller, string | undefined>;
let first: PushedImage;
let second: PushedImage;
let closedPort: number;
/** Every route the plugin mounted, as `METHOD /url` below /apis/berth.dev/v1. */
const mounted: string[] = [];

const request = (call: Call, authorization: string | undefined): Promise<Answer> => api.call(call.method, call.path, { auth: authorization, body: call.body });

const asAdmin = (call: Call) => request(call, auth.clusteradmin);

/** Items (generation, image) of a tag's whole history, read from the store. */
async function history(stream: string, tag: string): Promise<[number, string][]> {
  return (await f.metadata.imageStreams.listTagItems(P, stream, tag, { limit: 1000 })).map((i) => [i.generation, i.imageDigest]);
}

/** A stream's record and its tags' current items: every write to the stream changes it. */
async function streamState(name: string): Promise<unknown> {
  const stream = await f.metadata.imageStreams.getStream(P, name);
  if (stream === undefined) return undefined;
  const tags = await f.metadata.imageStreams.listTags(P, name, { limit: 1000 });
  return { stream, tags: tags.map((t) => [t.tag, t.current.generation, t.current.imageDigest]) };
}

/** The digest /v2 serves for `team/<stream>:v1`, if any. */
const v2Tag = (stream: string): Promise<string | undefined> => f.metadata.tags.getTag(`${P}/${stream}`, 'v1');

const secretNames = async (): Promise<string[]> => (await secrets.list(P)).map((s) => s.name).sort();

/** Pushes `team/<stream>:<tag>` twice (history: second, first). */
async function pushTwice(stream: string, tag = 'v1'): Promise<void> {
  await f.pushImage(`${P}/${stream}`, tag, { layerSizes: [64] });
  await f.pushImage(`${P}/${stream}`, tag, { layerSizes: [65] });
}

const AUTH_JSON = JSON.stringify({ auths: { 'registry.example.com': { auth: Buffer.from('robot:pass').toString('base64') } } });

/** A read of the shared stream `app`: needs view, changes nothing. */
function readRow(route: string, call: () => Call, check: (body: Json) => void, expect = by('read', 200)): Row<unknown> {
  return row<undefined>({ route, expect, prepare: async () => undefined, call, observe: async () => streamState('app'), verify: async (_c, body) => check(body) });
}

/** A row with its context type checked, then erased so that rows of different contexts share one list. */
function row<C>(r: Row<C>): Row<unknown> {
  return r as unknown as Row<unknown>;
}

/** Every image-stream route of docs/api.md, with a body that would succeed. */
function rows(): Row<unknown>[] {
  return [
    readRow('GET /namespaces/:p/imagestreams', () => ({ method: 'GET', path: `namespaces/${P}/imagestreams` }), (b) => assert.equal(b['kind'], 'ImageStreamList')),
    readRow('GET /namespaces/:p/imagestreams/:name', () => ({ method: 'GET', path: `namespaces/${P}/imagestreams/app` }), (b) => assert.equal(b['kind'], 'ImageStream')),
    // A caller who may not look learns nothing about whether it exists.
    readRow('GET /namespaces/:p/imagestreams/:name (a stream that does not exist)', () => ({ method: 'GET', path: `namespaces/${P}/imagestreams/nosuch` }), (b) => assert.equal(b['reason'], 'NotFound'), by('read', 404)),
    readRow('GET /namespaces/:p/imagestreams/:name/history/:tag', () => ({ method: 'GET', path: `namespaces/${P}/imagestreams/app/history/v1` }), (b) => {
      assert.equal(b['kind'], 'TagEventList');
      assert.deepEqual((b['items'] as Json[]).map((i) => i['image']), [second.digest, first.digest]);
    }),
    readRow('GET /namespaces/:p/imagestreamtags/:ref', () => ({ method: 'GET', path: `namespaces/${P}/imagestreamtags/app:v1` }), (b) => assert.equal(b['kind'], 'ImageStreamTag')),
    readRow('GET /namespaces/:p/imagestreamimages/:ref', () => ({ method: 'GET', path: `namespaces/${P}/imagestreamimages/app@${first.digest}` }), (b) => assert.equal(b['kind'], 'ImageStreamImage')),
    readRow('GET /namespaces/:p/images/:digest', () => ({ method: 'GET', path: `namespaces/${P}/images/${first.digest}` }), (b) => assert.equal(b['kind'], 'Image')),
    row({
      route: 'POST /namespaces/:p/imagestreams',
      expect: by('write', 201),
      prepare: async (key: string) => `new-${key}`,
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/imagestreams`, body: { metadata: { name } } }),
      observe: (name: string) => streamState(name),
      verify: async (name: string) => assert.ok(await f.metadata.imageStreams.getStream(P, name)),
    }),
    row({
      route: 'PUT /namespaces/:p/imagestreams/:name',
      expect: by('write', 200),
      prepare: async (key: string) => {
        await f.metadata.imageStreams.ensureStream(P, `put-${key}`, f.now);
        return `put-${key}`;
      },
      call: (name: string) => ({ method: 'PUT', path: `namespaces/${P}/imagestreams/${name}`, body: { metadata: { name, annotations: { changed: 'yes' } }, spec: {} } }),
      observe: (name: string) => streamState(name),
      verify: async (name: string) => assert.deepEqual((await f.metadata.imageStreams.getStream(P, name))?.annotations, { changed: 'yes' }),
    }),
    row({
      route: 'DELETE /namespaces/:p/imagestreams/:name',
      expect: by('delete', 200),
      prepare: async (key: string) => {
        await pushTwice(`del-${key}`);
        return `del-${key}`;
      },
      call: (name: string) => ({ method: 'DELETE', path: `namespaces/${P}/imagestreams/${name}` }),
      observe: async (name: string) => [await streamState(name), await history(name, 'v1'), await v2Tag(name)],
      verify: async (name: string, body: Json) => {
        assert.equal(body['status'], 'Success');
        assert.equal(await f.metadata.imageStreams.getStream(P, name), undefined);
        assert.equal(await v2Tag(name), undefined, '/v2 lost the tag too');
      },
    }),
    row({
      route: 'POST /namespaces/:p/imagestreams/:name/import',
      expect: by('write', 200),
      prepare: async (key: string) => {
        await f.metadata.imageStreams.ensureStream(P, `imp-${key}`, f.now);
        return `imp-${key}`;
      },
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/imagestreams/${name}/import`, body: { from: `127.0.0.1:${closedPort}/lib/thing:1.0`, insecure: true } }),
      observe: (name: string) => streamState(name),
      verify: async (name: string, body: Json) => {
        assert.equal(body['kind'], 'ImageStream');
        assert.equal(((body['importResult'] as Json)['failed'] as Json[]).length, 1, 'the closed port is a failed tag, not a failed call');
        assert.equal((await f.metadata.imageStreams.getStream(P, name))?.spec.tags?.[0]?.name, '1.0', 'the import recorded its source');
      },
    }),
    row({
      route: 'POST /namespaces/:p/imagestreams/:name/rollback',
      expect: by('write', 200),
      prepare: async (key: string) => {
        await pushTwice(`rb-${key}`);
        return `rb-${key}`;
      },
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/imagestreams/${name}/rollback`, body: { tag: 'v1', generation: 1 } }),
      observe: async (name: string) => [await streamState(name), await history(name, 'v1'), await v2Tag(name)],
      verify: async (name: string, body: Json) => {
        assert.equal(body['generation'], 3);
        const items = await history(name, 'v1');
        assert.equal(items[0]?.[1], items[2]?.[1], 'the new item is the first image again');
      },
    }),
    row({
      route: 'PUT /namespaces/:p/imagestreamtags/:ref',
      expect: by('write', 201),
      prepare: async (key: string) => `tagged-${key}`,
      call: (name: string) => ({ method: 'PUT', path: `namespaces/${P}/imagestreamtags/${name}:v1`, body: { tag: { from: { kind: 'ImageStreamTag', name: 'app:v1' } } } }),
      observe: async (name: string) => [await streamState(name), await v2Tag(name)],
      verify: async (name: string) => assert.equal(await v2Tag(name), second.digest),
    }),
    row({
      // Push in team is not enough: pull on the source is checked too.
      route: 'PUT /namespaces/:p/imagestreamtags/:ref (from a project only the cluster admin may pull)',
      expect: by('write', 201, { editor: 403, serviceaccount: 403, admin: 403 }),
      prepare: async (key: string) => `xtagged-${key}`,
      call: (name: string) => ({ method: 'PUT', path: `namespaces/${P}/imagestreamtags/${name}:v1`, body: { tag: { from: { kind: 'ImageStreamTag', name: 'far:v1', namespace: 'elsewhere' } } } }),
      observe: async (name: string) => [await streamState(name), await v2Tag(name)],
      verify: async (name: string) => assert.ok(await v2Tag(name)),
    }),
    row({
      route: 'DELETE /namespaces/:p/imagestreamtags/:ref',
      expect: by('delete', 200),
      prepare: async (key: string) => {
        await pushTwice(`deltag-${key}`);
        return `deltag-${key}`;
      },
      call: (name: string) => ({ method: 'DELETE', path: `namespaces/${P}/imagestreamtags/${name}:v1` }),
      observe: async (name: string) => [await streamState(name), await v2Tag(name)],
      verify: async (name: string) => {
        assert.equal(await f.metadata.imageStreams.getTag(P, name, 'v1'), undefined);
        assert.equal((await history(name, 'v1')).length, 2, 'its history stays');
      },
    }),
    row({
      route: 'POST /namespaces/:p/imagestreams/:name/prune',
      expect: by('delete', 200),
      prepare: async (key: string) => {
        await pushTwice(`prune-${key}`);
        return `prune-${key}`;
      },
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/imagestreams/${name}/prune`, body: { spec: { keepTagRevisions: 1 } } }),
      observe: async (name: string) => [await streamState(name), await history(name, 'v1')],
      verify: async (name: string, body: Json) => {
        assert.equal(body['kind'], 'ImageStreamPrune');
        assert.equal((await history(name, 'v1')).length, 1);
      },
    }),
    row({
      // A dry run needs the same: it shows history a caller may not remove.
      route: 'POST /namespaces/:p/imagestreams/:name/prune (dry run)',
      expect: by('delete', 200),
      prepare: async () => 'app',
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/imagestreams/${name}/prune`, body: { spec: { keepTagRevisions: 1, dryRun: true } } }),
      observe: async (name: string) => [await streamState(name), await history(name, 'v1')],
      verify: async (name: string, body: Json) => {
        assert.deepEqual(((body['status'] as Json)['pruned'] as Json[]).map((i) => i['image']), [first.digest]);
        assert.equal((await history(name, 'v1')).length, 2);
      },
    }),
    row({
      // Keeps two: the shared stream `app` (two items) is left alone; this call's stream (three) loses one.
      route: 'POST /namespaces/:p/imagestreamprunes',
      expect: by('delete', 200),
      prepare: async (key: string) => {
        await pushTwice(`pruneall-${key}`);
        await f.pushImage(`${P}/pruneall-${key}`, 'v1', { layerSizes: [66] });
        return `pruneall-${key}`;
      },
      call: () => ({ method: 'POST', path: `namespaces/${P}/imagestreamprunes`, body: { spec: { keepTagRevisions: 2 } } }),
      observe: async (name: string) => [await streamState(name), await history(name, 'v1'), await history('app', 'v1')],
      verify: async (name: string, body: Json) => {
        assert.ok(((body['status'] as Json)['pruned'] as Json[]).some((i) => i['stream'] === name));
        assert.equal((await history(name, 'v1')).length, 2);
        assert.equal((await history('app', 'v1')).length, 2);
      },
    }),
    row({
      route: 'GET /namespaces/:p/secrets',
      expect: by('secrets', 200),
      prepare: async () => undefined,
      call: () => ({ method: 'GET', path: `namespaces/${P}/secrets` }),
      observe: secretNames,
      verify: async (_c: undefined, body: Json) => assert.ok((body['items'] as Json[]).some((s) => (s['metadata'] as Json)['name'] === 'hub')),
    }),
    row({
      route: 'POST /namespaces/:p/secrets',
      expect: by('secrets', 201),
      prepare: async (key: string) => `s-${key}`,
      call: (name: string) => ({ method: 'POST', path: `namespaces/${P}/secrets`, body: { metadata: { name }, stringData: { '.dockerconfigjson': AUTH_JSON } } }),
      observe: secretNames,
      verify: async (name: string) => assert.ok((await secretNames()).includes(name)),
    }),
    row({
      route: 'GET /namespaces/:p/secrets/:secret',
      expect: by('secrets', 200),
      prepare: async () => undefined,
      call: () => ({ method: 'GET', path: `namespaces/${P}/secrets/hub` }),
      observe: secretNames,
      verify: async (_c: undefined, body: Json) => assert.deepEqual(body['registries'], ['registry.example.com']),
    }),
    row({
      route: 'DELETE /namespaces/:p/secrets/:secret',
      expect: by('secrets', 200),
      prepare: async (key: string) => {
        await secrets.create(P, `d-${key}`, AUTH_JSON);
        return `d-${key}`;
      },
      call: (name: string) => ({ method: 'DELETE', path: `namespaces/${P}/secrets/${name}` }),
      observe: secretNames,
      verify: async (name: string) => assert.equal((await secretNames()).includes(name), false),
    }),
  ];
}

before(async () => {
  f = await openRegistryFixture();
  const metadata = f.metadata;
  const clock = () => f.now;
  secrets = new PullSecretService({ metadata, secretBox: new SecretBox(randomBytes(32)), clock });
  const importer = new ImageStreamImporter({
    metadata,
    secrets,
    clock,
    // No retries: the import target is a closed port, refused at once.
    clientFactory: (registry, o) => new RemoteRegistryClient({ registry, credentials: o.credentials, insecure: o.insecure, maxRetries: 0, timeoutMs: 5000 }),
  });
  api = await startImageStreamApi({
    metadata,
    imageStreams: f.service,
    clock,
    pullSpecHost: PULL_SPEC_HOST,
    importer,
    pullSecrets: secrets,
    beforeRegister: (instance) =>
      instance.addHook('onRoute', (route) => {
        for (const method of [route.method].flat()) if (method !== 'HEAD') mounted.push(`${method} ${route.url.replace(`${V1}`, '')}`);
      }),
  });
  app = api.app;
  auth.clusteradmin = api.admin;

  const port = createServer();
  await new Promise<void>((resolve) => port.listen(0, '127.0.0.1', resolve));
  closedPort = (port.address() as AddressInfo).port;
  await new Promise<void>((resolve) => port.close(() => resolve()));

  const users = { outsider: 'olga', viewer: 'vic', editor: 'eddie', admin: 'ada' } as const;
  for (const name of Object.values(users)) ok(await asAdmin({ method: 'POST', path: 'users', body: { metadata: { name } } }), 201);
  for (const project of [P, 'elsewhere']) ok(await asAdmin({ method: 'POST', path: 'projects', body: { metadata: { name: project } } }), 201);
  const bind = async (project: string, role: string, subject: Json) =>
    ok(await asAdmin({ method: 'POST', path: `namespaces/${project}/rolebindings/${role}/subjects`, body: subject }), 201);
  await bind(P, 'registry-viewer', { kind: 'User', name: users.viewer });
  await bind(P, 'registry-editor', { kind: 'User', name: users.editor });
  await bind(P, 'registry-admin', { kind: 'User', name: users.admin });
  await bind('elsewhere', 'registry-admin', { kind: 'User', name: users.outsider });
  // OAuth access tokens, as the OAuth server issues them at login.
  const oauth = new OAuthTokenService({ metadata, clock });
  for (const [caller, name] of Object.entries(users) as [Caller, string][]) auth[caller] = `Bearer ${(await oauth.issueAccessToken(name, 'berth-cli', [])).accessToken}`;
  // A service account bound registry-editor, with a token minted through the API.
  ok(await request({ method: 'POST', path: `namespaces/${P}/serviceaccounts`, body: { metadata: { name: 'ci' } } }, auth.admin), 201);
  await bind(P, 'registry-editor', { kind: 'ServiceAccount', name: 'ci' });
  const minted = ok(await request({ method: 'POST', path: `namespaces/${P}/serviceaccounts/ci/tokens`, body: {} }, auth.admin), 201);
  auth.serviceaccount = `Bearer ${String((minted['status'] as Json)['token'])}`;
  auth.anonymous = undefined;

  first = await f.pushImage(`${P}/app`, 'v1');
  second = await f.pushImage(`${P}/app`, 'v1');
  await f.pushImage('elsewhere/far', 'v1');
  await secrets.create(P, 'hub', AUTH_JSON);
});

after(async () => {
  await app?.close();
  await f?.cleanup();
});

describe('image-stream RBAC: every route × every caller', () => {
  it('the table has a row for every image-stream route the plugin mounts', () => {
    const ours = /^\S+ \/namespaces\/:p\/(imagestreams|imagestreamtags|imagestreamimages|images|secrets|imagestreamprunes)(\/|$)/;
    const routes = mounted.filter((r) => ours.test(r)).sort();
    assert.ok(routes.length >= 17, routes.join('\n'));
    const covered = new Set(rows().map((r) => r.route.split(' ').slice(0, 2).join(' ')));
    assert.deepEqual(routes.filter((r) => !covered.has(r)), [], 'routes without a row');
    assert.deepEqual([...covered].filter((r) => !routes.includes(r)), [], 'rows of routes that are not mounted');
  });

  it('each caller is who its credentials say', async () => {
    const expected: Record<Caller, string | undefined> = {
      anonymous: undefined, outsider: 'olga', viewer: 'vic', editor: 'eddie', serviceaccount: `system:serviceaccount:${P}:ci`, admin: 'ada', clusteradmin: 'admin',
    };
    for (const caller of CALLERS) {
      const answer = await request({ method: 'GET', path: 'users/~' }, auth[caller]);
      if (caller === 'anonymous') assert.equal(answer.res.statusCode, 401);
      else assert.equal((ok(answer)['metadata'] as Json)['name'], expected[caller]);
    }
  });

  let serial = 0;
  for (const row of rows()) {
    it(`${row.route}: ${CALLERS.map((c) => `${c} ${row.expect[c]}`).join(', ')}`, async () => {
      for (const caller of CALLERS) {
        const key = `${caller}-${++serial}`;
        const context = await row.prepare(key);
        const call = row.call(context);
        const what = `${call.method} ${call.path} as ${caller}`;
        const before = await row.observe(context);
        const answer = await request(call, auth[caller]);
        const expected = row.expect[caller];
        assert.equal(answer.res.statusCode, expected, `${what}: ${answer.res.body}`);
        if (expected === 401 || expected === 403) {
          const reason = expected === 401 ? 'Unauthorized' : 'Forbidden';
          assert.deepEqual(
            { kind: answer.json['kind'], apiVersion: answer.json['apiVersion'], status: answer.json['status'], reason: answer.json['reason'], code: answer.json['code'] },
            { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason, code: expected },
            what,
          );
          const message = String(answer.json['message']);
          if (expected === 401) {
            assert.match(message, /^authentication required: anonymous users may not /, what);
            assert.match(String(answer.res.headers['www-authenticate']), /^Bearer realm="https:\/\/registry\.test:5000\/oauth\/authorize"$/, what);
          } else {
            assert.match(message, caller === 'serviceaccount' ? /^service account "system:serviceaccount:team:ci" may not / : /^user "[a-z]+" may not /, what);
          }
          assert.deepEqual(await row.observe(context), before, `${what} was refused and must change nothing`);
        } else if (expected < 300) {
          await row.verify(context, answer.json);
        } else {
          await row.verify(context, answer.json);
          assert.deepEqual(await row.observe(context), before, what);
        }
      }
    });
  }
});
