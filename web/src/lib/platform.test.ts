import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageManifestRef } from '../api/types.ts';
import { choosePlatform, platformLabel, selectablePlatforms } from './platform.ts';

const m = (architecture: string, os = 'linux', variant?: string): ImageManifestRef =>
  ({ digest: `sha256:${architecture}${variant ?? ''}`, os, architecture, ...(variant ? { variant } : {}) });

describe('platform switch', () => {
  const manifests = [m('arm64', 'linux', 'v8'), m('amd64'), m('s390x'), m('unknown', 'unknown')];
  it('labels platforms as podman --platform writes them', () => {
    assert.equal(platformLabel(m('arm64', 'linux', 'v8')), 'linux/arm64/v8');
    assert.equal(platformLabel({}), 'unknown/unknown');
  });
  it('offers real platforms only, in index order (no attestation manifests)', () => {
    assert.deepEqual(selectablePlatforms(manifests).map(platformLabel), ['linux/arm64/v8', 'linux/amd64', 'linux/s390x']);
  });
  it('shows the platform the URL names, else linux/amd64, else the first', () => {
    assert.equal(choosePlatform(manifests, 'linux/s390x')?.digest, 'sha256:s390x');
    assert.equal(choosePlatform(manifests, undefined)?.digest, 'sha256:amd64');
    assert.equal(choosePlatform(manifests, 'windows/amd64')?.digest, 'sha256:amd64');
    assert.equal(choosePlatform([m('riscv64'), m('arm64')], null)?.digest, 'sha256:riscv64');
  });
  it('has nothing to choose for a single-platform image', () => {
    assert.equal(choosePlatform(undefined, 'linux/amd64'), undefined);
    assert.equal(choosePlatform([], null), undefined);
  });
});
