import type { BlobRecord, ManifestRecord } from '../metadata/stores.ts';
import { LruCache } from './lru-cache.ts';

/**
 * In-memory caches of what /v2 resolves on every pull: which blobs a
 * repository holds, tag → digest, and manifests with their bytes.
 *
 * Writers only ever delete entries; readers fill them. A reader takes a
 * `readToken()` before its database read and fills only if no write
 * invalidated anything meanwhile, so a read that raced a delete or a tag move
 * can never put the old value back. (Coarse on purpose: one counter for all
 * keys costs a few extra database reads while writes happen, never a stale entry.)
 *
 * The caches are per process: several replicas need cross-node invalidation
 * (PostgreSQL LISTEN/NOTIFY), which is not built yet, so until then run one
 * process per metadata database.
 */
export class RegistryCaches {
  readonly #repositoryBlobs = new LruCache<string, BlobRecord>({ maxEntries: 200_000 });
  readonly #tags = new LruCache<string, string>({ maxEntries: 100_000 });
  readonly #manifests = new LruCache<string, { record: ManifestRecord; bytes: Buffer }>({ maxEntries: 20_000, maxWeight: 64 * 1024 * 1024 });
  #generation = 0;

  static key(repository: string, item: string): string {
    return `${repository}\u0000${item}`;
  }

  /** Take before reading the database for a value you will `fill*` afterwards. */
  readToken(): number {
    return this.#generation;
  }

  repositoryBlob(key: string): BlobRecord | undefined {
    return this.#repositoryBlobs.get(key);
  }

  tag(key: string): string | undefined {
    return this.#tags.get(key);
  }

  manifest(key: string): { record: ManifestRecord; bytes: Buffer } | undefined {
    return this.#manifests.get(key);
  }

  fillRepositoryBlob(key: string, blob: BlobRecord, token: number): void {
    if (token === this.#generation) this.#repositoryBlobs.set(key, blob);
  }

  fillTag(key: string, digest: string, token: number): void {
    if (token === this.#generation) this.#tags.set(key, digest);
  }

  fillManifest(key: string, stored: { record: ManifestRecord; bytes: Buffer }, token: number): void {
    if (token === this.#generation) this.#manifests.set(key, stored, stored.bytes.byteLength);
  }

  forgetRepositoryBlob(key: string): void {
    this.#generation++;
    this.#repositoryBlobs.delete(key);
  }

  forgetTag(key: string): void {
    this.#generation++;
    this.#tags.delete(key);
  }

  forgetManifest(key: string): void {
    this.#generation++;
    this.#manifests.delete(key);
  }

  forgetRepository(repository: string): void {
    this.#generation++;
    const prefix = `${repository}\u0000`;
    const matches = (key: string) => key.startsWith(prefix);
    this.#repositoryBlobs.deleteWhere(matches);
    this.#tags.deleteWhere(matches);
    this.#manifests.deleteWhere(matches);
  }
}
