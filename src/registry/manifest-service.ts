import type { BlobDriver } from '../storage/blob-driver.ts';
import { BlobNotFoundError } from '../storage/errors.ts';
import type { ManifestRecord, ManifestReference, Metadata, MetadataStores } from '../metadata/stores.ts';
import { digestOf, looksLikeDigest, parseDigest, type Digest } from '../oci/digest.ts';
import type { AcceptedTypes } from '../oci/content-negotiation.ts';
import { OciError } from '../oci/errors.ts';
import { parseManifest, type Descriptor, type ParsedManifest } from '../oci/manifest.ts';
import { manifestKind } from '../oci/media-types.ts';
import { parseTag, type RepositoryName } from '../oci/names.ts';
import type { BlobService } from './blob-service.ts';
import type { Clock } from './clock.ts';
import { RegistryCaches } from './registry-caches.ts';
import { blobKey } from './storage-keys.ts';
import type { ManifestListener, PushedManifest, TransactionStep } from './manifest-events.ts';

/** A manifest reference from a URL: a tag or a digest. */
export type ManifestReferenceText = { readonly tag: string } | { readonly digest: Digest };

export function parseReference(text: string): ManifestReferenceText {
  return looksLikeDigest(text) ? { digest: parseDigest(text) } : { tag: parseTag(text) };
}

export interface StoredManifest {
  readonly record: ManifestRecord;
  readonly bytes: Buffer;
}

/** One tag of ManifestService.tagExistingAll: `source` holds `digest`; `target` gets it under `tag`. */
export interface TagMove {
  readonly source: RepositoryName;
  readonly digest: string;
  readonly target: RepositoryName;
  readonly tag: string;
  /** The push's `source` for the listeners; default `{kind: 'tag', ref: '<source>@<digest>'}`. */
  readonly origin?: { readonly kind: 'tag' | 'rollback'; readonly ref: string } | undefined;
}

/** Tag moves read and prepared outside a transaction (ManifestService.prepareTags), to apply inside one. */
export interface PreparedTags {
  readonly moves: readonly PreparedMove[];
  /** The time the moves record. */
  readonly now: number;
}

interface PreparedMove {
  readonly move: TagMove;
  readonly subjectDigest: string | null;
  readonly steps: readonly TransactionStep[];
}

/** A caller's transaction (ManifestService.inTransaction) with the /v2 tag changes that may run in it. */
export interface RegistryTransaction {
  /** The transaction's stores, for the caller's own writes. */
  readonly tx: MetadataStores;
  /**
   * Applies prepared moves (ManifestService.prepareTags) as tagExisting
   * does: links, manifests, the tag, the listeners' push steps. Results in
   * the moves' order.
   * @throws OciError MANIFEST_UNKNOWN when a source lost its manifest since it was prepared.
   */
  tagExisting(prepared: PreparedTags): Promise<PutManifestResult[]>;
  /**
   * Removes `tag` from `repository` (the manifest stays) and runs the
   * listeners' tagDeleted steps, as DELETE by tag does. The digest the tag
   * pointed at; undefined (nothing done) when there was no such tag.
   */
  untag(repository: RepositoryName, tag: string): Promise<string | undefined>;
}

export interface PutManifestResult {
  readonly digest: string;
  readonly subjectDigest: string | null;
  readonly created: boolean;
}

/**
 * Manifests and tags of a repository.
 *
 * Write order: the manifest bytes are stored under their digest first (an
 * atomic put), then one transaction records the manifest, its references and
 * the tag. A crash between the two leaves only unreferenced bytes, which
 * garbage collection reclaims; a tag never points at a manifest that is not there.
 */
export class ManifestService {
  readonly #metadata: Metadata;
  readonly #driver: BlobDriver;
  readonly #caches: RegistryCaches;
  readonly #blobs: BlobService;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #listeners: ManifestListener[] = [];

  constructor(deps: { metadata: Metadata; driver: BlobDriver; caches: RegistryCaches; blobs: BlobService; clock: Clock; maxManifestBytes: number }) {
    this.#metadata = deps.metadata;
    this.#driver = deps.driver;
    this.#caches = deps.caches;
    this.#blobs = deps.blobs;
    this.#clock = deps.clock;
    this.#maxBytes = deps.maxManifestBytes;
  }

  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Registers a listener whose steps run inside every manifest push and tag removal (see ManifestListener). */
  addListener(listener: ManifestListener): void {
    this.#listeners.push(listener);
  }

  async put(repository: RepositoryName, reference: ManifestReferenceText, bytes: Buffer, contentType: string | undefined, actor?: string): Promise<PutManifestResult> {
    if (bytes.byteLength > this.#maxBytes) throw this.tooLarge(bytes.byteLength);
    const parsed = parseManifest(bytes, contentType);
    const digest = 'digest' in reference ? reference.digest.value : digestOf('sha256', bytes);
    if ('digest' in reference) {
      const actual = digestOf(reference.digest.algorithm, bytes);
      if (actual !== reference.digest.value) {
        throw new OciError('DIGEST_INVALID', `manifest has digest ${actual}, not ${reference.digest.value}`, { detail: { expected: reference.digest.value, actual } });
      }
    }
    // A cheap first look, so that a manifest with missing blobs is refused before anything is written;
    // the authoritative check runs again inside the transaction that records the manifest.
    await this.#checkReferences(this.#metadata, repository, parsed);

    const key = blobKey(parseDigest(digest));
    if ((await this.#driver.stat(key)) === undefined) await this.#driver.putAll(key, bytes);

    const now = this.#clock();
    const record: ManifestRecord = {
      repository: repository.name,
      digest,
      mediaType: parsed.mediaType,
      size: bytes.byteLength,
      artifactType: parsed.artifactType,
      subjectDigest: parsed.subject?.digest ?? null,
      annotations: parsed.annotations,
      createdAt: now,
    };
    const references: ManifestReference[] = [
      ...parsed.requiredBlobs.map((d) => ({ digest: d.digest, kind: 'blob' as const })),
      ...parsed.manifests.map((d) => ({ digest: d.digest, kind: 'manifest' as const })),
    ];
    const tag = 'tag' in reference ? reference.tag : undefined;
    const push: PushedManifest = { repository, digest, tag, bytes, parsed, actor, now };
    const steps = await Promise.all(this.#listeners.map((l) => l.prepareManifestPush(push)));
    const created = await this.#metadata.withTransaction(async (tx) => {
      await this.#checkReferences(tx, repository, parsed);
      await tx.repositories.ensureRepository(repository.name, repository.project, now);
      const existed = (await tx.manifests.getManifest(repository.name, digest)) !== undefined;
      await tx.manifests.putManifest(record, dedupe(references));
      if (tag !== undefined) await tx.tags.putTag(repository.name, tag, digest, now);
      for (const step of steps) await step(tx);
      return !existed;
    });
    if (tag !== undefined) this.#caches.forgetTag(RegistryCaches.key(repository.name, tag));
    return { digest, subjectDigest: record.subjectDigest, created };
  }

  /**
   * Tags a manifest that `source` already holds into `target` under `tag`,
   * without copying blobs: in ONE transaction it links every blob and child
   * manifest the manifest references (recursively, for an index) into
   * `target`, records the manifests there with the same references, moves the
   * tag and runs the listeners' steps (with `origin` as the push's `source`).
   * `source` and `target` may be the same repository (a rollback moves a tag
   * back to an earlier digest). The caller checks that the actor may pull
   * `source` and push `target`.
   *
   * @throws OciError MANIFEST_UNKNOWN when `source` does not hold the manifest (or lost it meanwhile).
   */
  async tagExisting(
    source: RepositoryName,
    digest: string,
    target: RepositoryName,
    tag: string,
    actor?: string,
    origin: { readonly kind: 'tag' | 'rollback'; readonly ref: string } = { kind: 'tag', ref: `${source.name}@${digest}` },
  ): Promise<PutManifestResult> {
    const [result] = await this.tagExistingAll([{ source, digest, target, tag, origin }], actor);
    if (result === undefined) throw new Error('tagExistingAll returned no result for one move');
    return result;
  }

  /**
   * tagExisting for several tags in ONE transaction, which starts with the
   * caller's `first` step (e.g. creating the image stream that the tags
   * belong to): everything commits or nothing does. Results in `moves` order.
   *
   * @throws OciError MANIFEST_UNKNOWN when a `source` does not hold its manifest (or lost it meanwhile); whatever `first` throws.
   */
  async tagExistingAll(moves: readonly TagMove[], actor?: string, first?: TransactionStep): Promise<PutManifestResult[]> {
    const prepared = await this.prepareTags(moves, actor);
    return this.inTransaction(async (registry) => {
      if (first !== undefined) await first(registry.tx);
      return registry.tagExisting(prepared);
    });
  }

  /**
   * The reads of tagExisting that must not hold a transaction (each
   * manifest, the listeners' preparation), for RegistryTransaction.tagExisting.
   *
   * @throws OciError MANIFEST_UNKNOWN when a `source` does not hold its manifest.
   */
  async prepareTags(moves: readonly TagMove[], actor?: string): Promise<PreparedTags> {
    const now = this.#clock();
    const prepared: PreparedMove[] = [];
    for (const move of moves) {
      parseTag(move.tag);
      const { record, bytes } = await this.get(move.source, { digest: parseDigest(move.digest) });
      const parsed = parseManifest(bytes, record.mediaType);
      const origin = move.origin ?? { kind: 'tag' as const, ref: `${move.source.name}@${move.digest}` };
      const push: PushedManifest = { repository: move.target, digest: move.digest, tag: move.tag, bytes, parsed, actor, now, source: origin };
      // Listeners read what they need (the config blob: same bytes, same key) before the transaction.
      prepared.push({ move, subjectDigest: record.subjectDigest, steps: await Promise.all(this.#listeners.map((l) => l.prepareManifestPush(push))) });
    }
    return { moves: prepared, now };
  }

  /**
   * Runs `work` in ONE metadata transaction in which it may also move and
   * remove /v2 tags (see RegistryTransaction), so a caller's own writes and
   * the tag changes commit together or not at all. The cached resolutions
   * of every tag it moved or removed are forgotten once the transaction has
   * ended (after commit; after a rollback too, which costs only a reread).
   */
  async inTransaction<T>(work: (registry: RegistryTransaction) => Promise<T>): Promise<T> {
    const touched: string[] = [];
    try {
      return await this.#metadata.withTransaction((tx) =>
        work({
          tx,
          tagExisting: (prepared) => this.#applyTags(tx, prepared, touched),
          untag: (repository, tag) => this.#untag(tx, repository, tag, this.#clock(), touched),
        }),
      );
    } finally {
      // Not before the commit: a reader between a forget and the commit would cache the old digest again.
      for (const key of touched) this.#caches.forgetTag(key);
    }
  }

  async #applyTags(tx: MetadataStores, prepared: PreparedTags, touched: string[]): Promise<PutManifestResult[]> {
    const { now } = prepared;
    const out: PutManifestResult[] = [];
    for (const { move, subjectDigest, steps } of prepared.moves) {
      const { source, digest, target, tag } = move;
      // Read the closure inside the transaction, so a concurrent delete in
      // `source` either happened before (MANIFEST_UNKNOWN) or waits for us.
      const closure = await manifestClosure(tx, source, digest);
      await tx.repositories.ensureRepository(target.name, target.project, now);
      const existed = (await tx.manifests.getManifest(target.name, digest)) !== undefined;
      // Children before parents: each manifest lands with what it references already linked.
      for (const { manifest, references } of closure) {
        for (const reference of references) {
          if (reference.kind === 'blob') await tx.blobs.linkBlob(target.name, reference.digest, now);
        }
        await tx.manifests.putManifest({ ...manifest, repository: target.name, createdAt: now }, references);
      }
      await tx.tags.putTag(target.name, tag, digest, now);
      touched.push(RegistryCaches.key(target.name, tag));
      for (const step of steps) await step(tx);
      out.push({ digest, subjectDigest, created: !existed });
    }
    return out;
  }

  /** Deletes a tag inside `tx` with the listeners' tagDeleted steps; the digest it pointed at, undefined when there was no such tag. */
  async #untag(tx: MetadataStores, repository: RepositoryName, tag: string, now: number, touched: string[]): Promise<string | undefined> {
    const digest = await tx.tags.getTag(repository.name, tag);
    if (digest === undefined) return undefined;
    await tx.tags.deleteTag(repository.name, tag);
    touched.push(RegistryCaches.key(repository.name, tag));
    for (const listener of this.#listeners) await listener.tagDeleted(tx, repository, tag, digest, now);
    return digest;
  }

  tooLarge(size: number): OciError {
    return new OciError('MANIFEST_INVALID', `manifest is ${size} bytes; the limit is ${this.#maxBytes} bytes`, { status: 413, detail: { limit: this.#maxBytes } });
  }

  /** Resolves a tag or digest to the manifest record (no bytes). */
  async resolve(repository: RepositoryName, reference: ManifestReferenceText): Promise<ManifestRecord> {
    const digest = 'digest' in reference ? reference.digest.value : await this.#tagDigest(repository, reference.tag);
    const cached = this.#caches.manifest(RegistryCaches.key(repository.name, digest));
    if (cached !== undefined) return cached.record;
    const record = await this.#metadata.manifests.getManifest(repository.name, digest);
    if (record === undefined) throw unknownManifest(repository, reference);
    return record;
  }

  async get(repository: RepositoryName, reference: ManifestReferenceText): Promise<StoredManifest> {
    const digest = 'digest' in reference ? reference.digest.value : await this.#tagDigest(repository, reference.tag);
    const cacheKey = RegistryCaches.key(repository.name, digest);
    const cached = this.#caches.manifest(cacheKey);
    if (cached !== undefined) return cached;
    const token = this.#caches.readToken();
    const record = await this.#metadata.manifests.getManifest(repository.name, digest);
    if (record === undefined) throw unknownManifest(repository, reference);
    let bytes: Buffer;
    try {
      bytes = await this.#driver.readAll(blobKey(parseDigest(digest)));
    } catch (error) {
      if (error instanceof BlobNotFoundError) throw new OciError('MANIFEST_UNKNOWN', `manifest ${digest} is missing from storage`, { cause: error });
      throw error;
    }
    const stored = { record, bytes };
    this.#caches.fillManifest(cacheKey, stored, token);
    return stored;
  }

  /**
   * The manifest a client asked for, in a form its Accept header admits. A
   * digest names exact bytes, so it is always served as stored. A tag whose
   * manifest the client cannot read is MANIFEST_UNKNOWN, except an index or
   * manifest list for a client that reads only image manifests: it gets the
   * linux/amd64 image, as CNCF Distribution and Docker Hub serve old clients.
   */
  async getAcceptable(repository: RepositoryName, reference: ManifestReferenceText, accepted: AcceptedTypes): Promise<StoredManifest> {
    const stored = await this.get(repository, reference);
    const mediaType = stored.record.mediaType;
    if ('digest' in reference || accepted.accepts(mediaType)) return stored;
    const child = manifestKind(mediaType) === 'index' ? defaultPlatformChild(parseManifest(stored.bytes, mediaType), accepted) : undefined;
    if (child === undefined) {
      throw new OciError('MANIFEST_UNKNOWN', `tag ${reference.tag} of ${repository.name} is a ${mediaType}, which the request's Accept header does not admit`, {
        detail: { tag: reference.tag, mediaType },
      });
    }
    return this.get(repository, { digest: parseDigest(child.digest) });
  }

  /** DELETE by digest removes the manifest and every tag on it; by tag removes only the tag. */
  async delete(repository: RepositoryName, reference: ManifestReferenceText): Promise<void> {
    const now = this.#clock();
    if ('tag' in reference) {
      const removed = await this.inTransaction((registry) => registry.untag(repository, reference.tag));
      if (removed === undefined) throw unknownManifest(repository, reference);
      return;
    }
    const digest = reference.digest.value;
    const tags = await this.#metadata.withTransaction(async (tx) => {
      if ((await tx.manifests.getManifest(repository.name, digest)) === undefined) return undefined;
      const onIt = await tx.tags.listTagsFor(repository.name, digest);
      await tx.manifests.deleteManifest(repository.name, digest);
      for (const tag of onIt) for (const listener of this.#listeners) await listener.tagDeleted(tx, repository, tag, digest, now);
      return onIt;
    });
    if (tags === undefined) throw unknownManifest(repository, reference);
    for (const tag of tags) this.#caches.forgetTag(RegistryCaches.key(repository.name, tag));
    this.#caches.forgetManifest(RegistryCaches.key(repository.name, digest));
  }

  async #tagDigest(repository: RepositoryName, tag: string): Promise<string> {
    const key = RegistryCaches.key(repository.name, tag);
    const cached = this.#caches.tag(key);
    if (cached !== undefined) return cached;
    const token = this.#caches.readToken();
    const digest = await this.#metadata.tags.getTag(repository.name, tag);
    if (digest === undefined) throw unknownManifest(repository, { tag });
    this.#caches.fillTag(key, digest, token);
    return digest;
  }

  /**
   * Every blob and child manifest the manifest names must be in the repository,
   * with the size its descriptor states. Reads the stores, never the caches:
   * this decides what gets recorded.
   */
  async #checkReferences(stores: MetadataStores, repository: RepositoryName, parsed: ParsedManifest): Promise<void> {
    for (const descriptor of parsed.requiredBlobs) {
      const blob = await stores.blobs.getRepositoryBlob(repository.name, descriptor.digest);
      if (blob === undefined) {
        throw new OciError('MANIFEST_BLOB_UNKNOWN', `blob ${descriptor.digest} is not in ${repository.name}: push it before the manifest`, { detail: { digest: descriptor.digest } });
      }
      if (blob.size !== descriptor.size) {
        throw new OciError('MANIFEST_INVALID', `descriptor of ${descriptor.digest} says ${descriptor.size} bytes but the blob has ${blob.size}`, { detail: { digest: descriptor.digest } });
      }
    }
    for (const child of parsed.manifests) {
      const known = await stores.manifests.getManifest(repository.name, child.digest);
      if (known === undefined) {
        throw new OciError('MANIFEST_BLOB_UNKNOWN', `manifest ${child.digest} is not in ${repository.name}: push every child manifest before the index`, { detail: { digest: child.digest } });
      }
      if (known.size !== child.size) {
        throw new OciError('MANIFEST_INVALID', `descriptor of ${child.digest} says ${child.size} bytes but the manifest has ${known.size}`, { detail: { digest: child.digest } });
      }
    }
  }
}

/**
 * A manifest with every manifest it references (children of an index, their
 * children…), children first, each with its stored references. Reads the
 * stores, never the caches: this decides what gets recorded.
 */
async function manifestClosure(
  stores: MetadataStores,
  repository: RepositoryName,
  digest: string,
): Promise<{ manifest: ManifestRecord; references: ManifestReference[] }[]> {
  const ordered: { manifest: ManifestRecord; references: ManifestReference[] }[] = [];
  const seen = new Set<string>();
  const visit = async (d: string): Promise<void> => {
    if (seen.has(d)) return;
    seen.add(d);
    const manifest = await stores.manifests.getManifest(repository.name, d);
    if (manifest === undefined) throw unknownManifest(repository, { digest: parseDigest(d) });
    const references = await stores.manifests.listReferences(repository.name, d);
    for (const reference of references) if (reference.kind === 'manifest') await visit(reference.digest);
    ordered.push({ manifest, references });
  };
  await visit(digest);
  return ordered;
}

function unknownManifest(repository: RepositoryName, reference: ManifestReferenceText): OciError {
  const what = 'tag' in reference ? `tag ${reference.tag}` : `manifest ${reference.digest.value}`;
  return new OciError('MANIFEST_UNKNOWN', `${what} is not in ${repository.name}`, { detail: 'tag' in reference ? { tag: reference.tag } : { digest: reference.digest.value } });
}

/** The index's linux/amd64 image, when the client admits its media type: the platform clients without index support assume. */
function defaultPlatformChild(index: ParsedManifest, accepted: AcceptedTypes): Descriptor | undefined {
  return index.manifests.find((child) => child.platform?.os === 'linux' && child.platform.architecture === 'amd64'
    && manifestKind(child.mediaType) === 'image' && accepted.accepts(child.mediaType));
}

function dedupe(references: ManifestReference[]): ManifestReference[] {
  const seen = new Set<string>();
  return references.filter((r) => (seen.has(r.digest) ? false : (seen.add(r.digest), true)));
}
