import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ImageStream, TagEvent } from '../api/types.ts';
import { buildSteps, eventSource, lastUpdated, layerShares, orderTagHistory, summarizeTags, tagSource } from './history.ts';

const event = (generation: number, created: string, image = `sha256:${String(generation).repeat(64).slice(0, 64)}`): TagEvent =>
  ({ generation, created, image, dockerImageReference: `r@${image}` });

describe('orderTagHistory', () => {
  it('orders newest first by generation, then time, and drops duplicates from merged pages', () => {
    const a = event(1, '2026-01-01T00:00:00Z');
    const b = event(2, '2026-01-02T00:00:00Z');
    const c = event(3, '2026-01-01T12:00:00Z'); // a rollback: older time, newer generation
    assert.deepEqual(orderTagHistory([a, c, b, b]).map((e) => e.generation), [3, 2, 1]);
  });
  it('breaks generation ties by creation time', () => {
    const early = event(2, '2026-01-01T00:00:00Z', 'sha256:aa');
    const late = event(2, '2026-01-03T00:00:00Z', 'sha256:bb');
    assert.deepEqual(orderTagHistory([early, late]).map((e) => e.image), ['sha256:bb', 'sha256:aa']);
  });
});

describe('summarizeTags', () => {
  const stream: ImageStream = {
    kind: 'ImageStream',
    metadata: { name: 'app' },
    spec: { tags: [{ name: 'upstream', from: { kind: 'DockerImage', name: 'docker.io/library/ruby:3.3' } }, { name: 'pending', from: { kind: 'DockerImage', name: 'quay.io/x/y:1' } }] },
    status: {
      tags: [
        { tag: '1.0', items: [event(1, '2026-01-01T00:00:00Z')] },
        { tag: 'latest', items: [event(1, '2026-01-01T00:00:00Z')] },
        { tag: 'upstream', items: [event(4, '2026-02-01T00:00:00Z'), event(2, '2026-01-15T00:00:00Z')] },
        { tag: 'pending', items: [], conditions: [{ type: 'ImportSuccess', status: 'False', reason: 'Unauthorized', message: 'authentication required' }] },
      ],
    },
  };
  it('lists the most recently updated first, latest ahead of ties, tags without images last', () => {
    assert.deepEqual(summarizeTags(stream).map((t) => t.tag), ['upstream', 'latest', '1.0', 'pending']);
  });
  it('says where a tag comes from and why it failed', () => {
    const rows = new Map(summarizeTags(stream).map((t) => [t.tag, t]));
    assert.equal(rows.get('upstream')?.source, 'imported from docker.io/library/ruby:3.3');
    assert.equal(rows.get('upstream')?.current?.generation, 4);
    assert.equal(rows.get('1.0')?.source, 'pushed');
    assert.equal(rows.get('pending')?.current, undefined);
    assert.equal(rows.get('pending')?.problem, 'Unauthorized: authentication required');
    assert.equal(tagSource({ name: 'x', from: { kind: 'ImageStreamTag', name: 'src:1', namespace: 'other' } }), 'tagged from other/src:1');
  });
  it('prefers what the current history item says over the spec', () => {
    const moved: ImageStream = {
      ...stream,
      status: { tags: [{ tag: 'upstream', items: [{ ...event(5, '2026-03-01T00:00:00Z'), source: { kind: 'rollback', ref: '2' } }, event(4, '2026-02-01T00:00:00Z')] }] },
    };
    assert.equal(summarizeTags(moved).find((t) => t.tag === 'upstream')?.source, 'rolled back to generation 2');
  });
  it('finds the last update over every tag', () => {
    assert.equal(lastUpdated(stream), '2026-02-01T00:00:00Z');
    assert.equal(lastUpdated({ ...stream, status: {} }), undefined);
  });
});

describe('eventSource', () => {
  const at = (source: TagEvent['source']): TagEvent => ({ ...event(1, '2026-01-01T00:00:00Z'), source });
  it('says in words whether an item was pushed, imported, tagged or rolled back', () => {
    assert.equal(eventSource(at({ kind: 'push' })), 'pushed');
    assert.equal(eventSource(at({ kind: 'import', ref: 'quay.io/x/y:1' })), 'imported from quay.io/x/y:1');
    assert.equal(eventSource(at({ kind: 'tag', ref: 'p2/src:1.0' })), 'tagged from p2/src:1.0');
    assert.equal(eventSource(at({ kind: 'rollback', ref: '3' })), 'rolled back to generation 3');
    assert.equal(eventSource(at(undefined)), undefined);
  });
});

describe('buildSteps and layerShares', () => {
  const layers = [{ name: 'sha256:l1', size: 300 }, { name: 'sha256:l2', size: 100 }, { name: 'sha256:l3', size: 600 }];
  it('matches each non-empty build step to the next layer in order', () => {
    const steps = buildSteps([
      { createdBy: 'ADD rootfs.tar /' },
      { createdBy: 'ENV A=1', emptyLayer: true },
      { createdBy: 'RUN make' },
      { createdBy: 'CMD ["app"]', emptyLayer: true },
      { createdBy: 'COPY app /app' },
    ], layers);
    assert.deepEqual(steps.map((s) => s.layerIndex), [0, undefined, 1, undefined, 2]);
    assert.equal(steps[4]?.layer?.name, 'sha256:l3');
  });
  it('gives steps past the last layer none rather than a wrong one', () => {
    const steps = buildSteps([{ createdBy: 'a' }, { createdBy: 'b' }], layers.slice(0, 1));
    assert.deepEqual(steps.map((s) => s.layerIndex), [0, undefined]);
  });
  it('computes each layer share of the total', () => {
    assert.deepEqual(layerShares(layers), { total: 1000, shares: [30, 10, 60] });
    assert.deepEqual(layerShares([{ name: 'e', size: 0 }]), { total: 0, shares: [0] });
  });
});
