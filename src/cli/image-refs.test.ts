import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliError } from './cli-errors.ts';
import { checkDigest, checkStreamName, formatImageRef, isDigest, parseImageRef, shortDigest, splitStreamTag } from './image-refs.ts';

const DIGEST = `sha256:${'a'.repeat(64)}`;

function usageError(pattern: RegExp): (error: unknown) => boolean {
  return (error) => error instanceof CliError && error.code === 'usage' && pattern.test(error.message);
}

describe('NAME:TAG', () => {
  test('splits at the last colon, stream names may hold slashes', () => {
    assert.deepEqual(splitStreamTag('ruby:3.3', true), { name: 'ruby', tag: '3.3' });
    assert.deepEqual(splitStreamTag('a/b/c:v1.0-rc_1', true), { name: 'a/b/c', tag: 'v1.0-rc_1' });
    assert.deepEqual(splitStreamTag('a/b', false), { name: 'a/b', tag: undefined });
  });

  test('a missing tag, a bad tag, a bad name or a digest are usage errors', () => {
    assert.throws(() => splitStreamTag('ruby', true), usageError(/"ruby" has no tag: use NAME:TAG/));
    assert.throws(() => splitStreamTag('ruby:', true), usageError(/invalid tag ""/));
    assert.throws(() => splitStreamTag('ruby:-x', true), usageError(/invalid tag "-x"/));
    assert.throws(() => splitStreamTag('Ruby:1', true), usageError(/invalid image stream name "Ruby"/));
    assert.throws(() => splitStreamTag(`ruby@${DIGEST}`, false), usageError(/invalid|not NAME:TAG/));
  });

  test('stream names follow the repository grammar', () => {
    assert.equal(checkStreamName('my_app.v2/x--y'), 'my_app.v2/x--y');
    for (const bad of ['', 'a//b', '/a', 'a/', 'UPPER', 'a b', 'a:b']) assert.throws(() => checkStreamName(bad), usageError(/image stream name/));
  });
});

describe('[project/]name:tag and name@digest (berth tag)', () => {
  test('without a slash the -n project applies', () => {
    assert.deepEqual(parseImageRef('ruby:3.3', true), { project: undefined, name: 'ruby', tag: '3.3' });
  });

  test('the first component before a slash is the project', () => {
    assert.deepEqual(parseImageRef('p2/ruby:3.3', true), { project: 'p2', name: 'ruby', tag: '3.3' });
    assert.deepEqual(parseImageRef('p2/a/b:1', false), { project: 'p2', name: 'a/b', tag: '1' });
  });

  test('a source may be a digest, a destination may not', () => {
    assert.deepEqual(parseImageRef(`p2/ruby@${DIGEST}`, true), { project: 'p2', name: 'ruby', digest: DIGEST });
    assert.throws(() => parseImageRef(`ruby@${DIGEST}`, false), usageError(/destination must be NAME:TAG/));
    assert.throws(() => parseImageRef('ruby@sha256:abc', true), usageError(/invalid digest/));
  });

  test('errors name what is wrong', () => {
    assert.throws(() => parseImageRef('ruby', true), usageError(/has no tag: use \[PROJECT\/\]NAME:TAG or \[PROJECT\/\]NAME@DIGEST/));
    assert.throws(() => parseImageRef('a/b', false), usageError(/has no tag: use \[PROJECT\/\]NAME:TAG$/));
    assert.throws(() => parseImageRef('Bad_Project/x:1', true), usageError(/invalid project "Bad_Project"/));
    assert.throws(() => parseImageRef('p/:1', true), usageError(/image stream name/));
  });

  test('formatting gives back the reference', () => {
    for (const text of ['p2/ruby:3.3', `p/a/b@${DIGEST}`]) assert.equal(formatImageRef(parseImageRef(text, true)), text);
    assert.equal(formatImageRef({ project: undefined, name: 'ruby', tag: 'x' }), 'ruby:x');
  });
});

describe('digests', () => {
  test('sha256 must be 64 lowercase hex digits', () => {
    assert.equal(isDigest(DIGEST), true);
    assert.equal(isDigest(`sha256:${'A'.repeat(64)}`), false);
    assert.equal(isDigest('sha256:abc'), false);
    assert.equal(isDigest('sha512:abcdef'), true);
    assert.equal(isDigest('latest'), false);
    assert.equal(checkDigest(DIGEST), DIGEST);
    assert.throws(() => checkDigest('nope'), usageError(/invalid digest "nope"/));
  });

  test('short digests keep the algorithm and 12 digits', () => {
    assert.equal(shortDigest(DIGEST), 'sha256:aaaaaaaaaaaa');
    assert.equal(shortDigest(undefined), '');
  });
});
