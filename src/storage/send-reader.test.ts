import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { BlobDriver } from './blob-driver.ts';
import { BlobNotFoundError } from './errors.ts';
import { FilesystemDriver } from './filesystem-driver.ts';
import { MemoryDriver } from './memory-driver.ts';
import { sendReader } from './send-reader.ts';

function pattern(size: number): Buffer {
  const data = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) data[i] = (i * 7 + (i >> 12)) & 0xff;
  return data;
}

async function collect(driver: BlobDriver, key: string, range?: { start: number; end: number }): Promise<Buffer> {
  const reader = await driver.openReader!(key);
  const sink = new PassThrough();
  const parts: Buffer[] = [];
  sink.on('data', (chunk: Buffer) => parts.push(Buffer.from(chunk)));
  await sendReader(reader, range, sink);
  return Buffer.concat(parts);
}

const drivers: Array<[string, () => Promise<{ driver: BlobDriver; cleanup: () => Promise<void> }>]> = [
  ['memory', async () => ({ driver: new MemoryDriver(), cleanup: async () => {} })],
  ['filesystem', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'berth-send-'));
    return { driver: new FilesystemDriver({ root }), cleanup: () => rm(root, { recursive: true, force: true }) };
  }],
];

for (const [name, make] of drivers) {
  describe(`sendReader over the ${name} driver`, () => {
    it('declares positional reads and sends whole objects, ranges and empty objects', async () => {
      const { driver, cleanup } = await make();
      try {
        assert.equal(driver.capabilities.positionalRead, true);
        const data = pattern(3 * 1024 * 1024 + 12345);
        await driver.putAll('a/big', data);
        await driver.putAll('a/empty', new Uint8Array(0));
        assert.deepEqual(await collect(driver, 'a/big'), data);
        assert.deepEqual(await collect(driver, 'a/big', { start: 1000, end: 2 * 1024 * 1024 + 7 }), data.subarray(1000, 2 * 1024 * 1024 + 8));
        assert.deepEqual(await collect(driver, 'a/big', { start: 5, end: 5 }), data.subarray(5, 6));
        assert.equal((await collect(driver, 'a/empty')).byteLength, 0);
        await assert.rejects(driver.openReader!('a/missing'), BlobNotFoundError);
        // A key that only prefixes other keys is not an object.
        await assert.rejects(driver.openReader!('a'), BlobNotFoundError);
      } finally {
        await cleanup();
      }
    });

    it('keeps reading what it opened after the object is deleted', async () => {
      const { driver, cleanup } = await make();
      try {
        const data = pattern(2 * 1024 * 1024 + 1);
        await driver.putAll('b/x', data);
        const reader = await driver.openReader!('b/x');
        await driver.delete('b/x');
        const parts: Buffer[] = [];
        const sink = new PassThrough();
        sink.on('data', (chunk: Buffer) => parts.push(Buffer.from(chunk)));
        await sendReader(reader, undefined, sink);
        assert.deepEqual(Buffer.concat(parts), data);
      } finally {
        await cleanup();
      }
    });

    it('rejects and closes the reader when the destination goes away', async () => {
      const { driver, cleanup } = await make();
      try {
        await driver.putAll('c/x', pattern(4 * 1024 * 1024));
        const reader = await driver.openReader!('c/x');
        let writes = 0;
        const sink = new Writable({
          write(_chunk, _encoding, callback) {
            if (++writes === 1) setImmediate(() => sink.destroy());
            else callback();
          },
        });
        await assert.rejects(sendReader(reader, undefined, sink));
        await assert.rejects(reader.read(Buffer.alloc(1), 1, 0));
      } finally {
        await cleanup();
      }
    });
  });
}
