import type { BlobDriver } from '../storage/blob-driver.ts';
import type { Metadata } from '../metadata/stores.ts';
import { BlobService } from './blob-service.ts';
import type { Clock } from './clock.ts';
import { ListingService } from './listing-service.ts';
import { ManifestService } from './manifest-service.ts';
import { RegistryCaches } from './registry-caches.ts';
import { UploadService } from './upload-service.ts';

/** The services /v2 calls, wired to one metadata store and one blob driver. */
export interface Registry {
  readonly blobs: BlobService;
  readonly uploads: UploadService;
  readonly manifests: ManifestService;
  readonly listing: ListingService;
  /** Drops what this process cached of a repository that was deleted behind the registry's back (a project delete). */
  forgetRepository(name: string): void;
}

export function createRegistry(deps: { metadata: Metadata; driver: BlobDriver; clock: Clock; maxManifestBytes: number }): Registry {
  const caches = new RegistryCaches();
  const blobs = new BlobService({ metadata: deps.metadata, driver: deps.driver, caches });
  return {
    blobs,
    uploads: new UploadService({ metadata: deps.metadata, driver: deps.driver, caches, clock: deps.clock }),
    manifests: new ManifestService({ ...deps, caches, blobs }),
    listing: new ListingService({ metadata: deps.metadata }),
    forgetRepository: (name) => caches.forgetRepository(name),
  };
}
