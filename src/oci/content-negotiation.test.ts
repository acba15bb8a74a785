import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { acceptedTypes } from './content-negotiation.ts';
import { MEDIA_TYPES } from './media-types.ts';

describe('acceptedTypes', () => {
  test('no Accept header, or an empty one, admits every type', () => {
    for (const header of [undefined, '', '  ']) assert.equal(acceptedTypes(header).accepts(MEDIA_TYPES.ociIndex), true);
  });

  test('a list admits exactly its types, case-insensitively and with parameters', () => {
    const types = acceptedTypes(`${MEDIA_TYPES.dockerManifest.toUpperCase()};q=0.9, ${MEDIA_TYPES.ociManifest} ; q=0.5`);
    assert.equal(types.accepts(MEDIA_TYPES.dockerManifest), true);
    assert.equal(types.accepts(MEDIA_TYPES.ociManifest), true);
    assert.equal(types.accepts(MEDIA_TYPES.ociIndex), false);
    assert.equal(types.accepts(MEDIA_TYPES.dockerManifestList), false);
  });

  test('*/* and application/* admit everything except what q=0 refuses', () => {
    assert.equal(acceptedTypes('*/*').accepts(MEDIA_TYPES.ociIndex), true);
    assert.equal(acceptedTypes(`${MEDIA_TYPES.ociManifest}, application/*`).accepts(MEDIA_TYPES.dockerManifestList), true);
    const refusing = acceptedTypes(`*/*, ${MEDIA_TYPES.ociIndex};q=0`);
    assert.equal(refusing.accepts(MEDIA_TYPES.ociIndex), false);
    assert.equal(refusing.accepts(MEDIA_TYPES.ociManifest), true);
  });

  test('only refusals admit everything else', () => {
    const types = acceptedTypes(`${MEDIA_TYPES.ociIndex};q=0`);
    assert.equal(types.accepts(MEDIA_TYPES.ociIndex), false);
    assert.equal(types.accepts(MEDIA_TYPES.dockerManifest), true);
  });

  test('repeated headers are read as one list', () => {
    const types = acceptedTypes([MEDIA_TYPES.dockerManifest, MEDIA_TYPES.dockerManifestList]);
    assert.equal(types.accepts(MEDIA_TYPES.dockerManifestList), true);
    assert.equal(types.accepts(MEDIA_TYPES.ociManifest), false);
  });

  test('names: only a type the header lists itself with q above 0, never through a wildcard or when absent', () => {
    const ndjson = 'application/x-ndjson';
    assert.equal(acceptedTypes(`${ndjson}, application/json;q=0.5`).names(ndjson), true);
    assert.equal(acceptedTypes('Application/X-NDJSON').names(ndjson), true);
    assert.equal(acceptedTypes(`${ndjson};q=0, application/json`).names(ndjson), false);
    assert.equal(acceptedTypes('*/*').names(ndjson), false);
    assert.equal(acceptedTypes(undefined).names(ndjson), false);
  });
});
