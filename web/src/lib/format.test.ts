import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatAge, formatSize, formatTime, shortDigest } from './format.ts';

describe('formatSize', () => {
  it('prints bytes below a kilobyte exactly', () => {
    assert.equal(formatSize(0), '0 B');
    assert.equal(formatSize(1), '1 B');
    assert.equal(formatSize(999), '999 B');
  });
  it('uses SI units with one decimal below 10 and none above', () => {
    assert.equal(formatSize(1000), '1 KB');
    assert.equal(formatSize(1536), '1.5 KB');
    assert.equal(formatSize(12_345), '12 KB');
    assert.equal(formatSize(5_242_880), '5.2 MB');
    assert.equal(formatSize(77_800_000), '78 MB');
    assert.equal(formatSize(1_200_000_000), '1.2 GB');
  });
  it('never prints "1000 KB": rounding up moves to the next unit', () => {
    assert.equal(formatSize(999_999), '1 MB');
    assert.equal(formatSize(999_499), '999 KB');
  });
  it('prints a dash for missing or impossible sizes', () => {
    assert.equal(formatSize(undefined), '—');
    assert.equal(formatSize(null), '—');
    assert.equal(formatSize(-1), '—');
    assert.equal(formatSize(Number.NaN), '—');
  });
});

describe('shortDigest, formatTime, formatAge', () => {
  it('shortens a digest to 12 hex digits and keeps the algorithm', () => {
    assert.equal(shortDigest(`sha256:${'ab'.repeat(32)}`), 'sha256:abababababab');
    assert.equal(shortDigest('sha256:abc'), 'sha256:abc');
    assert.equal(shortDigest(undefined), '—');
  });
  it('prints times in UTC to the minute', () => {
    assert.equal(formatTime('2026-05-01T12:03:44.123Z'), '2026-05-01 12:03 UTC');
    assert.equal(formatTime(''), '—');
    assert.equal(formatTime('yesterday'), 'yesterday');
  });
  it('prints ages in the largest whole unit, dates past a month', () => {
    const now = Date.parse('2026-05-10T00:00:00Z');
    assert.equal(formatAge('2026-05-09T23:59:30Z', now), 'just now');
    assert.equal(formatAge('2026-05-09T23:58:00Z', now), '2 minutes ago');
    assert.equal(formatAge('2026-05-09T23:00:00Z', now), '1 hour ago');
    assert.equal(formatAge('2026-05-07T00:00:00Z', now), '3 days ago');
    assert.equal(formatAge('2026-03-01T00:00:00Z', now), '2026-03-01 00:00 UTC');
  });
});
