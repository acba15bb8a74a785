import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CliError } from './cli-errors.ts';
import { formatTable } from './output.ts';
import { imageStreamPruneSchema, parseKeepTagRevisions, parseKeepYoungerThan, PRUNED_COLUMNS, pruneSummary } from './prune-commands.ts';

const answer = (dryRun: boolean) =>
  imageStreamPruneSchema.parse({
    apiVersion: 'berth.dev/v1',
    kind: 'ImageStreamPrune',
    metadata: { namespace: 'p' },
    spec: { keepTagRevisions: 2, keepYoungerThanSeconds: 0, dryRun },
    status: {
      imageStreams: 3,
      pruned: [
        { stream: 'app', tag: 'v1', created: '2026-05-01T00:00:01.000Z', dockerImageReference: 'r/p/app@sha256:a', image: 'sha256:a', generation: 2, source: { kind: 'push' } },
        { stream: 'app', tag: 'v1', created: '2026-05-01T00:00:00.000Z', dockerImageReference: 'r/p/app@sha256:b', image: 'sha256:b', generation: 1, source: { kind: 'tag', ref: 'p/x:1' } },
        { stream: 'lib', tag: 'old', created: '2026-05-01T00:00:00.000Z', dockerImageReference: 'r/p/lib@sha256:c', image: 'sha256:c', generation: 7, source: { kind: 'push' } },
      ],
    },
  });

describe('berth adm prune imagestreams', () => {
  test('--keep-tag-revisions is a whole number, at least 1', () => {
    assert.equal(parseKeepTagRevisions('3'), 3);
    assert.equal(parseKeepTagRevisions('1'), 1);
    for (const bad of ['0', '-1', '1.5', 'x', '', '99999999']) assert.throws(() => parseKeepTagRevisions(bad), (e: unknown) => e instanceof CliError && /--keep-tag-revisions/.test(e.message), bad);
  });

  test('--keep-younger-than is a duration, or 0 for any age', () => {
    assert.equal(parseKeepYoungerThan('60m'), 3600);
    assert.equal(parseKeepYoungerThan('1h30m'), 5400);
    assert.equal(parseKeepYoungerThan('7d'), 604_800);
    for (const zero of ['0', '0s', '0m']) assert.equal(parseKeepYoungerThan(zero), 0, zero);
    for (const bad of ['', 'soon', '-1h', '1w']) assert.throws(() => parseKeepYoungerThan(bad), /invalid duration/, bad);
  });

  test('a table of the items and a summary that says whether they went', () => {
    assert.equal(pruneSummary(answer(true)), 'Would remove 3 history items of 2 tags in 2 image streams (3 image streams examined).');
    assert.equal(pruneSummary(answer(false)), 'Removed 3 history items of 2 tags in 2 image streams (3 image streams examined).');
    const table = formatTable(PRUNED_COLUMNS, answer(true).status.pruned).split('\n');
    assert.match(table[0] ?? '', /^STREAM\s+TAG\s+GENERATION\s+IMAGE\s+CREATED$/);
    assert.match(table[1] ?? '', /^app\s+v1\s+2\s+sha256:a\s+2026-05-01T00:00:01\.000Z$/);
    const wide = formatTable(PRUNED_COLUMNS, answer(true).status.pruned, true).split('\n');
    assert.match(wide[2] ?? '', /r\/p\/app@sha256:b\s+tag p\/x:1$/);
  });
});
