import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseContentRange, parseRangeHeader, uploadRangeHeader } from './http-ranges.ts';
import { OciError } from '../../oci/errors.ts';

describe('Range of blob GETs', () => {
  it('reads first-last, open-ended and suffix ranges, clipping to the blob', () => {
    assert.deepEqual(parseRangeHeader('bytes=0-0', 10), { start: 0, end: 0 });
    assert.deepEqual(parseRangeHeader('bytes=5-', 10), { start: 5, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-3', 10), { start: 7, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=2-100', 10), { start: 2, end: 9 });
    assert.deepEqual(parseRangeHeader('bytes=-100', 10), { start: 0, end: 9 });
  });
  it('ignores what RFC 9110 lets a server ignore', () => {
    assert.equal(parseRangeHeader(undefined, 10), undefined);
    assert.equal(parseRangeHeader('bytes=0-1,3-4', 10), undefined);
    assert.equal(parseRangeHeader('items=0-1', 10), undefined);
    assert.equal(parseRangeHeader('bytes=5-2', 10), undefined);
  });
  it('answers 416 for a range past the end', () => {
    assert.throws(() => parseRangeHeader('bytes=10-', 10), (e: unknown) => e instanceof OciError && e.status === 416);
    assert.throws(() => parseRangeHeader('bytes=-0', 10), (e: unknown) => e instanceof OciError && e.status === 416);
  });
});

describe('Content-Range of upload chunks', () => {
  it('reads the spec form and tolerates the RFC form', () => {
    assert.deepEqual(parseContentRange('0-99'), { start: 0, end: 99 });
    assert.deepEqual(parseContentRange('bytes 100-199/*'), { start: 100, end: 199 });
    assert.equal(parseContentRange(undefined), undefined);
    assert.throws(() => parseContentRange('x-y'), (e: unknown) => e instanceof OciError && e.code === 'RANGE_INVALID');
  });
  it('reports received bytes as Distribution does', () => {
    assert.equal(uploadRangeHeader(0), '0-0');
    assert.equal(uploadRangeHeader(100), '0-99');
  });
});
