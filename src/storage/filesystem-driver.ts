import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import type { Dirent, WriteStream } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlobDriver, BlobReader, BlobStat, BlobWriter, ByteRange, DriverCapabilities } from './blob-driver.ts';
import {
  BlobNotFoundError,
  InvalidKeyError,
  RangeNotSatisfiableError,
  StorageError,
  validateKey,
  validatePrefix,
} from './errors.ts';

/**
 * Stream buffer size for read streams and part writes. Blobs are up to hundreds
 * of MiB; large chunks keep syscalls and per-chunk overhead low.
 */
const STREAM_CHUNK = 4 * 1024 * 1024;
/** How many written bytes start a background fsync, so the final one at commit has little left to do. */
const WRITEBACK_BYTES = 16 * 1024 * 1024;

/** Prefix of `putAll` temp files. Never a valid key segment, so never listed or addressed. */
const TEMP_PREFIX = '.tmp-';

/**
 * How often a create is retried when its directory vanished in between
 * (another caller pruned it as empty right after we created it).
 */
const CREATE_ATTEMPTS = 5;

export interface FilesystemDriverOptions {
  /** Directory that holds everything; created on first write. */
  readonly root: string;
}

/**
 * Blob driver on a local (or shared POSIX) filesystem.
 *
 * Layout: committed objects at `<root>/objects/<key>`, writer parts at
 * `<root>/parts/<key>`. The trees are separate so that a part can never be
 * seen as an object. Objects appear only by `rename`, which is atomic, after
 * their bytes were fsynced; the directory is fsynced after the rename so the
 * new name survives a crash.
 *
 * Open read streams keep reading the bytes they opened even when the object
 * is deleted or replaced meanwhile (POSIX unlink semantics).
 */
export class FilesystemDriver implements BlobDriver {
  readonly name = 'filesystem';
  readonly capabilities: DriverCapabilities = { redirect: false, positionalRead: true };
  readonly #root: string;
  readonly #objects: string;
  readonly #parts: string;

  constructor(options: FilesystemDriverOptions) {
    this.#root = path.resolve(options.root);
    this.#objects = path.join(this.#root, 'objects');
    this.#parts = path.join(this.#root, 'parts');
  }

  async stat(key: string): Promise<BlobStat | undefined> {
    return statFile(this.#objectPath(key));
  }

  async createReadStream(key: string, range?: ByteRange): Promise<Readable> {
    return openReadStream(key, this.#objectPath(key), range);
  }

  async openReader(key: string): Promise<BlobReader> {
    const { handle, size } = await openObjectFile(key, this.#objectPath(key));
    return new FilesystemReader(handle, size);
  }

  async readAll(key: string): Promise<Buffer> {
    const file = this.#objectPath(key);
    try {
      return await readFile(file);
    } catch (error) {
      if (isNotFound(error)) throw new BlobNotFoundError(key);
      throw error;
    }
  }

  async putAll(key: string, data: Uint8Array): Promise<void> {
    const target = this.#objectPath(key);
    const dir = path.dirname(target);
    const temp = path.join(dir, TEMP_PREFIX + randomBytes(12).toString('hex'));
    const handle = await this.#createFile(temp, 'wx', true);
    try {
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      // The temp file sits in the target's directory, so the directory cannot be
      // pruned before this rename and the rename stays on one filesystem.
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(ignore);
      throw error;
    }
    await fsyncDir(dir);
  }

  async writer(key: string, options: { append: boolean }): Promise<BlobWriter> {
    const part = this.#partPath(key);
    const handle = await this.#createFile(part, options.append ? 'a' : 'w', false);
    try {
      // fstat of the opened file, not stat of the path: no window in which another
      // process could replace the part between measuring and opening it.
      const size = options.append ? (await handle.stat()).size : 0;
      return new FilesystemWriter(key, handle, size, {
        sync: () => fsyncFile(part),
        publish: (targetKey) => this.#publishPart(key, part, targetKey),
        discard: async () => {
          await this.#unlinkAndPrune(part, this.#parts);
        },
      });
    } catch (error) {
      await handle.close().catch(ignore);
      throw error;
    }
  }

  async createPartReader(key: string): Promise<Readable> {
    return openReadStream(key, this.#partPath(key), undefined);
  }

  async partSize(key: string): Promise<number | undefined> {
    return (await statFile(this.#partPath(key)))?.size;
  }

  async delete(key: string): Promise<boolean> {
    const object = this.#objectPath(key);
    const part = this.#partPath(key);
    const [deletedObject, deletedPart] = await Promise.all([
      this.#unlinkAndPrune(object, this.#objects),
      this.#unlinkAndPrune(part, this.#parts),
    ]);
    return deletedObject || deletedPart;
  }

  /**
   * Every committed key starting with `prefix` (a plain string prefix, as in S3).
   * Only the directories that can hold matching keys are walked.
   */
  async *list(prefix: string): AsyncIterable<string> {
    validatePrefix(prefix);
    const slash = prefix.lastIndexOf('/');
    const startKey = slash < 0 ? '' : prefix.slice(0, slash);
    const startDir = startKey === '' ? this.#objects : this.#resolveUnder(this.#objects, startKey);
    yield* walk(startDir, startKey, prefix);
  }

  /**
   * Moves a flushed, fsynced part to its object key. Called by the writer.
   * If the object exists already the part is dropped instead: keys are
   * content-addressed, and replacing would only disturb readers of the old file.
   */
  async #publishPart(partKey: string, partFile: string, targetKey: string): Promise<void> {
    const target = this.#objectPath(targetKey);
    if (await statFile(target)) {
      await this.#unlinkAndPrune(partFile, this.#parts);
      return;
    }
    const dir = path.dirname(target);
    for (let attempt = 1; ; attempt++) {
      try {
        await ensureDir(dir, this.#root, true);
        // Two writers racing to the same key both rename; the later one replaces
        // the earlier file with the same bytes, and either way the object is whole.
        await rename(partFile, target);
        break;
      } catch (error) {
        if (!isCode(error, 'ENOENT')) throw error;
        // Either the part is gone (deleted under the writer) or the target
        // directory was pruned between mkdir and rename.
        if (!(await statFile(partFile))) throw new BlobNotFoundError(partKey);
        if (attempt >= CREATE_ATTEMPTS) throw error;
      }
    }
    await fsyncDir(dir);
  }

  #objectPath(key: string): string {
    return this.#resolveUnder(this.#objects, validateKey(key));
  }

  #partPath(key: string): string {
    return this.#resolveUnder(this.#parts, validateKey(key));
  }

  /** Joins a validated key under a tree and checks, as a second fence, that the result stays inside it. */
  #resolveUnder(tree: string, key: string): string {
    const resolved = path.join(tree, ...key.split('/'));
    if (!resolved.startsWith(tree + path.sep)) throw new InvalidKeyError(key);
    return resolved;
  }

  /**
   * Opens a file for writing, creating its directory when missing. Open comes
   * first because the directory usually exists (every PATCH of an upload reopens
   * its part), which saves a mkdir per request. Retried when the directory
   * disappears between mkdir and open, because empty directories are pruned.
   */
  async #createFile(file: string, flags: string, durableDirs: boolean): Promise<FileHandle> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await open(file, flags);
      } catch (error) {
        if (!isCode(error, 'ENOENT') || attempt >= CREATE_ATTEMPTS) throw error;
      }
      await ensureDir(path.dirname(file), this.#root, durableDirs);
    }
  }

  async #unlinkAndPrune(file: string, tree: string): Promise<boolean> {
    try {
      await unlink(file);
    } catch (error) {
      // EISDIR: the key names a directory of other keys, not an object.
      if (isNotFound(error)) return false;
      throw error;
    }
    // Parts live in a few long-lived directories: pruning them would only make concurrent uploads recreate them.
    if (tree !== this.#parts) await pruneEmptyDirs(path.dirname(file), tree);
    return true;
  }
}

type WriterState = 'open' | 'closed' | 'done';

/** What a writer asks of its driver once its part file is flushed. */
interface PartOperations {
  /** fsyncs the part file, whose stream has closed its own descriptor. */
  sync(): Promise<void>;
  /** Makes the fsynced part the object under `targetKey` and removes the part. */
  publish(targetKey: string): Promise<void>;
  /** Removes the part file. */
  discard(): Promise<void>;
}

/**
 * Writer over an fs.WriteStream on an already-open part file. Writes are queued
 * on the stream and only awaited when its buffer is full, so a request body is
 * copied to disk at stream speed rather than one awaited syscall per chunk.
 */
class FilesystemWriter implements BlobWriter {
  readonly key: string;
  #size: number;
  readonly #part: PartOperations;
  readonly #stream: WriteStream;
  #state: WriterState = 'open';
  #failure: Error | undefined;
  /** A background fsync in flight, if any. */
  #writeback: Promise<void> | undefined;

  constructor(key: string, handle: FileHandle, size: number, part: PartOperations) {
    this.key = key;
    this.#size = size;
    this.#part = part;
    // The stream owns the handle and closes it when it ends or is destroyed: a
    // FileHandle lent to a stream cannot be closed (or fsynced) by us afterwards.
    this.#stream = handle.createWriteStream({ highWaterMark: STREAM_CHUNK });
    this.#stream.on('error', (error: Error) => {
      this.#failure ??= error;
    });
  }

  get size(): number {
    return this.#size;
  }

  /** The stream keeps a reference to `chunk` until written: do not reuse its memory. */
  write(chunk: Uint8Array): Promise<void> | undefined {
    this.#assertOpen('write');
    if (this.#failure) throw this.#failure;
    const before = this.#size;
    this.#size += chunk.byteLength;
    // Keyed on the part's total size, not on this writer's bytes, so that an upload
    // sent as many small PATCHes gets the same periodic writeback as a monolithic one.
    if (Math.floor(before / WRITEBACK_BYTES) !== Math.floor(this.#size / WRITEBACK_BYTES)) this.#startWriteback();
    if (this.#stream.write(chunk)) return undefined;
    return waitForDrain(this.#stream).then(() => {
      if (this.#failure) throw this.#failure;
    });
  }

  async close(): Promise<void> {
    if (this.#state !== 'open') return;
    this.#state = 'closed';
    await this.#finish();
  }

  /**
   * Starts an fsync in the background (one at a time). It is an optimisation
   * only: its errors are ignored, because commit's own fsync reports them.
   */
  #startWriteback(): void {
    if (this.#writeback !== undefined) return;
    this.#writeback = this.#part.sync().catch(ignore).finally(() => {
      this.#writeback = undefined;
    });
  }

  async commit(targetKey: string): Promise<void> {
    // Validate before releasing anything, so a bad key leaves the writer usable.
    validateKey(targetKey);
    this.#assertOpen('commit');
    this.#state = 'closed';
    await this.#finish();
    await this.#writeback;
    await this.#part.sync();
    await this.#part.publish(targetKey);
    this.#state = 'done';
  }

  async cancel(): Promise<void> {
    if (this.#state === 'done') return;
    const wasOpen = this.#state === 'open';
    this.#state = 'done';
    if (wasOpen) {
      // Destroy drops queued chunks, waits for an in-flight write and closes the descriptor.
      this.#stream.destroy();
      await finished(this.#stream).catch(ignore);
    }
    await this.#part.discard();
  }

  #assertOpen(operation: string): void {
    if (this.#state !== 'open') {
      throw new StorageError(`cannot ${operation}: writer for ${this.key} was already closed, committed or cancelled`);
    }
  }

  /** Flushes the queued chunks and closes the descriptor; rejects with the first write or close error. */
  async #finish(): Promise<void> {
    if (this.#failure) {
      this.#stream.destroy();
      await finished(this.#stream).catch(ignore);
      throw this.#failure;
    }
    this.#stream.end();
    await finished(this.#stream);
    if (this.#failure) throw this.#failure;
  }
}

/** Positional reads on an open object file; the descriptor pins the bytes it opened. */
class FilesystemReader implements BlobReader {
  readonly size: number;
  readonly #handle: FileHandle;
  #closed: Promise<void> | undefined;

  constructor(handle: FileHandle, size: number) {
    this.#handle = handle;
    this.size = size;
  }

  async read(buffer: Uint8Array, length: number, position: number): Promise<number> {
    if (this.#closed !== undefined) throw new StorageError('reader was closed');
    // One pread can return short (signals, large requests); callers rely on short meaning end.
    let total = 0;
    while (total < length) {
      const { bytesRead } = await this.#handle.read(buffer, total, length - total, position + total);
      if (bytesRead === 0) break;
      total += bytesRead;
    }
    return total;
  }

  close(): Promise<void> {
    this.#closed ??= this.#handle.close();
    return this.#closed;
  }
}

/** Opens an object (or part) file for reading; a directory (a key that only prefixes others) is not an object. */
async function openObjectFile(key: string, file: string): Promise<{ handle: FileHandle; size: number }> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if (isNotFound(error)) throw new BlobNotFoundError(key);
    throw error;
  }
  try {
    // fstat, not stat: it describes the file this descriptor reads, whatever the path names now.
    const info = await handle.stat();
    if (!info.isFile()) throw new BlobNotFoundError(key);
    return { handle, size: info.size };
  } catch (error) {
    await handle.close().catch(ignore);
    throw error;
  }
}

async function openReadStream(key: string, file: string, range: ByteRange | undefined): Promise<Readable> {
  const { handle, size } = await openObjectFile(key, file);
  try {
    const bounds = resolveRange(key, size, range);
    if (bounds === undefined) {
      await handle.close();
      return Readable.from([], { objectMode: false });
    }
    // The stream owns the handle from here (autoClose) and closes it on end or destroy.
    // An explicit end also keeps fs from allocating a full chunk for a small file.
    return handle.createReadStream({ start: bounds.start, end: bounds.end, highWaterMark: STREAM_CHUNK });
  } catch (error) {
    await handle.close().catch(ignore);
    throw error;
  }
}

/**
 * The inclusive bounds to read, or undefined for an empty whole-object read.
 * Throws `RangeNotSatisfiableError` for a range that starts at or past the end, is reversed or not integral.
 */
function resolveRange(key: string, size: number, range: ByteRange | undefined): ByteRange | undefined {
  if (range === undefined) return size === 0 ? undefined : { start: 0, end: size - 1 };
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || start >= size) {
    throw new RangeNotSatisfiableError(key, size);
  }
  return { start, end: Math.min(end, size - 1) };
}

async function statFile(file: string): Promise<BlobStat | undefined> {
  try {
    const info = await stat(file);
    return info.isFile() ? { size: info.size, modifiedAt: info.mtime } : undefined;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function* walk(dir: string, dirKey: string, prefix: string): AsyncGenerator<string> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    // Missing (never written, or pruned while we walk) or not a directory: no keys here.
    if (isNotFound(error)) return;
    throw error;
  }
  for (const entry of entries) {
    // Temp files and anything else that is not a key segment are not objects.
    if (!isKeySegment(entry.name)) continue;
    const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
    if (entry.isFile()) {
      if (key.startsWith(prefix)) yield key;
    } else if (entry.isDirectory()) {
      const below = `${key}/`;
      if (below.startsWith(prefix) || prefix.startsWith(below)) yield* walk(path.join(dir, entry.name), key, prefix);
    }
  }
}

function isKeySegment(name: string): boolean {
  try {
    validateKey(name);
    return true;
  } catch {
    return false;
  }
}

/**
 * mkdir -p. When `durable`, fsyncs the parent of every directory it created, so
 * that an object renamed into a new directory is reachable after a crash.
 */
async function ensureDir(dir: string, root: string, durable: boolean): Promise<void> {
  const first = await mkdir(dir, { recursive: true });
  if (!durable || first === undefined) return;
  const created: string[] = [];
  for (let d = dir; d.length >= first.length && d.startsWith(root); d = path.dirname(d)) {
    created.push(d);
    if (d === first) break;
  }
  for (const d of created.reverse()) await fsyncDir(path.dirname(d));
}

/** fsync of a directory, so that names created or renamed in it survive a crash. */
function fsyncDir(dir: string): Promise<void> {
  return fsyncFile(dir);
}

/**
 * Removes empty directories from `dir` up to (not including) `stopAt`, so that
 * deleted keys do not leave directory trees behind. Stops at the first
 * directory that is not empty or already gone; creators retry on ENOENT.
 */
async function pruneEmptyDirs(dir: string, stopAt: string): Promise<void> {
  for (let d = dir; d.startsWith(stopAt + path.sep); d = path.dirname(d)) {
    try {
      await rmdir(d);
    } catch {
      return;
    }
  }
}

/**
 * fsync through a fresh descriptor: the writer's own was closed by its stream.
 * fsync flushes the file's data, not the descriptor's, so this makes durable
 * what was written through the other one.
 */
async function fsyncFile(file: string): Promise<void> {
  const handle = await open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Resolves on 'drain'; rejects when the stream fails or is destroyed first. */
function waitForDrain(stream: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      stream.off('drain', onDrain);
      stream.off('error', onError);
      stream.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    const onClose = (): void => {
      cleanup();
      reject(new StorageError('writer was cancelled while a write was pending'));
    };
    stream.on('drain', onDrain);
    stream.on('error', onError);
    stream.on('close', onClose);
  });
}

function isCode(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/** ENOENT: no such path; ENOTDIR: a parent is a file; EISDIR: the key is a directory of other keys. */
function isNotFound(error: unknown): boolean {
  return isCode(error, 'ENOENT') || isCode(error, 'ENOTDIR') || isCode(error, 'EISDIR');
}

function ignore(): void {}
