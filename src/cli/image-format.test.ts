import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  describeImageStream,
  describeImageStreamTag,
  humanSize,
  imageColumns,
  imageStreamColumns,
  importFailure,
  importSummary,
  secretColumns,
  sourceText,
  tagColumns,
  tagList,
  tagRows,
} from './image-format.ts';
import { imagesOfStreams, mapLimit, parseGeneration } from './imagestream-commands.ts';
import { imageStreamSchema, imageStreamTagSchema, secretSchema } from './imagestream-resources.ts';
import type { ImageStream } from './imagestream-resources.ts';
import { formatList, formatTable } from './output.ts';
import { checkDockerConfig, dockerConfigJson, secretBody } from './secret-commands.ts';
import { CliError } from './cli-errors.ts';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const CONFIG = `sha256:${'c'.repeat(64)}`;
const L1 = `sha256:${'a'.repeat(64)}`;
const L2 = `sha256:${'b'.repeat(64)}`;

const STREAM: ImageStream = imageStreamSchema.parse({
  apiVersion: 'berth.dev/v1',
  kind: 'ImageStream',
  metadata: {
    name: 'ruby',
    namespace: 'demo',
    uid: 'u1',
    resourceVersion: '7',
    generation: 2,
    creationTimestamp: '2026-06-01T10:00:00.000Z',
    annotations: { 'image.berth.dev/dockerRepositoryCheck': '2026-06-01T11:59:00.000Z', team: 'web' },
  },
  spec: {
    dockerImageRepository: 'quay.io/org/ruby',
    tags: [{ name: 'edge', from: { kind: 'DockerImage', name: 'quay.io/org/ruby:edge' }, importPolicy: { scheduled: true, insecure: false }, referencePolicy: { type: 'Source' } }],
  },
  status: {
    dockerImageRepository: 'registry.test/demo/ruby',
    tags: [
      {
        tag: '3.3',
        items: [
          { created: '2026-06-01T11:55:00.000Z', dockerImageReference: `registry.test/demo/ruby@${D2}`, image: D2, generation: 3, source: { kind: 'rollback', ref: '1' } },
          { created: '2026-06-01T11:00:00.000Z', dockerImageReference: `registry.test/demo/ruby@${D1}`, image: D1, generation: 2, source: { kind: 'import', ref: 'quay.io/org/ruby:3.3' } },
          { created: '2026-06-01T10:30:00.000Z', dockerImageReference: `registry.test/demo/ruby@${D2}`, image: D2, generation: 1, source: { kind: 'push' } },
        ],
      },
      {
        tag: 'edge',
        items: [],
        conditions: [{ type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'quay.io refused the credentials', lastTransitionTime: '2026-06-01T11:58:00.000Z', generation: 2 }],
      },
      { tag: 'old', items: [{ created: '2026-05-01T00:00:00.000Z', dockerImageReference: `registry.test/demo/ruby@${D1}`, image: D1, generation: 1, source: { kind: 'tag', ref: 'p2/base:1' } }] },
    ],
  },
});

const ISTAG = imageStreamTagSchema.parse({
  kind: 'ImageStreamTag',
  metadata: { name: 'ruby:3.3', namespace: 'demo', creationTimestamp: '2026-06-01T11:55:00.000Z' },
  tag: null,
  generation: 3,
  image: {
    kind: 'Image',
    metadata: { name: D2, creationTimestamp: '2026-06-01T10:30:00.000Z' },
    dockerImageReference: `registry.test/demo/ruby@${D2}`,
    dockerImageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    dockerImageMetadata: {
      Author: 'Jane <jane@example.com>',
      Created: '2026-05-30T08:00:00Z',
      DockerVersion: '27.1.0',
      Architecture: 'arm64',
      Os: 'linux',
      Variant: 'v8',
      Size: 25_500,
      Config: {
        Env: ['PATH=/usr/bin', 'RUBY_VERSION=3.3'],
        Cmd: ['irb'],
        Entrypoint: ['/bin/sh', '-c'],
        ExposedPorts: { '8080/tcp': {}, '443/tcp': {} },
        WorkingDir: '/app',
        User: '1001',
        Labels: { 'org.opencontainers.image.title': 'Ruby 3.3', maintainer: 'web team' },
      },
    },
    dockerImageMetadataVersion: '1.0',
    dockerImageConfigDigest: CONFIG,
    dockerImageLayers: [
      { name: L1, size: 20_000, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
      { name: L2, size: 5000, mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' },
    ],
    dockerImageHistory: [
      { created: '2026-05-30T07:00:00Z', createdBy: '/bin/sh -c #(nop) ADD file:abc in /', emptyLayer: false },
      { created: '2026-05-30T08:00:00Z', createdBy: '/bin/sh -c #(nop) CMD ["irb"]', emptyLayer: true },
    ],
    annotations: { 'org.opencontainers.image.source': 'https://git.example/ruby' },
  },
  conditions: [],
});

describe('sizes and sources', () => {
  test('sizes in decimal units with three significant digits', () => {
    assert.deepEqual([0, 999, 1000, 4608, 25_500, 1_234_567, 5e9].map(humanSize), ['0B', '999B', '1kB', '4.61kB', '25.5kB', '1.23MB', '5GB']);
    assert.equal(humanSize(undefined), '');
  });

  test('where a history item came from', () => {
    assert.equal(sourceText({ image: D1, source: { kind: 'push' } }), 'pushed');
    assert.equal(sourceText({ image: D1, source: { kind: 'import', ref: 'quay.io/a/b:1' } }), 'imported from quay.io/a/b:1');
    assert.equal(sourceText({ image: D1, source: { kind: 'tag', ref: 'p2/src:1' } }), 'tagged from p2/src:1');
    assert.equal(sourceText({ image: D1, source: { kind: 'rollback', ref: '3' } }), 'rolled back to generation 3');
    assert.equal(sourceText({ image: D1 }), '');
  });
});

describe('tables', () => {
  test('get is: tags most recently updated first, updated age; wide adds import source and age', () => {
    assert.equal(tagList(STREAM), '3.3,old');
    assert.equal(formatTable(imageStreamColumns(NOW), [STREAM]), [
      'NAME   IMAGE REPOSITORY          TAGS      UPDATED',
      'ruby   registry.test/demo/ruby   3.3,old   5m ago',
      '',
    ].join('\n'));
    assert.match(formatTable(imageStreamColumns(NOW), [STREAM], true), /^ruby\s+registry\.test\/demo\/ruby\s+3\.3,old\s+5m ago\s+quay\.io\/org\/ruby\s+2h$/m);
  });

  test('more than four tags are cut short as oc does', () => {
    const many = imageStreamSchema.parse({
      metadata: { name: 'm' },
      status: { tags: ['a', 'b', 'c', 'd', 'e', 'f'].map((tag, i) => ({ tag, items: [{ image: D1, created: `2026-06-01T0${i}:00:00Z` }] })) },
    });
    assert.equal(tagList(many), 'f,e,d,c + 2 more...');
  });

  test('get istag rows come from the streams, tags without an image included', () => {
    const rows = tagRows([STREAM]);
    assert.deepEqual(rows.map((r) => `${r.stream}:${r.tag}`), ['ruby:3.3', 'ruby:edge', 'ruby:old']);
    const text = formatTable(tagColumns(NOW), rows, true);
    assert.match(text, /^NAME\s+IMAGE REFERENCE\s+UPDATED\s+GENERATION\s+SOURCE$/m);
    assert.match(text, new RegExp(`^ruby:3\\.3\\s+registry\\.test/demo/ruby@${D2}\\s+5m ago\\s+3\\s+rolled back to generation 1$`, 'm'));
    assert.match(text, /^ruby:edge$/m);
  });

  test('get images: current tags per image, size, platform', () => {
    const images = imagesOfStreams([STREAM]);
    assert.deepEqual([...images.entries()], [[D2, ['ruby:3.3']], [D1, ['ruby:old']]]);
    const text = formatTable(imageColumns(NOW), [{ image: ISTAG.image, tags: ['ruby:3.3'] }]);
    assert.equal(text.split('\n')[1], `${D2}   ruby:3.3   25.5kB   linux/arm64/v8   2d ago`);
  });

  test('get secrets shows the registries, and json is the List as the server sent it', () => {
    const secret = secretSchema.parse({ kind: 'Secret', metadata: { name: 'hub', namespace: 'demo', creationTimestamp: '2026-06-01T11:00:00Z' }, type: 'kubernetes.io/dockerconfigjson', registries: ['quay.io', 'r.test:5000'] });
    assert.equal(formatTable(secretColumns(NOW), [secret]).split('\n')[1], 'hub    kubernetes.io/dockerconfigjson   quay.io,r.test:5000   60m');
    assert.deepEqual(JSON.parse(formatList('json', 'SecretList', secretColumns(NOW), [secret])), { apiVersion: 'berth.dev/v1', kind: 'SecretList', metadata: {}, items: [secret] });
  });
});

describe('describe', () => {
  test('describe is: stream fields, each tag with spec, history (current first) and conditions', () => {
    const text = describeImageStream(STREAM, NOW);
    const expected = [
      'Name:               ruby',
      'Namespace:          demo',
      'Created:            2026-06-01T10:00:00.000Z (2h ago)',
      'Annotations:        image.berth.dev/dockerRepositoryCheck=2026-06-01T11:59:00.000Z',
      '                    team=web',
      'Image Repository:   registry.test/demo/ruby',
      'Import From:        quay.io/org/ruby',
      'Last Import Check:  2026-06-01T11:59:00.000Z (60s ago)',
      'Generation:         2',
      'Tags:               3',
      '',
      '3.3',
      `  * registry.test/demo/ruby@${D2}`,
      '      generation 3, 5m ago (2026-06-01T11:55:00.000Z), rolled back to generation 1',
      `    registry.test/demo/ruby@${D1}`,
      '      generation 2, 60m ago (2026-06-01T11:00:00.000Z), imported from quay.io/org/ruby:3.3',
      `    registry.test/demo/ruby@${D2}`,
      '      generation 1, 90m ago (2026-06-01T10:30:00.000Z), pushed',
      '',
      'edge',
      '  tracks quay.io/org/ruby:edge, scheduled import',
      '  no image',
      '  ! ImportSuccess=False Unauthorized: quay.io refused the credentials (2m ago)',
      '',
      'old',
      `  * registry.test/demo/ruby@${D1}`,
      '      generation 1, 31d ago (2026-05-01T00:00:00.000Z), tagged from p2/base:1',
      '',
    ].join('\n');
    assert.equal(text, expected);
  });

  test('describe istag: details, config, build history and layers with the total', () => {
    const text = describeImageStreamTag(ISTAG, NOW);
    const expected = [
      'Name:               ruby:3.3',
      'Namespace:          demo',
      'Tagged:             2026-06-01T11:55:00.000Z (5m ago)',
      'Generation:         3',
      `Image Digest:       ${D2}`,
      `Image Reference:    registry.test/demo/ruby@${D2}`,
      'Media Type:         application/vnd.oci.image.manifest.v1+json',
      `Image ID:           ${CONFIG}`,
      'First Recorded:     2026-06-01T10:30:00.000Z (90m ago)',
      'Author:             Jane <jane@example.com>',
      'Built:              2026-05-30T08:00:00Z (2d ago)',
      'Docker Version:     27.1.0',
      'Platform:           linux/arm64/v8',
      'Image Size:         25.5kB (25500 bytes): config and 2 layers',
      'Labels:             maintainer=web team',
      '                    org.opencontainers.image.title=Ruby 3.3',
      'Annotations:        org.opencontainers.image.source=https://git.example/ruby',
      '',
      'Config:',
      '  Entrypoint:       /bin/sh -c',
      '  Command:          irb',
      '  Working Dir:      /app',
      '  User:             1001',
      '  Exposed Ports:    443/tcp',
      '                    8080/tcp',
      '  Environment:      PATH=/usr/bin',
      '                    RUBY_VERSION=3.3',
      '',
      'History:',
      '  2026-05-30T07:00:00Z  /bin/sh -c #(nop) ADD file:abc in /',
      '  2026-05-30T08:00:00Z  /bin/sh -c #(nop) CMD ["irb"]  (empty layer)',
      '',
      'Layers:',
      `  20kB (20000 bytes)   ${L1}   application/vnd.oci.image.layer.v1.tar+gzip`,
      `  5kB (5000 bytes)     ${L2}   application/vnd.oci.image.layer.v1.tar+gzip`,
      '  Total: 25kB (25000 bytes) in 2 layers',
      '',
    ].join('\n');
    assert.equal(text, expected);
  });

  test('an index lists its per-platform manifests and has no config', () => {
    const index = imageStreamTagSchema.parse({
      metadata: { name: 'multi:1' },
      image: {
        metadata: { name: D1 },
        dockerImageManifestMediaType: 'application/vnd.oci.image.index.v1+json',
        dockerImageLayers: [],
        dockerImageManifests: [
          { digest: L1, mediaType: 'application/vnd.oci.image.manifest.v1+json', manifestSize: 500, architecture: 'amd64', os: 'linux' },
          { digest: L2, mediaType: 'application/vnd.oci.image.manifest.v1+json', manifestSize: 501 },
        ],
      },
    });
    const text = describeImageStreamTag(index, NOW);
    assert.match(text, /^Manifests:$/m);
    assert.match(text, new RegExp(`^  linux/amd64 +${L1}   application/vnd\\.oci\\.image\\.manifest\\.v1\\+json   500 bytes$`, 'm'));
    assert.match(text, new RegExp(`^  unknown +${L2}`, 'm'));
    assert.doesNotMatch(text, /^Config:$/m);
    assert.match(text, /^Layers:\n {2}<none>$/m);
  });
});

describe('import results', () => {
  const result = (importResult: unknown, conditions?: unknown): ImageStream => imageStreamSchema.parse({ metadata: { name: 'alpine' }, status: { tags: [], ...(conditions === undefined ? {} : { conditions }) }, importResult });

  test('the summary: tags found, manifests fetched, each tag with its digest or its failure', () => {
    const text = importSummary(result({ tagsFound: 3, imported: [{ tag: '3.19', image: D1, changed: true }, { tag: '3.20', image: D2, changed: false }], failed: [{ tag: 'edge', reason: 'NotFound', message: 'manifest unknown' }] }));
    assert.equal(text, [
      'Tags found:        3',
      'Manifests fetched: 2 (1 changed)',
      'Failed:            1',
      `  3.19  ${D1}  updated`,
      `  3.20  ${D2}  unchanged`,
      '  edge  failed: NotFound: manifest unknown',
      '',
    ].join('\n'));
  });

  test('exit 1 only when nothing was imported and something failed', () => {
    assert.equal(importFailure(result({ tagsFound: 2, imported: [{ tag: 'a', image: D1 }], failed: [{ tag: 'b', reason: 'X' }] })), undefined);
    assert.equal(importFailure(result({ tagsFound: 1, imported: [], failed: [{ tag: 'v1', reason: 'Unauthorized', message: 'wrong password' }] })), 'import of "alpine" failed: tag v1: Unauthorized: wrong password');
    assert.match(importFailure(result({ tagsFound: 2, imported: [], failed: [{ tag: 'a', reason: 'X' }, { tag: 'b', reason: 'X' }] })) ?? '', /failed for all 2 tags: tag a: X/);
    assert.equal(importFailure(result({ tagsFound: 0, imported: [], failed: [] }, [{ type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'no' }])), 'import of "alpine" failed: Unauthorized: no');
    assert.equal(importFailure(result({ tagsFound: 0, imported: [], failed: [] })), undefined);
  });
});

describe('helpers', () => {
  test('mapLimit keeps the order and the limit', async () => {
    let running = 0;
    let peak = 0;
    const out = await mapLimit([5, 1, 3, 2, 4], 2, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, n));
      running -= 1;
      return n * 10;
    });
    assert.deepEqual(out, [50, 10, 30, 20, 40]);
    assert.equal(peak, 2);
    assert.deepEqual(await mapLimit([], 4, async () => 1), []);
  });

  test('generations are positive whole numbers', () => {
    assert.equal(parseGeneration('3'), 3);
    for (const bad of ['0', '-1', '1.5', 'x', '']) assert.throws(() => parseGeneration(bad), (e: unknown) => e instanceof CliError && e.code === 'usage');
  });

  test('docker-registry secrets: auth.json as docker login writes it, sent base64 in data', () => {
    const json = dockerConfigJson('https://r.test:5000/', 'alice', 'p:w', 'a@x');
    assert.deepEqual(JSON.parse(json), { auths: { 'r.test:5000': { auth: Buffer.from('alice:p:w').toString('base64'), email: 'a@x' } } });
    assert.deepEqual(checkDockerConfig(json, 'f'), ['r.test:5000']);
    const body = secretBody('hub', json) as { data: Record<string, string>; type: string };
    assert.equal(body.type, 'kubernetes.io/dockerconfigjson');
    assert.equal(Buffer.from(body.data['.dockerconfigjson'] ?? '', 'base64').toString(), json);
    assert.throws(() => checkDockerConfig('{"auths":{}}', 'auth.json'), (e: unknown) => e instanceof CliError && /auth\.json has no registries/.test(e.message));
    assert.throws(() => checkDockerConfig('nope', 'auth.json'), (e: unknown) => e instanceof CliError && /auth\.json is not JSON/.test(e.message));
    assert.throws(() => dockerConfigJson('r', 'a:b', 'p'), (e: unknown) => e instanceof CliError && /must not be empty or contain ":"/.test(e.message));
  });
});
