import { test } from 'node:test';
import assert from 'node:assert/strict';
import { manifestMediaType, parseNextLink, parseRetryAfter } from './remote-client.ts';

test('parseNextLink finds rel="next"', () => {
  assert.equal(parseNextLink('</v2/a/tags/list?n=2&last=b>; rel="next"'), '/v2/a/tags/list?n=2&last=b');
  assert.equal(parseNextLink('<https://r/x?last=a>; rel="prev", <https://r/x?last=c>; rel=next'), 'https://r/x?last=c');
  assert.equal(parseNextLink('</x>; rel="prev"'), undefined);
  assert.equal(parseNextLink(undefined), undefined);
  assert.equal(parseNextLink('</x?a=1,2>; title="t"; rel="next"'), '/x?a=1,2');
});

test('parseRetryAfter reads seconds and HTTP dates', () => {
  assert.equal(parseRetryAfter('3'), 3000);
  const now = Date.parse('2026-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Thu, 01 Jan 2025 00:00:05 GMT', now), 0);
  assert.equal(parseRetryAfter('soon'), undefined);
  assert.equal(parseRetryAfter(undefined), undefined);
});

test('manifestMediaType prefers the declared type, then a specific Content-Type, then the shape', () => {
  const oci = 'application/vnd.oci.image.manifest.v1+json';
  const index = 'application/vnd.oci.image.index.v1+json';
  assert.equal(manifestMediaType({ schemaVersion: 2, mediaType: index, manifests: [] }, oci), index);
  assert.equal(manifestMediaType({ schemaVersion: 2, config: {} }, index), index);
  assert.equal(manifestMediaType({ schemaVersion: 2, config: {} }, 'application/json'), oci);
  assert.equal(manifestMediaType({ schemaVersion: 2, manifests: [] }, undefined), index);
  assert.equal(manifestMediaType({ schemaVersion: 1, signatures: [] }, 'application/json'), 'application/vnd.docker.distribution.manifest.v1+prettyjws');
  assert.equal(manifestMediaType({ hello: 1 }, undefined), undefined);
});
