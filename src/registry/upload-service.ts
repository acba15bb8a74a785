import { randomUUID, type Hash } from 'node:crypto';
import type { BlobDriver, BlobWriter } from '../storage/blob-driver.ts';
import type { BlobRecord, Metadata, UploadRecord } from '../metadata/stores.ts';
import { newHash, type Digest, type DigestAlgorithm } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { RepositoryName } from '../oci/names.ts';
import type { Clock } from './clock.ts';
import { RegistryCaches } from './registry-caches.ts';
import { blobKey, isUploadId, uploadKey } from './storage-keys.ts';
import { SessionLocks } from './session-locks.ts';
import { forEachChunk, type ByteSource } from './for-each-chunk.ts';

export type { ByteSource } from './for-each-chunk.ts';

/** `Content-Range: <start>-<end>` of a chunk, inclusive. */
export interface ChunkRange {
  readonly start: number;
  readonly end: number;
}

export interface UploadState {
  readonly id: string;
  readonly repository: string;
  /** Bytes received so far; the next chunk must start here. */
  readonly size: number;
}

/** A session after a chunk went in. */
export interface AppendedChunk extends UploadState {
  /** Bytes this chunk carried. */
  readonly received: number;
}

/**
 * The running sha256 of an upload session. Node's Hash cannot be saved, so it
 * lives in this process; when it is missing (restart, another node) or no
 * longer matches the stored bytes, it is rebuilt by re-reading them.
 */
interface LiveHash {
  readonly hash: Hash;
  size: number;
}

/**
 * Blob upload sessions (distribution-spec "Pushing blobs"): monolithic,
 * chunked and resumable, verified while they stream.
 *
 * Write order for a finished blob: bytes committed to storage under their
 * digest first, then the database records the blob and links it to the
 * repository. If the second step fails, the stored bytes are unreferenced and
 * garbage collection reclaims them; nothing points at bytes that do not exist.
 */
export class UploadService {
  readonly #metadata: Metadata;
  readonly #driver: BlobDriver;
  readonly #caches: RegistryCaches;
  readonly #clock: Clock;
  readonly #live = new Map<string, LiveHash>();
  readonly #locks = new SessionLocks();

  constructor(deps: { metadata: Metadata; driver: BlobDriver; caches: RegistryCaches; clock: Clock }) {
    this.#metadata = deps.metadata;
    this.#driver = deps.driver;
    this.#caches = deps.caches;
    this.#clock = deps.clock;
  }

  async start(repository: RepositoryName): Promise<UploadState> {
    const now = this.#clock();
    const record: UploadRecord = { id: randomUUID(), repository: repository.name, size: 0, createdAt: now, updatedAt: now };
    await this.#metadata.uploads.createUpload(record);
    return { id: record.id, repository: record.repository, size: 0 };
  }

  /** The session's state; BLOB_UPLOAD_UNKNOWN unless it exists in this repository. */
  async status(repository: RepositoryName, id: string): Promise<UploadState> {
    const record = await this.#record(repository, id);
    const live = this.#live.get(id);
    const size = live?.size ?? (await this.#driver.partSize(uploadKey(id))) ?? 0;
    return { id, repository: record.repository, size };
  }

  /** Appends a chunk (PATCH). A chunk that does not start at the current size is refused with 416. */
  async append(repository: RepositoryName, id: string, body: ByteSource, range: ChunkRange | undefined): Promise<AppendedChunk> {
    return this.#locks.run(id, async () => {
      await this.#record(repository, id);
      const writer = await this.#driver.writer(uploadKey(id), { append: true });
      const live = await this.#resume(id, writer, range);
      const start = live.size;
      await this.#pump(id, live, writer, body);
      await writer.close();
      await this.#metadata.uploads.updateUpload(id, live.size, this.#clock());
      return { id, repository: repository.name, size: live.size, received: live.size - start };
    });
  }

  /**
   * Finishes a session (PUT ?digest=), with an optional last chunk. The blob
   * becomes visible only if the bytes hash to `digest`; otherwise the session
   * is cancelled and nothing is stored.
   */
  async complete(repository: RepositoryName, id: string, digest: Digest, body: ByteSource | undefined, range: ChunkRange | undefined): Promise<BlobRecord> {
    return this.#locks.run(id, async () => {
      await this.#record(repository, id);
      let writer = await this.#driver.writer(uploadKey(id), { append: true });
      const live = await this.#resume(id, writer, range);
      if (body !== undefined) await this.#pump(id, live, writer, body);
      let actual: string;
      if (digest.algorithm === 'sha256') {
        actual = `sha256:${live.hash.digest('hex')}`;
      } else {
        // Sessions hash sha256 as they go; another algorithm is known only now, so read the bytes once more.
        await writer.close();
        actual = await this.#hashPart(id, digest.algorithm);
        writer = await this.#driver.writer(uploadKey(id), { append: true });
      }
      this.#live.delete(id);
      if (actual !== digest.value) {
        await writer.cancel();
        await this.#metadata.uploads.deleteUpload(id);
        throw new OciError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${digest.value}`, { detail: { expected: digest.value, actual } });
      }
      await writer.commit(blobKey(digest));
      const blob: BlobRecord = { digest: digest.value, size: live.size };
      await this.#recordBlob(repository, blob, id);
      return blob;
    });
  }

  /**
   * A whole blob in one request (POST ?digest=). Tracked as a session too, so
   * that a crash mid-body leaves a part the expiry sweep removes.
   */
  async monolithic(repository: RepositoryName, digest: Digest, body: ByteSource): Promise<BlobRecord> {
    const session = await this.start(repository);
    return this.#locks.run(session.id, async () => {
      const hash = newHash(digest.algorithm);
      const live: LiveHash = { hash, size: 0 };
      const writer = await this.#driver.writer(uploadKey(session.id), { append: false });
      await this.#pump(session.id, live, writer, body);
      const actual = `${digest.algorithm}:${hash.digest('hex')}`;
      if (actual !== digest.value) {
        await writer.cancel();
        await this.#metadata.uploads.deleteUpload(session.id);
        throw new OciError('DIGEST_INVALID', `uploaded content has digest ${actual}, not ${digest.value}`, { detail: { expected: digest.value, actual } });
      }
      await writer.commit(blobKey(digest));
      const blob: BlobRecord = { digest: digest.value, size: live.size };
      await this.#recordBlob(repository, blob, session.id);
      return blob;
    });
  }

  /** Cancels a session (DELETE) and removes what it received. */
  async cancel(repository: RepositoryName, id: string): Promise<void> {
    await this.#locks.run(id, async () => {
      await this.#record(repository, id);
      this.#live.delete(id);
      await this.#driver.delete(uploadKey(id));
      await this.#metadata.uploads.deleteUpload(id);
    });
  }

  /**
   * Cross-repository mount: links a blob that `from` holds into `repository`.
   * Returns undefined when `from` does not hold it (the caller then opens a normal session).
   */
  async mount(repository: RepositoryName, digest: Digest, from: RepositoryName): Promise<BlobRecord | undefined> {
    const blob = await this.#metadata.blobs.getRepositoryBlob(from.name, digest.value);
    if (blob === undefined) return undefined;
    const now = this.#clock();
    await this.#metadata.withTransaction(async (tx) => {
      await tx.repositories.ensureRepository(repository.name, repository.project, now);
      await tx.blobs.linkBlob(repository.name, digest.value, now);
    });
    this.#caches.forgetRepositoryBlob(RegistryCaches.key(repository.name, digest.value));
    return blob;
  }

  /** Removes sessions nobody touched since `before` (abandoned pushes); returns how many. */
  async expire(before: number, limit = 500): Promise<number> {
    const stale = await this.#metadata.uploads.listStaleUploads(before, limit);
    let expired = 0;
    for (const upload of stale) {
      // A session in use right now is not abandoned, whatever its last update said.
      if (this.#locks.isBusy(upload.id)) continue;
      await this.#locks.run(upload.id, async () => {
        const current = await this.#metadata.uploads.getUpload(upload.id);
        if (current === undefined || current.updatedAt >= before) return;
        this.#live.delete(upload.id);
        await this.#driver.delete(uploadKey(upload.id));
        await this.#metadata.uploads.deleteUpload(upload.id);
        expired++;
      });
    }
    return expired;
  }

  async #record(repository: RepositoryName, id: string): Promise<UploadRecord> {
    const record = isUploadId(id) ? await this.#metadata.uploads.getUpload(id) : undefined;
    if (record === undefined || record.repository !== repository.name) {
      throw new OciError('BLOB_UPLOAD_UNKNOWN', `upload ${JSON.stringify(id.slice(0, 64))} is unknown to ${repository.name}`);
    }
    return record;
  }

  async #recordBlob(repository: RepositoryName, blob: BlobRecord, uploadId: string): Promise<void> {
    const now = this.#clock();
    await this.#metadata.withTransaction(async (tx) => {
      await tx.repositories.ensureRepository(repository.name, repository.project, now);
      await tx.blobs.recordBlob(blob, now);
      await tx.blobs.linkBlob(repository.name, blob.digest, now);
      await tx.uploads.deleteUpload(uploadId);
    });
    this.#caches.forgetRepositoryBlob(RegistryCaches.key(repository.name, blob.digest));
  }

  /**
   * The live hash for continuing a session through `writer`, checked against
   * the chunk's range; the writer is closed if the chunk is refused. The
   * writer's size is the stored size, so no separate stat is needed per chunk.
   */
  async #resume(id: string, writer: BlobWriter, range: ChunkRange | undefined): Promise<LiveHash> {
    try {
      const live = await this.#liveHash(id, writer.size);
      checkRange(range, live.size);
      return live;
    } catch (error) {
      await writer.close().catch(() => undefined);
      throw error;
    }
  }

  /** The live hash of a session holding `stored` bytes, rebuilt from them when this process does not have it or it is stale. */
  async #liveHash(id: string, stored: number): Promise<LiveHash> {
    const live = this.#live.get(id);
    if (live !== undefined && live.size === stored) return live;
    const hash = newHash('sha256');
    let size = 0;
    if (stored > 0) {
      for await (const chunk of await this.#driver.createPartReader(uploadKey(id))) {
        hash.update(chunk as Uint8Array);
        size += (chunk as Uint8Array).byteLength;
      }
    }
    const rebuilt: LiveHash = { hash, size };
    this.#live.set(id, rebuilt);
    return rebuilt;
  }

  async #hashPart(id: string, algorithm: DigestAlgorithm): Promise<string> {
    const hash = newHash(algorithm);
    for await (const chunk of await this.#driver.createPartReader(uploadKey(id))) hash.update(chunk as Uint8Array);
    return `${algorithm}:${hash.digest('hex')}`;
  }

  /**
   * Streams a body into the writer and the hash together. If the body breaks
   * off, what was written stays (the client may resume from the reported
   * size), but the live hash is dropped so the next request rebuilds it from
   * the bytes actually stored.
   */
  async #pump(id: string, live: LiveHash, writer: BlobWriter, body: ByteSource): Promise<void> {
    try {
      await forEachChunk(body, (chunk) => {
        live.hash.update(chunk);
        live.size += chunk.byteLength;
        return writer.write(chunk);
      });
    } catch (error) {
      this.#live.delete(id);
      await writer.close().catch(() => undefined);
      throw error;
    }
  }
}

function checkRange(range: ChunkRange | undefined, size: number): void {
  if (range === undefined) return;
  if (range.start !== size || range.end < range.start) {
    throw new OciError('RANGE_INVALID', `chunk ${range.start}-${range.end} does not continue the upload at byte ${size}`, { detail: { size } });
  }
}
