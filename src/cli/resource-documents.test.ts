import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { ServerEntry } from './client-config.ts';
import { documentProject, handlerFor } from './apply-commands.ts';
import { CliError } from './cli-errors.ts';
import { parseResourceDocuments, readResourceDocuments } from './resource-documents.ts';

const SEED = '{"apiVersion":"v1","kind":"ImageStream","metadata":{"name":"ruby"},"spec":{"dockerImageRepository":"openshift/ruby-20-centos7"}}';

function usageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof CliError && error.code === 'usage' && pattern.test(error.message);
}

describe('resource documents', () => {
  test('one JSON object, kept as written', () => {
    const docs = parseResourceDocuments(SEED, 'seed.json');
    assert.deepEqual(docs, [{ kind: 'ImageStream', body: JSON.parse(SEED) as unknown, origin: 'seed.json' }]);
  });

  test('a List (any …List kind) and a JSON array are flattened, nested Lists too', () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [JSON.parse(SEED), { kind: 'ImageStreamList', items: [{ kind: 'ImageStream', metadata: { name: 'b' } }] }],
    });
    const docs = parseResourceDocuments(list, 'l.json');
    assert.deepEqual(docs.map((d) => [d.kind, (d.body['metadata'] as { name: string }).name, d.origin]), [
      ['ImageStream', 'ruby', 'l.json (item 1)'],
      ['ImageStream', 'b', 'l.json (item 2) (item 1)'],
    ]);
    assert.equal(parseResourceDocuments(`[${SEED},${SEED}]`, 'a.json').length, 2);
  });

  test('multi-document YAML, empty documents skipped, numbered origins', () => {
    const text = ['---', 'kind: Project', 'metadata: {name: p}', '---', '', '---', 'kind: ServiceAccount', 'metadata:', '  name: ci', '  namespace: p', '...', ''].join('\n');
    const docs = parseResourceDocuments(text, 'r.yaml');
    assert.deepEqual(docs.map((d) => [d.kind, d.origin]), [['Project', 'r.yaml (document 1)'], ['ServiceAccount', 'r.yaml (document 3)']]);
    assert.deepEqual(docs[1]?.body, { kind: 'ServiceAccount', metadata: { name: 'ci', namespace: 'p' } });
  });

  test('a YAML List in one document', () => {
    const docs = parseResourceDocuments('kind: List\nitems:\n- kind: Secret\n  metadata: {name: s}\n- kind: Group\n  metadata: {name: g}\n', 'x.yml');
    assert.deepEqual(docs.map((d) => d.kind), ['Secret', 'Group']);
  });

  test('YAML that starts with a brace is still YAML when it is not JSON', () => {
    assert.deepEqual(parseResourceDocuments('{kind: ImageStream, metadata: {name: x}}', 'x.yaml').map((d) => d.kind), ['ImageStream']);
    assert.throws(() => parseResourceDocuments('{kind: ImageStream}', 'x.json'), usageError(/^x\.json: invalid JSON/));
  });

  test('errors say which file and document', () => {
    assert.throws(() => parseResourceDocuments('', 'e.yaml'), usageError(/^e\.yaml: no resources found$/));
    assert.throws(() => parseResourceDocuments('metadata: {name: x}\n', 'n.yaml'), usageError(/^n\.yaml: the object has no "kind"$/));
    assert.throws(() => parseResourceDocuments('kind: A\n---\nkind: [\n', 'b.yaml'), usageError(/^b\.yaml \(document 2\): invalid YAML: .* at line \d+, column \d+$/));
    assert.throws(() => parseResourceDocuments('kind: List\nitems: 3\n', 'l.yaml'), usageError(/List has no "items" array/));
    assert.throws(() => parseResourceDocuments('- 1\n', 's.yaml'), usageError(/^s\.yaml \(item 1\): not a resource object$/));
  });

  test('files and their read errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-docs-'));
    try {
      await writeFile(join(dir, 'seed.json'), SEED);
      assert.equal((await readResourceDocuments(join(dir, 'seed.json')))[0]?.kind, 'ImageStream');
      await assert.rejects(readResourceDocuments(join(dir, 'missing.yaml')), (e: unknown) => e instanceof CliError && e.code === 'file' && /cannot read .*missing\.yaml: ENOENT/.test(e.message));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('kinds and namespaces', () => {
  const entry: ServerEntry = { url: 'https://berth.test', project: 'current' } as ServerEntry;

  test('every API kind has a route, case-insensitively; others are refused by name', () => {
    for (const kind of ['ImageStream', 'imagestream', 'ImageStreamTag', 'Secret', 'ServiceAccount', 'Project', 'RoleBinding', 'ClusterRoleBinding', 'User', 'Group']) {
      assert.ok(handlerFor(kind));
    }
    assert.throws(() => handlerFor('Deployment'), usageError(/unknown kind "Deployment": one of ImageStream/));
  });

  test('names are checked before any request', () => {
    assert.equal(handlerFor('ImageStream').name({ metadata: { name: 'a/b' } }), 'a/b');
    assert.throws(() => handlerFor('ImageStream').name({ metadata: {} }), usageError(/has no metadata.name/));
    assert.throws(() => handlerFor('ImageStream').name({ metadata: { name: 'A' } }), usageError(/invalid image stream name/));
    assert.equal(handlerFor('ImageStreamTag').name({ metadata: { name: 'a:1' } }), 'a:1');
    assert.throws(() => handlerFor('ImageStreamTag').name({ metadata: { name: 'a' } }), usageError(/has no tag/));
    assert.throws(() => handlerFor('Secret').name({ metadata: { name: 'Bad' } }), usageError(/invalid secret name/));
    assert.equal(handlerFor('RoleBinding').name({ roleRef: { name: 'registry-viewer' } }), 'registry-viewer');
    assert.throws(() => handlerFor('RoleBinding').name({ metadata: { name: 'a' }, roleRef: { name: 'b' } }), usageError(/named after their role/));
  });

  test('metadata.namespace, else -n, else the current project; a conflict is refused', () => {
    assert.equal(documentProject({ metadata: { namespace: 'doc' } }, undefined, entry), 'doc');
    assert.equal(documentProject({ metadata: { namespace: 'doc' } }, 'doc', entry), 'doc');
    assert.equal(documentProject({ metadata: {} }, 'flag', entry), 'flag');
    assert.equal(documentProject({}, undefined, entry), 'current');
    assert.throws(() => documentProject({ metadata: { namespace: 'doc' } }, 'flag', entry), usageError(/namespace "doc", not "flag"/));
  });
});
