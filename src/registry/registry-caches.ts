import type { BlobRecord, ManifestRecord } from '../metadata/stores.ts';
import { LruCache } from './lru-cache.ts';

/**
 * In-memory caches of what /v2 resolves on every pull: which blobs a
 * repository holds, tag → digest, and manifests with their bytes.
 *
 * Every write through this process invalidates them in the same call. They
 * are per process: several replicas need cross-node invalidation (PostgreSQL
 * LISTEN/NOTIFY), which is not built yet, so until then run one process per
 * metadata database.
 */
export class RegistryCaches {
  readonly repositoryBlobs = new LruCache<string, BlobRecord>({ maxEntries: 200_000 });
  readonly tags = new LruCache<string, string>({ maxEntries: 100_000 });
  readonly manifests = new LruCache<string, { record: ManifestRecord; bytes: Buffer }>({ maxEntries: 20_000, maxWeight: 64 * 1024 * 1024 });

  static key(repository: string, item: string): string {
    return `${repository}\u0000${item}`;
  }

  forgetRepository(repository: string): void {
    const prefix = `${repository}\u0000`;
    const matches = (key: string) => key.startsWith(prefix);
    this.repositoryBlobs.deleteWhere(matches);
    this.tags.deleteWhere(matches);
    this.manifests.deleteWhere(matches);
  }
}
