import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseRepositoryName, isValidTag } from './names.ts';
import { parseDigest } from './digest.ts';
import { OciError } from './errors.ts';

const code = (fn: () => unknown, expected: string) => assert.throws(fn, (e: unknown) => e instanceof OciError && e.code === expected);

describe('repository names', () => {
  it('normalises one-component names into the library project', () => {
    assert.deepEqual(parseRepositoryName('alpine'), { name: 'library/alpine', project: 'library' });
    assert.deepEqual(parseRepositoryName('team-a/tools/jq'), { name: 'team-a/tools/jq', project: 'team-a' });
    assert.deepEqual(parseRepositoryName('p/a.b_c__d--e'), { name: 'p/a.b_c__d--e', project: 'p' });
  });
  it('refuses names outside the grammar and projects that are not DNS labels', () => {
    for (const bad of ['', 'Upper/x', 'a//b', 'a/', '/a', 'a/../b', 'a/-b', 'a/b.', 'a/b___c', 'a_b/c', 'x'.repeat(64) + '/y', 'a/' + 'b'.repeat(260)]) {
      code(() => parseRepositoryName(bad), 'NAME_INVALID');
    }
  });
});

describe('tags and digests', () => {
  it('accepts tags of the spec grammar only', () => {
    assert.ok(isValidTag('latest') && isValidTag('v1.0_rc-1') && isValidTag('_x') && isValidTag('a'.repeat(128)));
    assert.ok(!isValidTag('') && !isValidTag('.x') && !isValidTag('-x') && !isValidTag('a'.repeat(129)) && !isValidTag('a/b'));
  });
  it('parses sha256 and sha512 digests and refuses the rest', () => {
    assert.equal(parseDigest(`sha256:${'a'.repeat(64)}`).algorithm, 'sha256');
    assert.equal(parseDigest(`sha512:${'b'.repeat(128)}`).algorithm, 'sha512');
    for (const bad of ['sha256:abc', `sha256:${'A'.repeat(64)}`, `md5:${'a'.repeat(32)}`, 'latest', `sha512:${'a'.repeat(64)}`, ':x']) {
      code(() => parseDigest(bad), 'DIGEST_INVALID');
    }
  });
});
