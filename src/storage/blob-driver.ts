import type { Readable } from 'node:stream';

/**
 * The storage contract: bytes under keys, nothing about OCI.
 *
 * Keys are relative, '/'-separated paths whose segments match
 * `[A-Za-z0-9][A-Za-z0-9._-]*` (see `validateKey`). Drivers must refuse any
 * other key with `InvalidKeyError` before touching storage, so that no client
 * input can reach a path outside the driver's root.
 */
export interface BlobDriver {
  /** Short name used in logs and config (`filesystem`, `s3`, `memory`). */
  readonly name: string;
  /** What this driver can do, declared up front rather than discovered by failures. */
  readonly capabilities: DriverCapabilities;

  /** Size and modification time of a committed object, or undefined when absent. */
  stat(key: string): Promise<BlobStat | undefined>;

  /**
   * Streams a committed object, or the inclusive byte range of it.
   * Throws `BlobNotFoundError` when absent and `RangeNotSatisfiableError` when
   * the range starts past the end. A range whose end is past the end is clipped.
   */
  createReadStream(key: string, range?: ByteRange): Promise<Readable>;

  /**
   * Opens a committed object for positional reads into buffers the caller
   * owns. Only called when `capabilities.positionalRead` is true; other drivers
   * serve reads through `createReadStream` alone. Throws `BlobNotFoundError`
   * when absent. Like a read stream, an open reader keeps reading the bytes it
   * opened when the object is deleted or replaced meanwhile.
   */
  openReader?(key: string): Promise<BlobReader>;

  /** Reads a whole (small) committed object into memory. Throws `BlobNotFoundError`. */
  readAll(key: string): Promise<Buffer>;

  /**
   * Writes a whole object atomically: readers see the old object or the new
   * one, never a part. Durable (fsynced) when the promise resolves.
   */
  putAll(key: string, data: Uint8Array): Promise<void>;

  /**
   * Opens a writer for an object that is built up over several requests
   * (an upload session). With `append: false` any previous bytes under the key
   * are discarded; with `append: true` writing continues after the bytes
   * already held (an upload resumed after a restart or on another node).
   * The bytes under a writer's key are never visible through `stat`/`read` of
   * another key until `commit`.
   */
  writer(key: string, options: { append: boolean }): Promise<BlobWriter>;

  /**
   * Streams the bytes held so far under a writer's key (used to re-hash an
   * upload after a restart). Throws `BlobNotFoundError` when nothing was written.
   */
  createPartReader(key: string): Promise<Readable>;

  /** Size of the bytes held under a writer's key, or undefined when none. */
  partSize(key: string): Promise<number | undefined>;

  /** Deletes a committed object or held part; true when something was deleted. */
  delete(key: string): Promise<boolean>;

  /**
   * Every committed key under a prefix (for garbage collection), in no particular order.
   * The prefix is a plain string prefix, as in object stores: `a/b` matches `a/b/c` and `a/bc`;
   * end it with '/' to list one "directory". Parts are never listed.
   */
  list(prefix: string): AsyncIterable<string>;

  /**
   * A URL from which a client can fetch the object directly (content offload),
   * or undefined when the driver cannot offer one. Only called when
   * `capabilities.redirect` is true.
   */
  redirectUrl?(key: string, options: { expiresInSeconds: number }): Promise<string | undefined>;
}

export interface DriverCapabilities {
  /** The driver can hand out `redirectUrl`s. */
  readonly redirect: boolean;
  /**
   * The driver implements `openReader`. A download can then reuse a few
   * buffers for every chunk, where a Readable must hand out a new buffer per
   * chunk (allocation, page faults and garbage collection per MiB served).
   * Absent means false.
   */
  readonly positionalRead?: boolean;
}

/** A committed object opened for positional reads (see `BlobDriver.openReader`). */
export interface BlobReader {
  /** Size of the object as opened. */
  readonly size: number;
  /**
   * Reads up to `length` bytes starting at byte `position` of the object into
   * `buffer` from its start, and resolves with the number read: fewer than
   * `length` only at the end of the object, 0 at or past it. The driver does not
   * keep `buffer` after the promise settles, so the caller may reuse it.
   */
  read(buffer: Uint8Array, length: number, position: number): Promise<number>;
  /** Releases the reader. Safe to call more than once; reads after it reject. */
  close(): Promise<void>;
}

export interface BlobStat {
  readonly size: number;
  readonly modifiedAt: Date;
}

/** Inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

/**
 * An object under construction. `close()` only flushes: the bytes stay under
 * the writer's key and a later `writer(key, { append: true })` continues them.
 * `commit()` moves them, atomically, to their final key and makes them readable.
 */
export interface BlobWriter {
  /** The key the writer writes under. */
  readonly key: string;
  /** Bytes held under the key: those from before this writer plus those written through it. */
  readonly size: number;
  /**
   * Queues a chunk. Returns a promise only when the caller must wait before
   * the next chunk (backpressure); undefined means go on at once, which keeps
   * per-chunk overhead off the upload path. Throws (or rejects) on a write
   * error. The bytes are safe only after `close` or `commit`, and the driver
   * may keep a reference to `chunk` until then: do not reuse its memory.
   */
  write(chunk: Uint8Array): Promise<void> | undefined;
  /** Flushes what was written and releases the writer; the part remains resumable. */
  close(): Promise<void>;
  /**
   * Flushes, makes the content durable and readable under `targetKey`
   * atomically, and removes the part. If `targetKey` already exists the
   * existing object is kept (content-addressed keys hold the same bytes).
   */
  commit(targetKey: string): Promise<void>;
  /** Discards the part and releases the writer. */
  cancel(): Promise<void>;
}
