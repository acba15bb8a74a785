import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { forEachChunk } from './for-each-chunk.ts';

describe('forEachChunk', () => {
  it('delivers every chunk in order and waits for slow consumers', async () => {
    const source = new PassThrough();
    const seen: string[] = [];
    const done = forEachChunk(source, async (chunk) => {
      await new Promise((r) => setTimeout(r, 2));
      seen.push(Buffer.from(chunk).toString());
    });
    for (const part of ['a', 'b', 'c']) source.write(part);
    source.end();
    await done;
    assert.equal(seen.join(''), 'abc');
  });

  it('rejects once, without an unhandled rejection, when a write fails while the client goes away', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const source = new PassThrough();
      const done = forEachChunk(source, () => Promise.reject(new Error('disk full')));
      source.write('x');
      source.destroy();
      await assert.rejects(done);
      await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('reports a body that ends early', async () => {
    const source = new PassThrough();
    const done = forEachChunk(source, () => undefined);
    source.write('x');
    source.destroy();
    await assert.rejects(done, (e: unknown) => (e as NodeJS.ErrnoException).code === 'ECONNRESET');
  });
});
