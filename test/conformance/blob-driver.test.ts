import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { FilesystemDriver } from '../../src/storage/filesystem-driver.ts';
import { MemoryDriver } from '../../src/storage/memory-driver.ts';
import { blobDriverSuite, bytes } from './blob-driver-suite.ts';

async function tempRoot(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'berth-fs-driver-'));
}

blobDriverSuite('filesystem', async () => {
  const root = await tempRoot();
  return {
    driver: new FilesystemDriver({ root }),
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
});

blobDriverSuite('memory', async () => ({
  driver: new MemoryDriver(),
  cleanup: async () => {},
}));

/** Every file (not directory) below `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  try {
    const names = await readdir(dir, { recursive: true });
    const files: string[] = [];
    for (const name of names) if (!(await stat(path.join(dir, name))).isDirectory()) files.push(name);
    return files.sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

describe('FilesystemDriver layout', () => {
  let root: string;
  beforeEach(async () => {
    root = await tempRoot();
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('leaves no parts and no temp files behind after commit, cancel and putAll', async () => {
    const driver = new FilesystemDriver({ root });
    const committed = await driver.writer('uploads/u1/data', { append: false });
    await committed.write(bytes(1000, 1));
    await committed.close();
    const resumed = await driver.writer('uploads/u1/data', { append: true });
    await resumed.write(bytes(10, 2));
    await resumed.commit('blobs/sha256/aa/aa11/data');

    const cancelled = await driver.writer('uploads/u2/data', { append: false });
    await cancelled.write(bytes(10, 3));
    await cancelled.cancel();

    const existing = await driver.writer('uploads/u3/data', { append: false });
    await existing.write(bytes(1010, 4));
    await existing.commit('blobs/sha256/aa/aa11/data');

    await driver.putAll('repositories/p/app/manifests/tags/latest/link', bytes(71, 5));
    await driver.putAll('repositories/p/app/manifests/tags/latest/link', bytes(71, 6));

    assert.deepEqual(await filesUnder(path.join(root, 'parts')), []);
    const all = await filesUnder(root);
    assert.deepEqual(all, [
      path.join('objects', 'blobs', 'sha256', 'aa', 'aa11', 'data'),
      path.join('objects', 'repositories', 'p', 'app', 'manifests', 'tags', 'latest', 'link'),
    ]);
    assert.ok(all.every((file) => !path.basename(file).startsWith('.tmp-')));
    // Directories of parts are kept (concurrent uploads would only recreate them); no file is.
  });

  it('prunes the empty directories of deleted objects', async () => {
    const driver = new FilesystemDriver({ root });
    await driver.putAll('gc/deep/tree/one', bytes(1, 1));
    await driver.putAll('gc/deep/other', bytes(1, 1));
    await driver.delete('gc/deep/tree/one');
    assert.deepEqual((await readdir(path.join(root, 'objects', 'gc', 'deep'))).sort(), ['other']);
    await driver.delete('gc/deep/other');
    assert.ok(!(await readdir(path.join(root, 'objects'))).includes('gc'));
  });

  it('resumes an upload through another driver instance on the same root (another node)', async () => {
    const nodeA = new FilesystemDriver({ root });
    const nodeB = new FilesystemDriver({ root });
    const writer = await nodeA.writer('uploads/shared', { append: false });
    await writer.write(bytes(500, 1));
    await writer.close();
    const resumed = await nodeB.writer('uploads/shared', { append: true });
    assert.equal(resumed.size, 500);
    await resumed.write(bytes(5, 2));
    await resumed.commit('blobs/shared');
    assert.deepEqual(await nodeA.readAll('blobs/shared'), Buffer.concat([bytes(500, 1), bytes(5, 2)]));
  });

  it('skips temp files and stray names when listing', async () => {
    const driver = new FilesystemDriver({ root });
    await driver.putAll('stray/real', bytes(1, 1));
    await writeFile(path.join(root, 'objects', 'stray', '.tmp-deadbeef'), 'partial');
    await writeFile(path.join(root, 'objects', 'stray', 'has space'), 'x');
    const keys: string[] = [];
    for await (const key of driver.list('stray/')) keys.push(key);
    assert.deepEqual(keys, ['stray/real']);
  });
});
