import { Readable } from 'node:stream';
import type { BlobDriver, BlobReader, BlobStat, BlobWriter, ByteRange, DriverCapabilities } from './blob-driver.ts';
import { BlobNotFoundError, RangeNotSatisfiableError, StorageError, validateKey, validatePrefix } from './errors.ts';

/** Chunk size of read streams, so consumers see several chunks as they would from a real driver. */
const STREAM_CHUNK = 1024 * 1024;

interface StoredObject {
  readonly data: Buffer;
  readonly modifiedAt: Date;
}

/** A part under construction: chunks are copied in and only concatenated on commit or read. */
interface Part {
  chunks: Buffer[];
  size: number;
}

/**
 * In-process blob driver: a test double for the `BlobDriver` contract with the
 * same semantics as the filesystem driver (it passes the same conformance
 * suite). Nothing survives the process. Stored buffers are never mutated, so
 * an open read stream keeps its bytes when the object is deleted or replaced.
 */
export class MemoryDriver implements BlobDriver {
  readonly name = 'memory';
  readonly capabilities: DriverCapabilities = { redirect: false, positionalRead: true };
  readonly #objects = new Map<string, StoredObject>();
  readonly #parts = new Map<string, Part>();

  async stat(key: string): Promise<BlobStat | undefined> {
    const object = this.#objects.get(validateKey(key));
    return object && { size: object.data.byteLength, modifiedAt: object.modifiedAt };
  }

  async createReadStream(key: string, range?: ByteRange): Promise<Readable> {
    const object = this.#objects.get(validateKey(key));
    if (!object) throw new BlobNotFoundError(key);
    const { data } = object;
    if (range === undefined) return streamOf(data);
    const { start, end } = range;
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start || start >= data.byteLength) {
      throw new RangeNotSatisfiableError(key, data.byteLength);
    }
    return streamOf(data.subarray(start, Math.min(end, data.byteLength - 1) + 1));
  }

  async openReader(key: string): Promise<BlobReader> {
    const object = this.#objects.get(validateKey(key));
    if (!object) throw new BlobNotFoundError(key);
    return new MemoryReader(object.data);
  }

  async readAll(key: string): Promise<Buffer> {
    const object = this.#objects.get(validateKey(key));
    if (!object) throw new BlobNotFoundError(key);
    // A copy: callers may mutate what they get without corrupting the store.
    return Buffer.from(object.data);
  }

  async putAll(key: string, data: Uint8Array): Promise<void> {
    this.#objects.set(validateKey(key), { data: Buffer.from(data), modifiedAt: new Date() });
  }

  async writer(key: string, options: { append: boolean }): Promise<BlobWriter> {
    validateKey(key);
    let part = options.append ? this.#parts.get(key) : undefined;
    if (!part) {
      part = { chunks: [], size: 0 };
      this.#parts.set(key, part);
    }
    return new MemoryWriter(this.#objects, this.#parts, key, part);
  }

  async createPartReader(key: string): Promise<Readable> {
    const part = this.#parts.get(validateKey(key));
    if (!part) throw new BlobNotFoundError(key);
    // Snapshot: later writes to the part do not show up in this stream.
    return streamOf(Buffer.concat(part.chunks, part.size));
  }

  async partSize(key: string): Promise<number | undefined> {
    return this.#parts.get(validateKey(key))?.size;
  }

  async delete(key: string): Promise<boolean> {
    validateKey(key);
    const deletedObject = this.#objects.delete(key);
    const deletedPart = this.#parts.delete(key);
    return deletedObject || deletedPart;
  }

  /** Every committed key starting with `prefix` (a plain string prefix, as in S3). */
  async *list(prefix: string): AsyncIterable<string> {
    validatePrefix(prefix);
    // Snapshot of the keys, so that deleting while listing (GC) is safe.
    for (const key of [...this.#objects.keys()]) {
      if (key.startsWith(prefix)) yield key;
    }
  }
}

/** Reads from the stored buffer itself, which is never mutated, so deleting the object does not disturb it. */
class MemoryReader implements BlobReader {
  readonly size: number;
  readonly #data: Buffer;
  #closed = false;

  constructor(data: Buffer) {
    this.#data = data;
    this.size = data.byteLength;
  }

  async read(buffer: Uint8Array, length: number, position: number): Promise<number> {
    if (this.#closed) throw new StorageError('reader was closed');
    if (!Number.isSafeInteger(position) || position < 0 || !Number.isSafeInteger(length) || length < 0) {
      throw new StorageError(`invalid read of ${length} bytes at ${position}`);
    }
    const end = Math.min(position + Math.min(length, buffer.byteLength), this.#data.byteLength);
    if (end <= position) return 0;
    buffer.set(this.#data.subarray(position, end));
    return end - position;
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

type WriterState = 'open' | 'closed' | 'done';

class MemoryWriter implements BlobWriter {
  readonly key: string;
  readonly #objects: Map<string, StoredObject>;
  readonly #parts: Map<string, Part>;
  readonly #part: Part;
  #size: number;
  #state: WriterState = 'open';

  constructor(objects: Map<string, StoredObject>, parts: Map<string, Part>, key: string, part: Part) {
    this.key = key;
    this.#objects = objects;
    this.#parts = parts;
    this.#part = part;
    this.#size = part.size;
  }

  get size(): number {
    return this.#size;
  }

  write(chunk: Uint8Array): undefined {
    this.#assertOpen('write');
    this.#part.chunks.push(Buffer.from(chunk));
    this.#part.size += chunk.byteLength;
    this.#size += chunk.byteLength;
    return undefined;
  }

  async close(): Promise<void> {
    if (this.#state === 'open') this.#state = 'closed';
  }

  async commit(targetKey: string): Promise<void> {
    validateKey(targetKey);
    this.#assertOpen('commit');
    this.#state = 'closed';
    // Like a file unlinked under an open writer: the bytes are gone, commit cannot succeed.
    if (this.#parts.get(this.key) !== this.#part) throw new BlobNotFoundError(this.key);
    // Content-addressed keys: an existing object holds the same bytes and is kept.
    if (!this.#objects.has(targetKey)) {
      this.#objects.set(targetKey, { data: Buffer.concat(this.#part.chunks, this.#part.size), modifiedAt: new Date() });
    }
    this.#parts.delete(this.key);
    this.#state = 'done';
  }

  async cancel(): Promise<void> {
    if (this.#state === 'done') return;
    this.#state = 'done';
    if (this.#parts.get(this.key) === this.#part) this.#parts.delete(this.key);
  }

  #assertOpen(operation: string): void {
    if (this.#state !== 'open') {
      throw new StorageError(`cannot ${operation}: writer for ${this.key} was already closed, committed or cancelled`);
    }
  }
}

function streamOf(data: Buffer): Readable {
  const chunks: Buffer[] = [];
  for (let offset = 0; offset < data.byteLength; offset += STREAM_CHUNK) {
    chunks.push(data.subarray(offset, offset + STREAM_CHUNK));
  }
  return Readable.from(chunks, { objectMode: false });
}
