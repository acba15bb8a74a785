import type { MetadataStores } from '../metadata/stores.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import type { RepositoryName } from '../oci/names.ts';

/** A manifest accepted by a push, as the layers above the registry see it. */
export interface PushedManifest {
  readonly repository: RepositoryName;
  readonly digest: string;
  /** The tag it was pushed under; undefined for a push by digest. */
  readonly tag: string | undefined;
  readonly bytes: Buffer;
  readonly parsed: ParsedManifest;
  /** Who pushed it (principal name), when known. */
  readonly actor: string | undefined;
  /** Milliseconds since the epoch: the time of the push. */
  readonly now: number;
  /**
   * Set when the manifest was not pushed by a client but tagged from where it
   * already was (ManifestService.tagExisting): a tag from another repository,
   * or a rollback to an earlier item of the tag's history. `ref` says from
   * what (e.g. `project/stream:tag`, or the generation rolled back to).
   */
  readonly source?: { readonly kind: 'tag' | 'rollback'; readonly ref: string };
}

/** What happens in the same transaction as a manifest write, so that nothing that describes it can be lost. */
export type TransactionStep = (tx: MetadataStores) => Promise<void>;

/**
 * Lets other domains (image streams, events) keep their own records of
 * manifests exactly in step with the registry's: every step runs inside the
 * transaction that records the manifest or removes the tag, so both commit
 * or neither does.
 */
export interface ManifestListener {
  /**
   * Called before the transaction of a push, outside it, for reads that must
   * not hold the transaction (e.g. the image config blob); returns the step
   * to run inside it.
   */
  prepareManifestPush(push: PushedManifest): Promise<TransactionStep>;
  /** Inside the transaction that deletes a tag (alone, or with its manifest). */
  tagDeleted(tx: MetadataStores, repository: RepositoryName, tag: string, digest: string, now: number): Promise<void>;
}
