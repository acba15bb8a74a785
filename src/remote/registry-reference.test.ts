import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ImageReferenceError,
  familiarImageReference,
  formatImageReference,
  manifestReference,
  parseImageReference,
  registryApiHost,
} from './registry-reference.ts';
import type { ReferenceErrorReason } from './registry-reference.ts';

const D = `sha256:${'a'.repeat(64)}`;

test('references parse the way docker parses them', () => {
  const cases: Array<[string, string, string, string | undefined, string | undefined]> = [
    ['nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['nginx:1.27', 'docker.io', 'library/nginx', '1.27', undefined],
    ['user/app', 'docker.io', 'user/app', 'latest', undefined],
    ['docker.io/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['index.docker.io/library/nginx:1', 'docker.io', 'library/nginx', '1', undefined],
    ['docker.io/library/nginx', 'docker.io', 'library/nginx', 'latest', undefined],
    ['registry.example.com:5000/ns/name:tag', 'registry.example.com:5000', 'ns/name', 'tag', undefined],
    ['registry.example.com/a/b/c', 'registry.example.com', 'a/b/c', 'latest', undefined],
    [`ns/name@${D}`, 'docker.io', 'ns/name', undefined, D],
    [`quay.io/ns/name:v1@${D}`, 'quay.io', 'ns/name', 'v1', D],
    ['localhost:5000/x', 'localhost:5000', 'x', 'latest', undefined],
    ['localhost/x:y', 'localhost', 'x', 'y', undefined],
    ['127.0.0.1:5000/p/r:t', '127.0.0.1:5000', 'p/r', 't', undefined],
    ['[::1]:5000/p/r', '[::1]:5000', 'p/r', 'latest', undefined],
    ['Example/app', 'Example', 'app', 'latest', undefined],
    ['my-reg/a__b.c-d', 'docker.io', 'my-reg/a__b.c-d', 'latest', undefined],
    // Like docker: with no slash, host:port is a name with a tag.
    ['localhost:5000', 'docker.io', 'library/localhost', '5000', undefined],
  ];
  for (const [input, registry, repository, tag, digest] of cases) {
    assert.deepEqual(parseImageReference(input), { registry, repository, tag, digest }, input);
  }
});

test('defaultTag: false leaves a bare repository without tag', () => {
  assert.deepEqual(parseImageReference('quay.io/ns/name', { defaultTag: false }), {
    registry: 'quay.io', repository: 'ns/name', tag: undefined, digest: undefined,
  });
  assert.equal(parseImageReference('quay.io/ns/name:v2', { defaultTag: false }).tag, 'v2');
  assert.equal(parseImageReference('ruby', { defaultTag: '3.3' }).tag, '3.3');
});

test('invalid references are rejected with a reason', () => {
  const cases: Array<[string, ReferenceErrorReason]> = [
    ['', 'empty'],
    ['Nginx', 'uppercase-repository'],
    ['quay.io/NS/name', 'uppercase-repository'],
    ['nginx:', 'invalid-tag'],
    ['nginx:-x', 'invalid-tag'],
    [`nginx:${'t'.repeat(129)}`, 'invalid-tag'],
    ['nginx@sha256:abc', 'invalid-digest'],
    ['nginx@md5:' + 'a'.repeat(32), 'invalid-digest'],
    ['a'.repeat(64), 'hex-repository'],
    ['ns//name', 'invalid-format'],
    ['ns/name/', 'invalid-format'],
    ['-bad.host/x', 'invalid-format'],
    ['host.io/x_-y', 'invalid-format'],
    ['host.io/', 'invalid-format'],
    [':tag', 'invalid-format'],
    [`host.io/${'a/'.repeat(130)}a`, 'name-too-long'],
    ['with space', 'invalid-format'],
  ];
  for (const [input, reason] of cases) {
    assert.throws(() => parseImageReference(input), (err: unknown) => {
      assert.ok(err instanceof ImageReferenceError, input);
      assert.equal(err.reason, reason, `${input}: ${err.message}`);
      return true;
    });
  }
});

test('docker.io is served by registry-1.docker.io', () => {
  assert.equal(registryApiHost('docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('index.docker.io'), 'registry-1.docker.io');
  assert.equal(registryApiHost('quay.io'), 'quay.io');
  assert.equal(registryApiHost('localhost:5000'), 'localhost:5000');
});

test('formatting and the manifest reference', () => {
  const hub = parseImageReference('nginx');
  assert.equal(formatImageReference(hub), 'docker.io/library/nginx:latest');
  assert.equal(familiarImageReference(hub), 'nginx:latest');
  assert.equal(familiarImageReference(parseImageReference('user/app:1')), 'user/app:1');
  assert.equal(familiarImageReference(parseImageReference('library/a/b')), 'library/a/b:latest');
  const pinned = parseImageReference(`quay.io/ns/name:v1@${D}`);
  assert.equal(formatImageReference(pinned), `quay.io/ns/name:v1@${D}`);
  assert.equal(familiarImageReference(pinned), `quay.io/ns/name:v1@${D}`);
  assert.equal(manifestReference(pinned), D);
  assert.equal(manifestReference(hub), 'latest');
  assert.equal(manifestReference(parseImageReference('x', { defaultTag: false })), undefined);
});
