/**
 * The image-stream commands of `berth` against a real Berth over TLS (trusting
 * only its generated CA): the seed ImageStream document through `create -f`,
 * a skopeo push seen through `get is` / `describe istag` (author, labels,
 * layer sizes), `tag` across projects, `tag --rollback`, `delete istag`,
 * `import-image` from CNCF Distribution (anonymous, and htpasswd through a
 * pull secret made with `create secret docker-registry`), `apply -f` of a
 * List and of multi-document YAML, and `-o json` output that parses.
 *
 * The CLI runs as a child process with its own BERTH_CONFIG_DIR in a temp dir.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PROJECT_ROOT, startBerth } from '../support/berth-server.ts';
import type { BerthServer } from '../support/berth-server.ts';
import { createClients } from '../support/container-clients.ts';
import type { ContainerClients } from '../support/container-clients.ts';
import { createImageLayout } from '../support/oci-images.ts';
import type { BuiltLayout } from '../support/oci-images.ts';
import { startRemoteRegistry, testImage } from '../support/remote-registry.ts';
import type { RemoteRegistry, TestImage } from '../support/remote-registry.ts';

const ADMIN_PASSWORD = 'admin-e2e-Secret-1';
const SEED = '{"apiVersion":"v1","kind":"ImageStream","metadata":{"name":"ruby"},"spec":{"dockerImageRepository":"openshift/ruby-20-centos7"}}';
const AUTHOR = 'Berth CLI e2e <e2e@berth.example>';

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function assertOneLineError(result: Result, pattern: RegExp): void {
  assert.equal(result.code, 1, `exit status; stdout: ${result.stdout} stderr: ${result.stderr}`);
  // Import notes and progress ("Importing ...", "Importing: 2 tags found") are not errors.
  const lines = result.stderr.split('\n').filter((l) => l !== '' && !/^Importing[ :]/.test(l));
  assert.equal(lines.length, 1, `one line on stderr, got:\n${result.stderr}`);
  assert.match(lines[0] ?? '', /^berth: /);
  assert.match(lines[0] ?? '', pattern);
}

interface TagEvent {
  image: string;
  generation: number;
  dockerImageReference: string;
  source?: { kind: string; ref?: string };
}
interface Stream {
  kind: string;
  metadata: { name: string; namespace: string; annotations?: Record<string, string> };
  spec: { dockerImageRepository?: string; tags: unknown[] };
  status: { dockerImageRepository: string; tags: Array<{ tag: string; items: TagEvent[]; conditions?: Array<{ type: string; status: string; reason?: string; message?: string }> }> };
  importResult?: { tagsFound: number; imported: Array<{ tag: string; image: string }>; failed: Array<{ tag: string; reason: string; message: string }> };
}
interface Image {
  metadata: { name: string };
  dockerImageMetadata?: { Author?: string; Config?: { Labels?: Record<string, string> } };
  dockerImageConfigDigest?: string;
  dockerImageLayers: Array<{ name: string; size: number }>;
}
interface StreamTag {
  kind: string;
  metadata: { name: string; namespace: string };
  generation: number;
  image: Image;
}

describe('berth image-stream commands against a real server', { concurrency: false, timeout: 900_000 }, () => {
  let server: BerthServer;
  let work: string;
  let configDir: string;
  let tools: ContainerClients;
  let first: BuiltLayout;
  let second: BuiltLayout;
  let remote: RemoteRegistry;
  let privateRemote: RemoteRegistry;
  let remoteImages: Record<string, TestImage>;
  let privateImage: TestImage;

  const berth = (args: string[], input?: string): Promise<Result> =>
    new Promise((resolveRun) => {
      const child = execFile(
        process.execPath,
        [join(PROJECT_ROOT, 'bin', 'berth.js'), ...args],
        { env: { ...process.env, BERTH_CONFIG_DIR: configDir }, timeout: 120_000 },
        (error, stdout, stderr) => resolveRun({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr }),
      );
      child.stdin?.end(input ?? '');
    });
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await berth(args, input);
    assert.equal(result.code, 0, `berth ${args.join(' ')} failed (${result.code}): ${result.stderr}\n${result.stdout}`);
    assert.equal(result.stderr.includes('berth: '), false, `no error line on success: ${result.stderr}`);
    return result.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok([...args, '-o', 'json'])) as T;
  const push = async (layout: BuiltLayout, ref: string): Promise<void> => {
    await tools.skopeoCopy(layout.ref, `docker://${server.hostPort}/${ref}`, ['--dest-creds', `admin:${ADMIN_PASSWORD}`]);
  };

  before(async () => {
    server = await startBerth({ env: { BERTH_ADMIN_PASSWORD: ADMIN_PASSWORD } });
    work = await mkdtemp(join(tmpdir(), 'berth-e2e-cli-is-'));
    configDir = join(work, 'config');
    assert.ok(server.caPath, 'the server runs TLS with a generated CA');
    tools = await createClients({ workDir: join(work, 'clients'), caPath: server.caPath });
    first = await createImageLayout(join(work, 'image-1'), '1.0', {
      layers: [{ size: 4096, seed: 'cli-is-base' }, { size: 20_000, seed: 'cli-is-app-1' }],
      labels: { 'io.berth.e2e': 'first', 'org.opencontainers.image.title': 'demo app' },
      author: AUTHOR,
      exposedPorts: ['8080/tcp'],
      env: ['APP_MODE=first'],
      workingDir: '/srv',
      created: '2026-03-04T05:06:07Z',
    });
    second = await createImageLayout(join(work, 'image-2'), '1.0', {
      layers: [{ size: 4096, seed: 'cli-is-base' }, { size: 30_000, seed: 'cli-is-app-2' }],
      labels: { 'io.berth.e2e': 'second' },
      author: AUTHOR,
    });
    remote = await startRemoteRegistry();
    privateRemote = await startRemoteRegistry({ auth: 'htpasswd', users: { alice: 'wonderland' } });
    remoteImages = { '3.19': testImage('alpine-3.19'), '3.20': testImage('alpine-3.20', 'docker') };
    for (const [tag, image] of Object.entries(remoteImages)) await remote.pushImage('lib/alpine', tag, image);
    privateImage = testImage('private-app');
    await privateRemote.pushImage('team/app', 'v1', privateImage);

    await ok(['login', server.url, '--certificate-authority', server.caPath, '-u', 'admin', '-p', '-'], `${ADMIN_PASSWORD}\n`);
    await ok(['new-project', 'other']);
    await ok(['new-project', 'demo']);
  });

  after(async () => {
    await tools?.cleanup();
    await remote?.stop();
    await privateRemote?.stop();
    await server?.stop();
    if (work !== undefined) await rm(work, { recursive: true, force: true });
  });

  test('create -f takes the seed ImageStream verbatim; the status shape is the contract', async () => {
    const file = join(work, 'ruby.json');
    await writeFile(file, SEED);
    assert.match(await ok(['create', '-f', file]), /^imagestream "ruby" created$/m);
    const ruby = await json<Stream>(['get', 'is', 'ruby']);
    assert.equal(ruby.kind, 'ImageStream');
    assert.equal(ruby.metadata.namespace, 'demo');
    assert.equal(ruby.spec.dockerImageRepository, 'openshift/ruby-20-centos7');
    assert.equal(ruby.status.dockerImageRepository, `${server.hostPort}/demo/ruby`);
    assert.ok(Array.isArray(ruby.status.tags));
    assertOneLineError(await berth(['create', '-f', file]), /imagestream "ruby" already exists/);
    // apply of the same document changes nothing.
    assert.match(await ok(['apply', '-f', file]), /^imagestream "ruby" unchanged$/m);
    const table = await ok(['get', 'is']);
    assert.match(table.split('\n')[0] ?? '', /^NAME\s+IMAGE REPOSITORY\s+TAGS\s+UPDATED$/);
    assert.match(table, new RegExp(`^ruby\\s+${server.hostPort}/demo/ruby`, 'm'));
    assert.match(await ok(['get', 'is', '-o', 'wide']), /openshift\/ruby-20-centos7/);
  });

  test('a skopeo push shows in get is, get istag and get images', async () => {
    await push(first, 'demo/app:1.0');
    const app = await json<Stream>(['get', 'imagestream', 'app']);
    const tag = app.status.tags.find((t) => t.tag === '1.0');
    assert.equal(tag?.items[0]?.image, first.digest);
    assert.equal(tag?.items[0]?.source?.kind, 'push');
    assert.match(await ok(['get', 'is']), /^app\s+\S+\/demo\/app\s+1\.0\s+\d+s ago$/m);
    assert.match(await ok(['get', 'istag']), new RegExp(`^app:1\\.0\\s+${server.hostPort}/demo/app@${first.digest}`, 'm'));
    const tags = await json<{ kind: string; items: StreamTag[] }>(['get', 'istag']);
    assert.equal(tags.kind, 'ImageStreamTagList');
    assert.deepEqual(tags.items.map((t) => t.metadata.name), ['app:1.0']);
    const images = await json<{ kind: string; items: Image[] }>(['get', 'images']);
    assert.deepEqual(images.items.map((i) => i.metadata.name), [first.digest]);
    assert.match(await ok(['get', 'images']), new RegExp(`^${first.digest}\\s+app:1\\.0\\s+`, 'm'));
    const one = await json<Image>(['get', 'image', first.digest]);
    assert.equal(one.dockerImageConfigDigest, first.images[0]?.configDigest);
  });

  test('describe istag shows the author, labels, config and layer sizes of the pushed image', async () => {
    const text = await ok(['describe', 'istag', 'app:1.0']);
    const built = first.images[0];
    assert.ok(built);
    assert.match(text, /^Name:\s+app:1\.0$/m);
    assert.match(text, new RegExp(`^Author:\\s+${AUTHOR.replace(/[.<>]/g, '\\$&')}$`, 'm'));
    assert.match(text, /^Built:\s+2026-03-04T05:06:07Z/m);
    assert.match(text, new RegExp(`^Image Digest:\\s+${first.digest}$`, 'm'));
    assert.match(text, new RegExp(`^Image ID:\\s+${built.configDigest}$`, 'm'));
    assert.match(text, /^Platform:\s+linux\/amd64$/m);
    assert.match(text, /io\.berth\.e2e=first/);
    assert.match(text, /org\.opencontainers\.image\.title=demo app/);
    assert.match(text, /^ {2}Working Dir:\s+\/srv$/m);
    assert.match(text, /^ {2}Exposed Ports:\s+8080\/tcp$/m);
    assert.match(text, /APP_MODE=first/);
    assert.match(text, /ADD layer 1 \(20000 bytes, seed cli-is-app-1\)/);
    for (const layer of built.layers) assert.match(text, new RegExp(`\\(${layer.size} bytes\\)\\s+${layer.digest}`));
    const total = built.layers.reduce((sum, l) => sum + l.size, 0);
    assert.match(text, new RegExp(`Total: \\S+ \\(${total} bytes\\) in 2 layers`));

    const istag = await json<StreamTag>(['describe', 'istag', 'app:1.0']);
    assert.equal(istag.kind, 'ImageStreamTag');
    assert.equal(istag.image.dockerImageMetadata?.Author, AUTHOR);
    assert.deepEqual(istag.image.dockerImageMetadata?.Config?.Labels, { 'io.berth.e2e': 'first', 'org.opencontainers.image.title': 'demo app' });
    assert.deepEqual(istag.image.dockerImageLayers.map((l) => [l.name, l.size]), built.layers.map((l) => [l.digest, l.size]));
  });

  test('tag within the project and across projects', async () => {
    assert.match(await ok(['tag', 'app:1.0', 'app:stable']), new RegExp(`^Tag app:stable set to demo/app:1\\.0 \\(${first.digest}\\)\\.$`, 'm'));
    assert.match(await ok(['tag', 'demo/app:1.0', 'other/copy:latest']), /^Tag other\/copy:latest set to demo\/app:1\.0/m);
    const copied = await json<StreamTag>(['get', 'istag', 'copy:latest', '-n', 'other']);
    assert.equal(copied.image.metadata.name, first.digest);
    // By digest, from the other project's point of view.
    await ok(['tag', '-n', 'other', `demo/app@${first.digest}`, 'pinned:1']);
    assert.equal((await json<StreamTag>(['get', 'istag', 'pinned:1', '-n', 'other'])).image.metadata.name, first.digest);
    const described = await ok(['describe', 'is', 'copy', '-n', 'other']);
    assert.match(described, /tagged from demo\/app:1\.0/);
    assertOneLineError(await berth(['tag', 'app:nosuch', 'app:x']), /nosuch|not found/i);
  });

  test('tag --rollback moves a tag back to an earlier history item, by generation or by digest', async () => {
    await push(second, 'demo/app:1.0');
    const history = (await json<Stream>(['get', 'is', 'app'])).status.tags.find((t) => t.tag === '1.0')?.items ?? [];
    assert.deepEqual(history.map((i) => i.image), [second.digest, first.digest]);
    const firstGeneration = history[1]?.generation ?? 0;
    const out = await ok(['tag', '--rollback', 'app:1.0', '--to-generation', String(firstGeneration)]);
    assert.match(out, new RegExp(`rolled back to generation ${firstGeneration} \\(${first.digest}\\)`));
    assert.equal((await json<StreamTag>(['get', 'istag', 'app:1.0'])).image.metadata.name, first.digest);
    const rolled = await json<StreamTag>(['tag', '--rollback', 'app:1.0', '--to-digest', second.digest]);
    assert.equal(rolled.image.metadata.name, second.digest);
    const described = await ok(['describe', 'is', 'app']);
    assert.match(described, new RegExp(`rolled back to generation ${firstGeneration}`));
    assert.match(described, /pushed/);
    assert.match(described, /^ {2}\* \S+@sha256:/m);
    assertOneLineError(await berth(['tag', '--rollback', 'app:1.0']), /--to-generation/);
    assertOneLineError(await berth(['tag', '--rollback', 'app:1.0', '--to-generation', '999']), /999|not found/i);
  });

  test('delete istag removes the tag, its history stays', async () => {
    assert.match(await ok(['delete', 'istag', 'app:stable']), /imagestreamtag "app:stable" deleted/);
    assertOneLineError(await berth(['get', 'istag', 'app:stable']), /not found|stable/i);
    const app = await json<Stream>(['get', 'is', 'app']);
    assert.equal(app.status.tags.some((t) => t.tag === 'stable'), false);
  });

  test('adm prune imagestreams: a dry run by default, --confirm removes old and deleted tags\' history, never a current item or a manifest', async () => {
    // app:1.0 is generations 4 (second, current), 3 (first), 2 (second), 1 (first); app:stable (deleted) has generation 1.
    const generations = async (tag: string) => ((await json<Stream>(['get', 'is', 'app'])).status.tags.find((t) => t.tag === tag)?.items ?? []).map((i) => i.generation);
    assert.deepEqual(await generations('1.0'), [4, 3, 2, 1]);
    const dry = await berth(['adm', 'prune', 'imagestreams', '--keep-tag-revisions=2', '--keep-younger-than=0']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stderr, /^Dry run enabled - no modifications will be made\. Add --confirm to remove history items\.$/m);
    assert.match(dry.stdout, /^STREAM\s+TAG\s+GENERATION\s+IMAGE\s+CREATED$/m);
    assert.match(dry.stdout, new RegExp(`^app\\s+1\\.0\\s+2\\s+${second.digest}\\s`, 'm'));
    assert.match(dry.stdout, new RegExp(`^app\\s+1\\.0\\s+1\\s+${first.digest}\\s`, 'm'));
    assert.match(dry.stdout, new RegExp(`^app\\s+stable\\s+1\\s+${first.digest}\\s`, 'm'));
    assert.match(dry.stdout, /^Would remove 3 history items of 2 tags in 1 image stream \(\d+ image streams examined\)\.$/m);
    assert.deepEqual(await generations('1.0'), [4, 3, 2, 1], 'a dry run removes nothing');
    // oc's default keeps anything recorded in the last hour.
    assert.match(await ok(['adm', 'prune', 'imagestreams', 'app', '--keep-tag-revisions=1']), /^Would remove 0 history items/m);

    const done = await json<{ kind: string; spec: { dryRun: boolean; keepTagRevisions: number }; status: { pruned: Array<{ stream: string; tag: string; generation: number; image: string }> } }>(
      ['adm', 'prune', 'is', 'app', '--keep-tag-revisions=2', '--keep-younger-than=0s', '--confirm'],
    );
    assert.equal(done.kind, 'ImageStreamPrune');
    assert.deepEqual(done.spec, { keepTagRevisions: 2, keepYoungerThanSeconds: 0, dryRun: false });
    assert.deepEqual(done.status.pruned.map((i) => [i.tag, i.generation, i.image]), [['1.0', 2, second.digest], ['1.0', 1, first.digest], ['stable', 1, first.digest]]);
    assert.deepEqual(await generations('1.0'), [4, 3]);
    assert.equal((await json<StreamTag>(['get', 'istag', 'app:1.0'])).image.metadata.name, second.digest);
    // Metadata only: the pruned items' manifests are still served by digest.
    const inspected = await tools.skopeoInspect(`docker://${server.hostPort}/demo/app@${first.digest}`, ['--raw', '--creds', `admin:${ADMIN_PASSWORD}`]);
    assert.equal(inspected.code, 0, inspected.stderr);
    assert.match(await ok(['adm', 'prune', 'imagestreams', '--keep-tag-revisions=2', '--keep-younger-than=0', '--confirm']), /^Removed 0 history items/m);
    assertOneLineError(await berth(['adm', 'prune', 'imagestreams', '--keep-tag-revisions=0']), /--keep-tag-revisions "0"/);
  });

  test('import-image from an anonymous Distribution: one tag, then --all', async () => {
    const ref = `${remote.hostPort}/lib/alpine`;
    const result = await berth(['import-image', 'alpine', `--from=${ref}:3.19`, '--confirm', '--insecure']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    assert.match(result.stderr, /^Importing /m);
    // Progress as the server reports it, while the import runs.
    assert.match(result.stderr, /^Importing: 1 tag found$/m);
    assert.match(result.stderr, /^Importing: 1\/1 manifest fetched \(3\.19\)$/m);
    assert.match(result.stdout, /^Tags found:\s+1$/m);
    assert.match(result.stdout, /^Manifests fetched:\s+1/m);
    assert.match(result.stdout, new RegExp(`3\\.19\\s+${remoteImages['3.19']?.digest}`));
    assert.equal((await json<StreamTag>(['get', 'istag', 'alpine:3.19'])).image.metadata.name, remoteImages['3.19']?.digest);
    assert.match(await ok(['describe', 'is', 'alpine']), new RegExp(`imported from ${ref.replace(/\./g, '\\.')}`));

    const all = await json<Stream>(['import-image', 'alpine-all', `--from=${ref}`, '--all', '--confirm', '--insecure']);
    assert.equal(all.importResult?.tagsFound, 2);
    assert.deepEqual(all.importResult?.imported.map((t) => [t.tag, t.image]).sort(), Object.entries(remoteImages).map(([t, i]) => [t, i.digest]).sort());
    assertOneLineError(await berth(['import-image', 'nosuch', `--from=${ref}:3.19`, '--insecure']), /not found|nosuch/i);
  });

  test('import-image from htpasswd Distribution through a pull secret', async () => {
    const ref = `${privateRemote.hostPort}/team/app:v1`;
    const refused = await berth(['import-image', 'private', `--from=${ref}`, '--confirm', '--insecure']);
    assertOneLineError(refused, /import of "private" failed/);
    assert.match(refused.stdout, /failed: /);

    assert.match(
      await ok(['create', 'secret', 'docker-registry', 'remote', `--docker-server=${privateRemote.hostPort}`, '--docker-username=alice', '--docker-password=wrong']),
      new RegExp(`secret "remote" created in project "demo" for ${privateRemote.hostPort}`),
    );
    assertOneLineError(await berth(['import-image', 'private', '--insecure']), /failed/);
    const failed = await json<Stream>(['get', 'is', 'private']);
    const conditions = [...(failed.status.tags.flatMap((t) => t.conditions ?? [])), ...((failed.status as { conditions?: Array<{ status: string }> }).conditions ?? [])];
    assert.ok(conditions.some((c) => c.status === 'False'), `a failure condition: ${JSON.stringify(failed.status)}`);
    assert.match(await ok(['describe', 'is', 'private']), /! ImportSuccess=False/);

    assert.match(await ok(['delete', 'secret', 'remote']), /secret "remote" deleted/);
    const authFile = join(work, 'private-auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { [privateRemote.hostPort]: { auth: Buffer.from('alice:wonderland').toString('base64') } } }));
    await ok(['create', 'secret', 'docker-registry', 'remote', `--from-file=${authFile}`]);
    const secrets = await json<{ kind: string; items: Array<{ metadata: { name: string }; registries: string[]; data?: unknown }> }>(['get', 'secrets']);
    assert.equal(secrets.kind, 'SecretList');
    assert.deepEqual(secrets.items.map((s) => [s.metadata.name, s.registries]), [['remote', [privateRemote.hostPort]]]);
    assert.equal(JSON.stringify(secrets).includes('wonderland'), false);
    assert.equal(JSON.stringify(secrets).includes(Buffer.from('alice:wonderland').toString('base64')), false, 'credentials never come back');
    assert.match(await ok(['get', 'secrets']), new RegExp(`^remote\\s+kubernetes\\.io/dockerconfigjson\\s+${privateRemote.hostPort}\\s+`, 'm'));

    const imported = await ok(['import-image', 'private', '--insecure']);
    assert.match(imported, new RegExp(`v1\\s+${privateImage.digest}`));
    assert.equal((await json<StreamTag>(['get', 'istag', 'private:v1'])).image.metadata.name, privateImage.digest);
  });

  test('apply -f of a List and of multi-document YAML: create, then update or leave alone', async () => {
    const list = join(work, 'list.json');
    await writeFile(list, JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'berth.dev/v1', kind: 'ServiceAccount', metadata: { name: 'builder' } },
        { apiVersion: 'image.openshift.io/v1', kind: 'ImageStream', metadata: { name: 'tools/base', annotations: { team: 'a' } } },
      ],
    }));
    const created = await ok(['apply', '-f', list]);
    assert.match(created, /^serviceaccount "builder" created$/m);
    assert.match(created, /^imagestream "tools\/base" created$/m);
    const again = await ok(['apply', '-f', list]);
    assert.match(again, /^serviceaccount "builder" unchanged$/m);
    assert.match(again, /^imagestream "tools\/base" unchanged$/m);

    const yamlFile = join(work, 'resources.yaml');
    await writeFile(yamlFile, [
      'apiVersion: image.openshift.io/v1',
      'kind: ImageStream',
      'metadata:',
      '  name: tools/base',
      '  annotations:',
      '    team: b',
      'spec:',
      '  tags:',
      '  - name: upstream',
      '    from:',
      '      kind: DockerImage',
      `      name: ${remote.hostPort}/lib/alpine:3.20`,
      '    importPolicy:',
      '      insecure: true',
      '---',
      'apiVersion: v1',
      'kind: ImageStreamTag',
      'metadata:',
      '  name: mirror:1.0',
      'tag:',
      '  from:',
      '    kind: ImageStreamTag',
      '    name: app:1.0',
      '---',
      'kind: RoleBinding',
      'metadata:',
      '  name: registry-viewer',
      'roleRef:',
      '  name: registry-viewer',
      'subjects:',
      '- kind: ServiceAccount',
      '  name: builder',
      '',
    ].join('\n'));
    const applied = await ok(['apply', '-f', yamlFile]);
    assert.match(applied, /^imagestream "tools\/base" configured$/m);
    assert.match(applied, /^imagestreamtag "mirror:1.0" created$/m);
    assert.match(applied, /^rolebinding "registry-viewer" created$/m);
    const base = await json<Stream>(['get', 'is', 'tools/base']);
    assert.equal(base.metadata.annotations?.['team'], 'b');
    assert.deepEqual((base.spec.tags as Array<{ name: string }>).map((t) => t.name), ['upstream']);
    // The new DockerImage spec tag is imported by the server at once, in the background.
    const deadline = Date.now() + 30_000;
    let upstream: StreamTag | undefined;
    while (upstream === undefined) {
      const answer = await berth(['get', 'istag', 'tools/base:upstream', '-o', 'json']);
      if (answer.code === 0) upstream = JSON.parse(answer.stdout) as StreamTag;
      else if (Date.now() > deadline) assert.fail(`tools/base:upstream was not imported: ${answer.stderr}`);
      else await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(upstream.image.metadata.name, remoteImages['3.20']?.digest);
    const imported = await json<Stream>(['get', 'is', 'tools/base']);
    assert.match(imported.metadata.annotations?.['image.berth.dev/dockerRepositoryCheck'] ?? '', /^\d{4}-/);
    assert.equal(imported.status.tags.find((t) => t.tag === 'upstream')?.items[0]?.source?.kind, 'import');
    assert.equal((await json<StreamTag>(['get', 'istag', 'mirror:1.0'])).image.metadata.name, second.digest);
    const bindings = await json<{ items: Array<{ roleRef: { name: string }; subjects: Array<{ kind: string; name: string }> }> }>(['get', 'rolebindings']);
    assert.ok(bindings.items.find((b) => b.roleRef.name === 'registry-viewer')?.subjects.some((s) => s.name === 'builder'));

    // -o json of apply is the objects as the server answered.
    const objects = await json<{ kind: string; items: Array<{ kind: string }> }>(['apply', '-f', yamlFile]);
    assert.equal(objects.kind, 'List');
    assert.deepEqual(objects.items.map((o) => o.kind), ['ImageStream', 'ImageStreamTag', 'RoleBinding']);

    // A bad document fails before anything is sent, in one line naming it.
    const bad = join(work, 'bad.yaml');
    await writeFile(bad, 'kind: ImageStream\nmetadata:\n  name: fine\n---\nkind: Widget\nmetadata:\n  name: x\n');
    assertOneLineError(await berth(['apply', '-f', bad]), /bad\.yaml \(document 2\): unknown kind "Widget"/);
    assertOneLineError(await berth(['get', 'is', 'fine']), /not found|fine/i);
    // The server's refusal of an unknown field comes back as its own message.
    const typo = join(work, 'typo.json');
    await writeFile(typo, '{"kind":"ImageStream","metadata":{"name":"typo"},"spec":{"dockerImageRepo":"x/y"}}');
    assertOneLineError(await berth(['create', '-f', typo]), /spec\.dockerImageRepo/);
    // Objects refused by the server do not stop the others; all of them end in one line.
    const twice = join(work, 'twice.yaml');
    await writeFile(twice, 'kind: ImageStream\nmetadata: {name: app}\n---\nkind: ImageStream\nmetadata: {name: brand-new}\n---\nkind: ImageStream\nmetadata: {name: ruby}\n');
    const refused = await berth(['create', '-f', twice]);
    assertOneLineError(refused, /2 of 3 resources failed: imagestream "app": .*already exists.*; imagestream "ruby": /);
    assert.match(refused.stdout, /^imagestream "brand-new" created$/m);
    // From standard input, with -n.
    assert.match(await ok(['create', '-f', '-', '-n', 'other'], 'kind: ImageStream\nmetadata:\n  name: from-stdin\n'), /imagestream "from-stdin" created/);
    assert.equal((await json<Stream>(['get', 'is', 'from-stdin', '-n', 'other'])).metadata.namespace, 'other');
    assertOneLineError(await berth(['create', '-f', '-', '-n', 'other'], 'kind: ImageStream\nmetadata:\n  name: x\n  namespace: demo\n'), /namespace "demo", not "other"/);
  });

  test('-o json and -o yaml of every get parse; delete is', async () => {
    for (const args of [['get', 'is'], ['get', 'istag'], ['get', 'images'], ['get', 'secrets'], ['get', 'is', 'app'], ['describe', 'is', 'app']]) {
      const out = await ok([...args, '-o', 'json']);
      assert.doesNotThrow(() => JSON.parse(out), `berth ${args.join(' ')} -o json`);
      assert.ok((await ok([...args, '-o', 'yaml'])).length > 0);
    }
    assert.match(await ok(['get', 'istag', '-o', 'wide']), /^NAME\s+IMAGE REFERENCE\s+UPDATED\s+GENERATION\s+SOURCE$/m);
    assert.match(await ok(['delete', 'is', 'alpine-all']), /imagestream "alpine-all" deleted/);
    assertOneLineError(await berth(['get', 'is', 'alpine-all']), /not found|alpine-all/i);
    assert.match(await ok(['get', 'istag', 'app']), /^app:1\.0\s+/m);
  });

  test('usage errors are one line before any request', async () => {
    assertOneLineError(await berth(['get', 'istag', 'App:1']), /invalid image stream name "App"/);
    assertOneLineError(await berth(['describe', 'istag', 'app']), /has no tag/);
    assertOneLineError(await berth(['tag', 'app:1.0', 'other/app@sha256:abc']), /destination must be NAME:TAG/);
    assertOneLineError(await berth(['get', 'image', 'nodigest']), /invalid digest/);
    assertOneLineError(await berth(['create', 'secret', 'docker-registry', 'x']), /--docker-server/);
    const missing = join(work, 'no-such-file.yaml');
    assertOneLineError(await berth(['apply', '-f', missing]), /cannot read .*no-such-file\.yaml: ENOENT/);
    assert.equal((await readFile(join(configDir, 'config.yaml'), 'utf8')).includes('project: demo'), true);
  });
});
