import type { MetadataStores } from '../metadata/stores.ts';
import { parseDigest } from '../oci/digest.ts';
import type { RepositoryName } from '../oci/names.ts';
import type { ManifestListener, PushedManifest, TransactionStep } from '../registry/manifest-events.ts';
import { blobKey } from '../registry/storage-keys.ts';
import type { BlobDriver } from '../storage/blob-driver.ts';
import { BlobNotFoundError } from '../storage/errors.ts';
import { extractImage, wantsConfig } from './image-metadata.ts';
import { pullSpec, streamOf } from './stream-names.ts';

/**
 * Keeps image streams in step with /v2: every accepted manifest is recorded
 * as an Image (by digest, once), its repository's stream is created on first
 * push, and a push under a tag prepends an item to that tag's history. A tag
 * removed through /v2 leaves the stream; its history stays.
 *
 * All of it happens inside the registry's own transaction (ManifestListener),
 * so a push that fails leaves no image-stream rows, and a push that commits
 * always has its history item.
 */
export class ImageStreamRecorder implements ManifestListener {
  readonly #driver: BlobDriver;
  readonly #pullSpecHost: string;

  /**
   * @param pullSpecHost host (and port) clients pull from, the first part of
   *   every recorded `dockerImageReference` (`registry.example.com:5000`).
   */
  constructor(deps: { driver: BlobDriver; pullSpecHost: string }) {
    this.#driver = deps.driver;
    this.#pullSpecHost = deps.pullSpecHost;
  }

  async prepareManifestPush(push: PushedManifest): Promise<TransactionStep> {
    // Read the config blob here, outside the transaction: storage latency
    // (S3, GCS) must not hold database locks.
    let config: Buffer | undefined;
    if (wantsConfig(push.parsed) && push.parsed.config !== null) {
      try {
        config = await this.#driver.readAll(blobKey(parseDigest(push.parsed.config.digest)));
      } catch (error) {
        // The registry checked that the repository holds the config; bytes
        // missing from storage are GC's and scrub's problem, not a reason to
        // refuse the push: record the image without metadata.
        if (!(error instanceof BlobNotFoundError)) throw error;
      }
    }
    const image = extractImage({ digest: push.digest, size: push.bytes.byteLength, parsed: push.parsed, config, now: push.now });
    const { project, name } = streamOf(push.repository);
    const tag = push.tag;
    const reference = pullSpec(this.#pullSpecHost, project, name, push.digest);
    return async (tx: MetadataStores) => {
      await tx.images.putImage(image);
      await tx.imageStreams.ensureStream(project, name, push.now);
      if (tag === undefined) return;
      // A repeated push of what the tag already shows (a client retry, a
      // rollback to the current image) is not a change: no new history item.
      const current = await tx.imageStreams.getTag(project, name, tag);
      if (current?.current.imageDigest === push.digest) return;
      await tx.imageStreams.addTagItem(project, name, tag, {
        createdAt: push.now,
        imageDigest: push.digest,
        dockerImageReference: reference,
        sourceKind: push.source?.kind ?? 'push',
        sourceRef: push.source?.ref ?? null,
      });
    };
  }

  async tagDeleted(tx: MetadataStores, repository: RepositoryName, tag: string, _digest: string, now: number): Promise<void> {
    const { project, name } = streamOf(repository);
    await tx.imageStreams.deleteTag(project, name, tag, now);
  }
}
