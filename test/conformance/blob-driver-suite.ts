import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { BlobDriver } from '../../src/storage/blob-driver.ts';
import { BlobNotFoundError, InvalidKeyError, RangeNotSatisfiableError } from '../../src/storage/errors.ts';

/** A driver under test and how to remove whatever it stored. */
export interface DriverFixture {
  readonly driver: BlobDriver;
  cleanup(): Promise<void>;
}

/** Differences a driver may declare; each skipped case is reported with its reason, never passed silently. */
export interface BlobDriverSuiteOptions {
  /**
   * Why a read stream that is already open may break when its object is deleted
   * (e.g. an object store that stops serving a GET in flight). Omit for drivers
   * whose open reads are unaffected by a delete, as with POSIX files and memory.
   */
  readonly deleteWhileReadingSkipReason?: string;
}

const MiB = 1024 * 1024;

/** Keys every method must refuse with `InvalidKeyError`. */
const INVALID_KEYS = ['../x', '/abs', 'a//b', 'a/./b', '', 'a\\b', '.hidden', 'a/../b', 'a/', 'x/.tmp-1'];

/**
 * The one conformance suite for `BlobDriver`. Every driver (filesystem,
 * memory, S3, GCS) registers it; a driver is done when it is green.
 * `makeDriver` is called for every case and must return an empty store.
 */
export function blobDriverSuite(
  name: string,
  makeDriver: () => Promise<DriverFixture>,
  options: BlobDriverSuiteOptions = {},
): void {
  describe(`BlobDriver conformance: ${name}`, () => {
    let fixture: DriverFixture | undefined;
    let driver: BlobDriver;

    beforeEach(async () => {
      fixture = await makeDriver();
      driver = fixture.driver;
    });

    afterEach(async () => {
      await fixture?.cleanup();
      fixture = undefined;
    });

    describe('whole objects', () => {
      it('round-trips putAll, readAll, stat and createReadStream', async () => {
        const data = bytes(10_000, 1);
        const before = Date.now();
        await driver.putAll('blobs/sha256/ab/abcdef/data', data);
        assert.deepEqual(await driver.readAll('blobs/sha256/ab/abcdef/data'), data);
        assert.deepEqual(await readStream(await driver.createReadStream('blobs/sha256/ab/abcdef/data')), data);
        const info = await driver.stat('blobs/sha256/ab/abcdef/data');
        assert.ok(info);
        assert.equal(info.size, data.byteLength);
        assert.ok(info.modifiedAt instanceof Date);
        // Coarse: filesystems round mtimes, object stores use the server's clock.
        assert.ok(Math.abs(info.modifiedAt.getTime() - before) < 60_000, 'modifiedAt is about now');
      });

      it('replaces an object written again with putAll', async () => {
        await driver.putAll('k', bytes(100, 1));
        await driver.putAll('k', bytes(50, 2));
        assert.deepEqual(await driver.readAll('k'), bytes(50, 2));
        assert.equal((await driver.stat('k'))?.size, 50);
      });

      it('keeps its bytes when the caller later mutates the buffers it passed or got', async () => {
        const data = bytes(64, 3);
        await driver.putAll('k', data);
        data.fill(0);
        const read = await driver.readAll('k');
        assert.deepEqual(read, bytes(64, 3));
        read.fill(0);
        assert.deepEqual(await driver.readAll('k'), bytes(64, 3));
      });

      it('stores zero-length objects through putAll', async () => {
        await driver.putAll('empty', new Uint8Array(0));
        assert.equal((await driver.stat('empty'))?.size, 0);
        assert.equal((await driver.readAll('empty')).byteLength, 0);
        assert.equal((await readStream(await driver.createReadStream('empty'))).byteLength, 0);
        assert.deepEqual(await collect(driver.list('')), ['empty']);
      });

      it('reports missing keys as BlobNotFoundError or undefined', async () => {
        await driver.putAll('present/one', bytes(1, 1));
        for (const key of ['missing', 'present/two', 'present', 'present/one/below']) {
          assert.equal(await driver.stat(key), undefined, `stat ${key}`);
          await assert.rejects(driver.readAll(key), BlobNotFoundError, `readAll ${key}`);
          await assert.rejects(driver.createReadStream(key), BlobNotFoundError, `createReadStream ${key}`);
          await assert.rejects(driver.createReadStream(key, { start: 0, end: 0 }), BlobNotFoundError);
          assert.equal(await driver.partSize(key), undefined, `partSize ${key}`);
          await assert.rejects(driver.createPartReader(key), BlobNotFoundError, `createPartReader ${key}`);
          assert.equal(await driver.delete(key), false, `delete ${key}`);
        }
        assert.deepEqual(await driver.readAll('present/one'), bytes(1, 1));
      });

      it('carries the key on BlobNotFoundError', async () => {
        await assert.rejects(driver.readAll('no/such'), (error: unknown) => {
          assert.ok(error instanceof BlobNotFoundError);
          assert.equal(error.key, 'no/such');
          return true;
        });
      });
    });

    describe('invalid keys', () => {
      for (const key of INVALID_KEYS) {
        it(`refuses ${JSON.stringify(key)} in every method`, async () => {
          await driver.putAll('valid', bytes(4, 1));
          const calls: Array<[string, () => Promise<unknown>]> = [
            ['stat', () => driver.stat(key)],
            ['createReadStream', () => driver.createReadStream(key)],
            ['createReadStream(range)', () => driver.createReadStream(key, { start: 0, end: 1 })],
            ['readAll', () => driver.readAll(key)],
            ['putAll', () => driver.putAll(key, bytes(4, 1))],
            ['writer', () => driver.writer(key, { append: false })],
            ['writer(append)', () => driver.writer(key, { append: true })],
            ['createPartReader', () => driver.createPartReader(key)],
            ['partSize', () => driver.partSize(key)],
            ['delete', () => driver.delete(key)],
          ];
          // The empty string and a trailing '/' are valid list prefixes.
          if (key !== '' && !/^[^/]+\/$/.test(key)) calls.push(['list', () => collect(driver.list(key))]);
          const redirectUrl = driver.redirectUrl?.bind(driver);
          if (driver.capabilities.redirect && redirectUrl) {
            calls.push(['redirectUrl', () => redirectUrl(key, { expiresInSeconds: 60 })]);
          }
          for (const [method, call] of calls) {
            await assert.rejects(call, InvalidKeyError, `${method}(${JSON.stringify(key)})`);
          }
          const writer = await driver.writer('uploads/w', { append: false });
          await writer.write(bytes(4, 2));
          await assert.rejects(writer.commit(key), InvalidKeyError, `commit(${JSON.stringify(key)})`);
          // A refused commit leaves the writer usable.
          await writer.commit('committed');
          assert.deepEqual(await driver.readAll('committed'), bytes(4, 2));
          assert.deepEqual(await collect(driver.list('')), ['committed', 'valid']);
        });
      }
    });

    describe('ranges', () => {
      const size = 1000;
      const data = bytes(size, 7);
      beforeEach(async () => {
        await driver.putAll('r', data);
      });

      it('reads the first byte', async () => {
        assert.deepEqual(await readStream(await driver.createReadStream('r', { start: 0, end: 0 })), data.subarray(0, 1));
      });

      it('reads the middle', async () => {
        assert.deepEqual(
          await readStream(await driver.createReadStream('r', { start: 100, end: 199 })),
          data.subarray(100, 200),
        );
      });

      it('reads the last byte and the whole object as ranges', async () => {
        assert.deepEqual(
          await readStream(await driver.createReadStream('r', { start: size - 1, end: size - 1 })),
          data.subarray(size - 1),
        );
        assert.deepEqual(await readStream(await driver.createReadStream('r', { start: 0, end: size - 1 })), data);
      });

      it('clips an end past the end of the object', async () => {
        assert.deepEqual(
          await readStream(await driver.createReadStream('r', { start: 990, end: 5000 })),
          data.subarray(990),
        );
      });

      it('refuses a start at or past the end with RangeNotSatisfiableError carrying the size', async () => {
        for (const start of [size, size + 1, 10 * size]) {
          await assert.rejects(driver.createReadStream('r', { start, end: start + 10 }), (error: unknown) => {
            assert.ok(error instanceof RangeNotSatisfiableError);
            assert.equal(error.size, size);
            return true;
          });
        }
      });

      it('refuses every range of a zero-length object', async () => {
        await driver.putAll('empty', new Uint8Array(0));
        await assert.rejects(driver.createReadStream('empty', { start: 0, end: 0 }), RangeNotSatisfiableError);
      });

      it('reports a missing object before judging the range', async () => {
        await assert.rejects(driver.createReadStream('absent', { start: 10_000, end: 20_000 }), BlobNotFoundError);
      });
    });

    describe('writers', () => {
      it('writes and commits', async () => {
        const writer = await driver.writer('uploads/1', { append: false });
        assert.equal(writer.key, 'uploads/1');
        assert.equal(writer.size, 0);
        await writer.write(bytes(300, 1));
        await writer.write(bytes(200, 2));
        assert.equal(writer.size, 500);
        await writer.commit('blobs/one');
        assert.deepEqual(await driver.readAll('blobs/one'), Buffer.concat([bytes(300, 1), bytes(200, 2)]));
        assert.equal((await driver.stat('blobs/one'))?.size, 500);
        assert.equal(await driver.partSize('uploads/1'), undefined);
        assert.deepEqual(await collect(driver.list('')), ['blobs/one']);
      });

      it('commits a zero-length object', async () => {
        const writer = await driver.writer('uploads/empty', { append: false });
        await writer.commit('blobs/empty');
        assert.equal((await driver.stat('blobs/empty'))?.size, 0);
        assert.equal((await driver.readAll('blobs/empty')).byteLength, 0);
        assert.equal(await driver.partSize('uploads/empty'), undefined);
      });

      it('keeps the part after close and resumes it with append: true', async () => {
        const first = await driver.writer('uploads/2', { append: false });
        await first.write(bytes(1000, 1));
        await first.close();
        assert.equal(await driver.partSize('uploads/2'), 1000);
        assert.deepEqual(await readStream(await driver.createPartReader('uploads/2')), bytes(1000, 1));

        const second = await driver.writer('uploads/2', { append: true });
        assert.equal(second.size, 1000);
        await second.write(bytes(500, 2));
        assert.equal(second.size, 1500);
        await second.close();
        assert.equal(await driver.partSize('uploads/2'), 1500);

        const third = await driver.writer('uploads/2', { append: true });
        assert.equal(third.size, 1500);
        await third.write(bytes(1, 3));
        await third.commit('blobs/resumed');
        assert.deepEqual(
          await driver.readAll('blobs/resumed'),
          Buffer.concat([bytes(1000, 1), bytes(500, 2), bytes(1, 3)]),
        );
        assert.equal(await driver.partSize('uploads/2'), undefined);
      });

      it('starts an appending writer on a missing part at size 0', async () => {
        const writer = await driver.writer('uploads/new', { append: true });
        assert.equal(writer.size, 0);
        await writer.write(bytes(10, 1));
        await writer.commit('blobs/new');
        assert.deepEqual(await driver.readAll('blobs/new'), bytes(10, 1));
      });

      it('discards the old part with append: false', async () => {
        const first = await driver.writer('uploads/3', { append: false });
        await first.write(bytes(1000, 1));
        await first.close();
        const second = await driver.writer('uploads/3', { append: false });
        assert.equal(second.size, 0);
        await second.write(bytes(10, 2));
        await second.commit('blobs/fresh');
        assert.deepEqual(await driver.readAll('blobs/fresh'), bytes(10, 2));
      });

      it('does not show a part through stat, read or list before commit', async () => {
        const writer = await driver.writer('pending', { append: false });
        await writer.write(bytes(100, 1));
        await writer.close();
        assert.equal(await driver.stat('pending'), undefined);
        await assert.rejects(driver.readAll('pending'), BlobNotFoundError);
        await assert.rejects(driver.createReadStream('pending'), BlobNotFoundError);
        assert.deepEqual(await collect(driver.list('')), []);
        assert.equal(await driver.partSize('pending'), 100);
      });

      it('removes the part on cancel, of an open or a closed writer', async () => {
        const open = await driver.writer('uploads/4', { append: false });
        await open.write(bytes(100, 1));
        await open.cancel();
        assert.equal(await driver.partSize('uploads/4'), undefined);
        await assert.rejects(driver.createPartReader('uploads/4'), BlobNotFoundError);

        const closed = await driver.writer('uploads/5', { append: false });
        await closed.write(bytes(100, 1));
        await closed.close();
        await closed.cancel();
        assert.equal(await driver.partSize('uploads/5'), undefined);
        assert.deepEqual(await collect(driver.list('')), []);
      });

      it('refuses writes and commit after the writer was released', async () => {
        const closed = await driver.writer('uploads/6', { append: false });
        await closed.close();
        await assert.rejects(async () => closed.write(bytes(1, 1)));
        await assert.rejects(closed.commit('blobs/x'));
        const cancelled = await driver.writer('uploads/7', { append: false });
        await cancelled.cancel();
        await assert.rejects(async () => cancelled.write(bytes(1, 1)));
        assert.equal(await driver.stat('blobs/x'), undefined);
        // close and cancel are idempotent, so they can sit in a finally block.
        await closed.close();
        await cancelled.cancel();
        await cancelled.close();
      });

      it('keeps the existing object when committing onto its key, and removes the part', async () => {
        await driver.putAll('blobs/existing', bytes(100, 1));
        const writer = await driver.writer('uploads/8', { append: false });
        await writer.write(bytes(100, 2));
        await writer.commit('blobs/existing');
        assert.deepEqual(await driver.readAll('blobs/existing'), bytes(100, 1));
        assert.equal(await driver.partSize('uploads/8'), undefined);
        assert.deepEqual(await collect(driver.list('')), ['blobs/existing']);
      });

      it('lets concurrent writers commit the same key', async () => {
        const data = bytes(3 * MiB + 17, 9);
        const writers = await Promise.all(
          [0, 1, 2, 3].map((i) => driver.writer(`uploads/concurrent-${i}`, { append: false })),
        );
        await Promise.all(writers.map((writer) => writeInChunks(writer, data, 64 * 1024 + 3)));
        await Promise.all(writers.map((writer) => writer.commit('blobs/shared')));
        assert.equal(sha256(await driver.readAll('blobs/shared')), sha256(data));
        for (let i = 0; i < writers.length; i++) {
          assert.equal(await driver.partSize(`uploads/concurrent-${i}`), undefined);
        }
        assert.deepEqual(await collect(driver.list('')), ['blobs/shared']);
      });

      it('streams a 20 MiB write in many chunks back byte-identical', async () => {
        const data = bytes(20 * MiB + 5, 11);
        const writer = await driver.writer('uploads/big', { append: false });
        // Uneven chunk sizes, as a network delivers them.
        let offset = 0;
        for (let i = 0; offset < data.byteLength; i++) {
          const length = [1, 16_384, 65_536, 100_003, 1_048_576][i % 5] ?? 1;
          await writer.write(data.subarray(offset, offset + length));
          offset += length;
        }
        assert.equal(writer.size, data.byteLength);
        await writer.commit('blobs/big');
        assert.equal((await driver.stat('blobs/big'))?.size, data.byteLength);
        assert.equal(await sha256Stream(await driver.createReadStream('blobs/big')), sha256(data));
        assert.equal(
          await sha256Stream(await driver.createReadStream('blobs/big', { start: 5 * MiB, end: 15 * MiB - 1 })),
          sha256(data.subarray(5 * MiB, 15 * MiB)),
        );
        assert.equal(await driver.partSize('uploads/big'), undefined);
      });

      it('re-reads a closed part for re-hashing', async () => {
        const data = bytes(2 * MiB + 1, 12);
        const writer = await driver.writer('uploads/rehash', { append: false });
        await writeInChunks(writer, data, 300_000);
        await writer.close();
        assert.equal(await sha256Stream(await driver.createPartReader('uploads/rehash')), sha256(data));
      });
    });

    describe('list', () => {
      it('returns exactly the committed keys under a prefix', async () => {
        const keys = ['a/b/1', 'a/b/2', 'a/bc', 'a/c', 'ab', 'b/x/y/z'];
        for (const key of keys) await driver.putAll(key, bytes(3, 1));
        const part = await driver.writer('a/b/part', { append: false });
        await part.write(bytes(3, 1));
        await part.close();

        assert.deepEqual(await collect(driver.list('')), keys);
        assert.deepEqual(await collect(driver.list('a/')), ['a/b/1', 'a/b/2', 'a/bc', 'a/c']);
        assert.deepEqual(await collect(driver.list('a/b/')), ['a/b/1', 'a/b/2']);
        // A prefix is a plain string prefix, as in object stores.
        assert.deepEqual(await collect(driver.list('a/b')), ['a/b/1', 'a/b/2', 'a/bc']);
        assert.deepEqual(await collect(driver.list('a')), ['a/b/1', 'a/b/2', 'a/bc', 'a/c', 'ab']);
        assert.deepEqual(await collect(driver.list('b/x/y/z')), ['b/x/y/z']);
        assert.deepEqual(await collect(driver.list('c/')), []);
        assert.deepEqual(await collect(driver.list('a/b/1/')), []);
      });

      it('no longer lists deleted keys', async () => {
        await driver.putAll('x/1', bytes(1, 1));
        await driver.putAll('x/2', bytes(1, 1));
        await driver.delete('x/1');
        assert.deepEqual(await collect(driver.list('x/')), ['x/2']);
      });
    });

    describe('delete', () => {
      it('returns true when it deleted an object and false when there was nothing', async () => {
        await driver.putAll('d/1', bytes(10, 1));
        await driver.putAll('d/2', bytes(10, 1));
        assert.equal(await driver.delete('d/1'), true);
        assert.equal(await driver.stat('d/1'), undefined);
        await assert.rejects(driver.readAll('d/1'), BlobNotFoundError);
        assert.equal(await driver.delete('d/1'), false);
        assert.equal(await driver.delete('d'), false, 'a prefix of keys is not an object');
        assert.deepEqual(await driver.readAll('d/2'), bytes(10, 1));
      });

      it('deletes a held part', async () => {
        const writer = await driver.writer('uploads/9', { append: false });
        await writer.write(bytes(10, 1));
        await writer.close();
        assert.equal(await driver.delete('uploads/9'), true);
        assert.equal(await driver.partSize('uploads/9'), undefined);
        assert.equal(await driver.delete('uploads/9'), false);
      });

      it('lets a key be written again after delete', async () => {
        await driver.putAll('again/k', bytes(10, 1));
        await driver.delete('again/k');
        await driver.putAll('again/k', bytes(5, 2));
        assert.deepEqual(await driver.readAll('again/k'), bytes(5, 2));
      });

      it(
        'does not disturb a read stream that is already open',
        { skip: options.deleteWhileReadingSkipReason ?? false },
        async () => {
          const data = bytes(8 * MiB + 3, 13);
          await driver.putAll('blobs/reading', data);
          const stream = await driver.createReadStream('blobs/reading');
          const hash = createHash('sha256');
          const chunks = stream[Symbol.asyncIterator]();
          const first = await chunks.next();
          assert.equal(first.done, false);
          hash.update(first.value as Buffer);
          assert.equal(await driver.delete('blobs/reading'), true);
          assert.equal(await driver.stat('blobs/reading'), undefined);
          for (let next = await chunks.next(); !next.done; next = await chunks.next()) hash.update(next.value as Buffer);
          assert.equal(hash.digest('hex'), sha256(data));
        },
      );

      it('does not disturb a read stream opened before the delete but not yet consumed', {
        skip: options.deleteWhileReadingSkipReason ?? false,
      }, async () => {
        const data = bytes(2 * MiB, 14);
        await driver.putAll('blobs/unread', data);
        const stream = await driver.createReadStream('blobs/unread', { start: MiB, end: 2 * MiB - 1 });
        await driver.delete('blobs/unread');
        assert.equal(await sha256Stream(stream), sha256(data.subarray(MiB)));
      });
    });
  });
}

/** Deterministic pseudo-random bytes (xorshift), different per seed. */
export function bytes(length: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

async function writeInChunks(writer: { write(chunk: Uint8Array): Promise<void> | undefined }, data: Buffer, size: number): Promise<void> {
  for (let offset = 0; offset < data.byteLength; offset += size) {
    await writer.write(data.subarray(offset, offset + size));
  }
}

async function readStream(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function sha256Stream(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

async function collect(keys: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const key of keys) out.push(key);
  return out.sort();
}
