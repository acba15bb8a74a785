import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobDriver, BlobReader, ByteRange } from '../storage/blob-driver.ts';
import { sendReader } from '../storage/send-reader.ts';
import { BlobNotFoundError, RangeNotSatisfiableError } from '../storage/errors.ts';
import type { BlobRecord, Metadata } from '../metadata/stores.ts';
import type { Digest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import type { RepositoryName } from '../oci/names.ts';
import { RegistryCaches } from './registry-caches.ts';
import { blobKey } from './storage-keys.ts';

export interface BlobContent {
  readonly blob: BlobRecord;
  /** The range served, when a range was asked for. */
  readonly range?: ByteRange;
  /**
   * Writes the bytes to `destination` and ends it; call once. Rejects when
   * reading or writing fails or the destination closes early; the caller then
   * destroys the destination so a client never takes a short body for a whole one.
   */
  sendTo(destination: Writable): Promise<void>;
}

/** Blobs as a repository sees them: only those linked to it can be read or deleted through it. */
export class BlobService {
  readonly #metadata: Metadata;
  readonly #driver: BlobDriver;
  readonly #caches: RegistryCaches;

  constructor(deps: { metadata: Metadata; driver: BlobDriver; caches: RegistryCaches }) {
    this.#metadata = deps.metadata;
    this.#driver = deps.driver;
    this.#caches = deps.caches;
  }

  /** The blob if the repository holds it (cached: this is on every pull and push). */
  async stat(repository: RepositoryName, digest: Digest): Promise<BlobRecord | undefined> {
    const key = RegistryCaches.key(repository.name, digest.value);
    const cached = this.#caches.repositoryBlob(key);
    if (cached !== undefined) return cached;
    const token = this.#caches.readToken();
    const blob = await this.#metadata.blobs.getRepositoryBlob(repository.name, digest.value);
    if (blob !== undefined) this.#caches.fillRepositoryBlob(key, blob, token);
    return blob;
  }

  async require(repository: RepositoryName, digest: Digest): Promise<BlobRecord> {
    const blob = await this.stat(repository, digest);
    if (blob === undefined) throw new OciError('BLOB_UNKNOWN', `blob ${digest.value} is not in ${repository.name}`, { detail: { digest: digest.value } });
    return blob;
  }

  /** Opens the blob's bytes, or an inclusive range of them (clipped to the blob's end). */
  async open(repository: RepositoryName, digest: Digest, range?: ByteRange): Promise<BlobContent> {
    const blob = await this.require(repository, digest);
    let served: ByteRange | undefined;
    if (range !== undefined) {
      if (range.start >= blob.size) {
        throw new OciError('RANGE_INVALID', `range starts at ${range.start}, past the end of a ${blob.size}-byte blob`, { detail: { size: blob.size } });
      }
      served = { start: range.start, end: Math.min(range.end, blob.size - 1) };
    }
    try {
      const key = blobKey(digest);
      // Opened here, before any header is sent, so a missing blob is still a clean 404.
      let sendTo: (destination: Writable) => Promise<void>;
      if (this.#driver.capabilities.positionalRead === true && this.#driver.openReader !== undefined) {
        const reader = await this.#driver.openReader(key);
        sendTo = readerSender(key, reader, served);
      } else {
        const stream = await this.#driver.createReadStream(key, served);
        sendTo = (destination) => pipeline(stream, destination);
      }
      return served === undefined ? { blob, sendTo } : { blob, sendTo, range: served };
    } catch (error) {
      if (error instanceof BlobNotFoundError) {
        // The database says the repository has it but storage lost it: report it as unknown, not as a 500.
        this.#caches.forgetRepositoryBlob(RegistryCaches.key(repository.name, digest.value));
        throw new OciError('BLOB_UNKNOWN', `blob ${digest.value} is missing from storage`, { detail: { digest: digest.value }, cause: error });
      }
      if (error instanceof RangeNotSatisfiableError) throw new OciError('RANGE_INVALID', error.message, { cause: error });
      throw error;
    }
  }

  /** A URL to fetch the blob from directly, when the storage driver offers content offload. */
  async redirectUrl(digest: Digest): Promise<string | undefined> {
    if (!this.#driver.capabilities.redirect || this.#driver.redirectUrl === undefined) return undefined;
    return this.#driver.redirectUrl(blobKey(digest), { expiresInSeconds: 20 * 60 });
  }

  /** Removes the blob from the repository; its bytes stay until garbage collection finds nothing references them. */
  async delete(repository: RepositoryName, digest: Digest): Promise<void> {
    const removed = await this.#metadata.blobs.unlinkBlob(repository.name, digest.value);
    this.#caches.forgetRepositoryBlob(RegistryCaches.key(repository.name, digest.value));
    if (!removed) throw new OciError('BLOB_UNKNOWN', `blob ${digest.value} is not in ${repository.name}`, { detail: { digest: digest.value } });
  }
}

/** Sends a positional reader, checking the range against the object's stored size as a read stream would. */
function readerSender(key: string, reader: BlobReader, range: ByteRange | undefined): (destination: Writable) => Promise<void> {
  if (range !== undefined && range.start >= reader.size) {
    void reader.close();
    throw new RangeNotSatisfiableError(key, reader.size);
  }
  const clipped = range === undefined ? undefined : { start: range.start, end: Math.min(range.end, reader.size - 1) };
  return (destination) => sendReader(reader, clipped, destination);
}
