import type { ImageRecord, ImageStreamRecord, ImageStreamSpec, Metadata, MetadataStores, Page, StreamTagRecord, TagItemPage, TagItemRecord } from '../metadata/stores.ts';
import { looksLikeDigest, parseDigest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { isValidTag, type RepositoryName } from '../oci/names.ts';
import type { Clock } from '../registry/clock.ts';
import type { ManifestService, RegistryTransaction } from '../registry/manifest-service.ts';
import { ImageStreamError } from './errors.ts';
import { pullSpec, repositoryOf } from './stream-names.ts';
import { sameSpec, tracksRemote } from './stream-spec.ts';

/** Items of each tag's history that getStream returns by default (the API's `status.tags[].items`). */
export const DEFAULT_ITEMS_PER_TAG = 10;

/** Streams whose tags and items are read in one query (listStreamViews). */
const VIEW_BATCH = 500;

/** Streams read per page when a project's whole history is pruned. */
const PRUNE_BATCH = 1000;

/** What pruneHistory removes: `oc adm prune images --keep-tag-revisions=N --keep-younger-than=D`, for tag history only. */
export interface HistoryPrune {
  /** History items kept per tag, newest first (at least 1); a tag's current item is kept besides. */
  readonly keepTagRevisions: number;
  /** Items recorded less than this long ago stay (0: any age may go). */
  readonly keepYoungerThanMs: number;
  /** Only say what would go. */
  readonly dryRun: boolean;
}

/** What pruneHistory removed (or, for a dry run, would remove). */
export interface PrunedHistory {
  /** How many streams were looked at. */
  readonly streams: number;
  /** The items, per stream in byte order of name, by tag in byte order, newest first; as clients see them (reference policy). */
  readonly items: readonly TagItemRecord[];
}

/** How a tag came to point at an image of another tag: what its history item records. */
type TagOrigin = { readonly kind: 'tag' | 'rollback'; readonly ref: string };

/**
 * An image to tag in, resolved from a stream tag or image (resolveSource).
 * `local`: `repository` holds the manifest, so /v2 gets the tag too (no blob
 * copy). `remote`: only image streams know it (imported; its manifest lives
 * in another registry), so the target stream records it with the remote
 * `dockerImageReference` and /v2 does not serve it.
 */
export type ResolvedSource =
  | { readonly kind: 'local'; readonly repository: RepositoryName; readonly digest: string; readonly ref: string }
  | { readonly kind: 'remote'; readonly repository: RepositoryName; readonly digest: string; readonly ref: string; readonly dockerImageReference: string };

/** A spec tag of createStream / updateStream with the image it takes. */
export interface SpecTagSource {
  readonly tag: string;
  readonly source: ResolvedSource;
}

function checkTag(tag: string): void {
  if (!isValidTag(tag)) throw new ImageStreamError('INVALID', `invalid tag ${JSON.stringify(tag.slice(0, 200))}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
}

/** A stream with its status: each live tag with its newest history items. */
export interface ImageStreamView {
  readonly stream: ImageStreamRecord;
  /** `host/project/name`: where clients push and pull this stream. */
  readonly dockerImageRepository: string;
  /** Live tags in byte order; `items` newest first, `items[0]` the current one. */
  readonly tags: readonly { readonly tag: string; readonly items: readonly TagItemRecord[] }[];
}

/** `name:tag`: a tag's current image with its full metadata. */
export interface ImageStreamTagView {
  readonly stream: ImageStreamRecord;
  readonly tag: StreamTagRecord;
  readonly image: ImageRecord;
}

/** `name@digest`: an image of the stream. */
export interface ImageStreamImageView {
  readonly stream: ImageStreamRecord;
  readonly image: ImageRecord;
  /** The newest history item that records it; undefined for an image only pushed by digest (or a child of an index). */
  readonly item: TagItemRecord | undefined;
}

/**
 * Image streams as the resource API and the CLI see them: reading streams,
 * tags, history and images, and the writes that move tags (tag across
 * streams, rollback, delete).
 *
 * Tag moves of images the source repository holds go through the registry
 * (ManifestService.tagExistingAll) so that the /v2 tag and the stream's
 * history change in one transaction: this relies on ImageStreamRecorder being
 * registered as a listener of that ManifestService. Imported images (their
 * manifests live in another registry) move in the streams only.
 * Authorization (pull the source, push the target) is the caller's.
 */
export class ImageStreamService {
  readonly #metadata: Metadata;
  readonly #manifests: ManifestService;
  readonly #pullSpecHost: string;
  readonly #clock: Clock;

  /** @param pullSpecHost host (and port) clients pull from, as given to ImageStreamRecorder. */
  constructor(deps: { metadata: Metadata; manifests: ManifestService; pullSpecHost: string; clock: Clock }) {
    this.#metadata = deps.metadata;
    this.#manifests = deps.manifests;
    this.#pullSpecHost = deps.pullSpecHost;
    this.#clock = deps.clock;
  }

  /** Two queries: the stream, then every tag with its newest items. @throws ImageStreamError STREAM_NOT_FOUND */
  async getStream(project: string, name: string, options: { itemsPerTag?: number } = {}): Promise<ImageStreamView> {
    const stream = await this.#requireStream(project, name);
    const [view] = await this.#views([stream], options.itemsPerTag ?? DEFAULT_ITEMS_PER_TAG);
    if (view === undefined) throw new Error('no view of a stream that was just read');
    return view;
  }

  /** A project's streams in byte order of name, keyset-paged. */
  listStreams(project: string, page: Page): Promise<ImageStreamRecord[]> {
    return this.#metadata.imageStreams.listStreams(project, page);
  }

  /**
   * A page of a project's streams (byte order of name, keyset-paged), each
   * with its status as getStream gives it: one query for the streams and one
   * per VIEW_BATCH of them for all their tags and items, however many tags.
   */
  async listStreamViews(project: string, page: Page, options: { itemsPerTag?: number } = {}): Promise<ImageStreamView[]> {
    const streams = await this.#metadata.imageStreams.listStreams(project, page);
    return this.#views(streams, options.itemsPerTag ?? DEFAULT_ITEMS_PER_TAG);
  }

  /**
   * An image as seen from a project that holds it: through the first stream
   * (byte order of name) whose history records it or whose repository holds
   * its manifest. `dockerImageReference` is that stream's newest history item
   * for it (as its tag's reference policy shows it), else the stream's pull
   * spec. Undefined when no stream of the project has it. A constant number
   * of indexed queries, however many streams the project has.
   */
  async findProjectImage(project: string, digest: string): Promise<{ readonly image: ImageRecord; readonly dockerImageReference: string } | undefined> {
    const image = await this.#metadata.images.getImage(digest);
    if (image === undefined) return undefined;
    const name = await this.#metadata.imageStreams.findImageStream(project, digest);
    if (name === undefined) return undefined;
    const stream = await this.#metadata.imageStreams.getStream(project, name);
    if (stream === undefined) return undefined;
    const item = await this.#metadata.imageStreams.findImageItem(project, name, digest);
    return { image, dockerImageReference: item === undefined ? pullSpec(this.#pullSpecHost, project, name, digest) : this.#shown(stream, item).dockerImageReference };
  }

  /** Views of streams of one project, their tags and items read VIEW_BATCH streams per query. */
  async #views(streams: readonly ImageStreamRecord[], itemsPerTag: number): Promise<ImageStreamView[]> {
    const byStream = new Map<string, { tag: string; items: TagItemRecord[] }[]>();
    for (let i = 0; i < streams.length; i += VIEW_BATCH) {
      const batch = streams.slice(i, i + VIEW_BATCH);
      const project = batch[0]?.project;
      if (project === undefined) continue;
      const rows = await this.#metadata.imageStreams.listRecentTagItems(project, batch.map((s) => s.name), itemsPerTag);
      for (const row of rows) {
        let tags = byStream.get(row.stream);
        if (tags === undefined) byStream.set(row.stream, (tags = []));
        tags.push({ tag: row.tag, items: [...row.items] });
      }
    }
    return streams.map((stream) => ({
      stream,
      dockerImageRepository: `${this.#pullSpecHost}/${stream.project}/${stream.name}`,
      tags: (byStream.get(stream.name) ?? []).map((t) => ({ tag: t.tag, items: t.items.map((i) => this.#shown(stream, i)) })),
    }));
  }

  /** @throws ImageStreamError STREAM_NOT_FOUND */
  async listTagHistory(project: string, stream: string, tag: string, page: TagItemPage): Promise<TagItemRecord[]> {
    const record = await this.#requireStream(project, stream);
    return (await this.#metadata.imageStreams.listTagItems(project, stream, tag, page)).map((i) => this.#shown(record, i));
  }

  /** @throws ImageStreamError STREAM_NOT_FOUND, TAG_NOT_FOUND, IMAGE_NOT_FOUND (the tag's image has no record) */
  async getStreamTag(project: string, stream: string, tag: string): Promise<ImageStreamTagView> {
    const record = await this.#requireStream(project, stream);
    const current = await this.#metadata.imageStreams.getTag(project, stream, tag);
    if (current === undefined) throw new ImageStreamError('TAG_NOT_FOUND', `image stream ${project}/${stream} has no tag ${tag}`);
    const image = await this.#metadata.images.getImage(current.current.imageDigest);
    if (image === undefined) throw new ImageStreamError('IMAGE_NOT_FOUND', `image ${current.current.imageDigest} of ${project}/${stream}:${tag} is not recorded`);
    return { stream: record, tag: { ...current, current: this.#shown(record, current.current) }, image };
  }

  /**
   * An image of the stream: one some tag's history records, or one the
   * stream's repository holds (pushed by digest, or a platform manifest of an index).
   * @throws ImageStreamError STREAM_NOT_FOUND, IMAGE_NOT_FOUND
   */
  async getStreamImage(project: string, stream: string, digest: string): Promise<ImageStreamImageView> {
    const view = await this.#streamImage(project, stream, digest);
    return view.item === undefined ? view : { ...view, item: this.#shown(view.stream, view.item) };
  }

  /** getStreamImage with the item as stored (its source reference, whatever the reference policy). */
  async #streamImage(project: string, stream: string, digest: string): Promise<ImageStreamImageView> {
    const record = await this.#requireStream(project, stream);
    const notFound = () => new ImageStreamError('IMAGE_NOT_FOUND', `image stream ${project}/${stream} has no image ${digest}`);
    const item = await this.#metadata.imageStreams.findImageItem(project, stream, digest);
    if (item === undefined && (await this.#metadata.manifests.getManifest(`${project}/${stream}`, digest)) === undefined) throw notFound();
    const image = await this.#metadata.images.getImage(digest);
    if (image === undefined) throw notFound();
    return { stream: record, image, item };
  }

  /**
   * Where `sourceProject/sourceStream:tag` (or `@digest`) takes its image
   * from, for a later write (tag, createStream, updateStream). Reads only.
   *
   * @param sourceTagOrDigest a tag of the source stream, or a digest of one of its images.
   * @throws ImageStreamError STREAM_NOT_FOUND, TAG_NOT_FOUND, IMAGE_NOT_FOUND, INVALID (bad digest)
   */
  async resolveSource(sourceProject: string, sourceStream: string, sourceTagOrDigest: string): Promise<ResolvedSource> {
    const repository = repositoryOf(sourceProject, sourceStream);
    if (looksLikeDigest(sourceTagOrDigest)) {
      try {
        parseDigest(sourceTagOrDigest);
      } catch (error) {
        throw new ImageStreamError('INVALID', `invalid digest ${JSON.stringify(sourceTagOrDigest.slice(0, 200))}`, { cause: error });
      }
      const view = await this.#streamImage(sourceProject, sourceStream, sourceTagOrDigest);
      return this.#resolved(repository, view.image.digest, view.item, `${sourceProject}/${sourceStream}@${view.image.digest}`);
    }
    await this.#requireStream(sourceProject, sourceStream);
    const current = await this.#metadata.imageStreams.getTag(sourceProject, sourceStream, sourceTagOrDigest);
    if (current === undefined) throw new ImageStreamError('TAG_NOT_FOUND', `image stream tag ${sourceProject}/${sourceStream}:${sourceTagOrDigest} not found`);
    return this.#resolved(repository, current.current.imageDigest, current.current, `${sourceProject}/${sourceStream}:${sourceTagOrDigest}`);
  }

  /**
   * Tags an image of one stream into another (`berth tag src:tag dst:tag`),
   * across projects too, without copying blobs. When the source repository
   * holds the manifest, the target repository gets links to the same blobs,
   * the /v2 tag moves, and the target tag's history gains an item with source
   * 'tag' and sourceRef `project/stream:tag` (or `project/stream@digest`), all
   * in one transaction. When only the source stream knows the image (it was
   * imported and lives in another registry), the target's history gains that
   * item with the image's remote dockerImageReference, as OpenShift tags
   * images of other registries: see #recordRemote.
   *
   * @param sourceTagOrDigest a tag of the source stream, or a digest of one of its images.
   * @throws ImageStreamError STREAM_NOT_FOUND, TAG_NOT_FOUND, IMAGE_NOT_FOUND, INVALID (bad target tag)
   */
  async tag(
    sourceProject: string,
    sourceStream: string,
    sourceTagOrDigest: string,
    targetProject: string,
    targetStream: string,
    targetTag: string,
    actor?: string,
  ): Promise<ImageStreamTagView> {
    checkTag(targetTag);
    const source = await this.resolveSource(sourceProject, sourceStream, sourceTagOrDigest);
    await this.#place(source, targetProject, targetStream, targetTag, actor, { kind: 'tag', ref: source.ref });
    return this.getStreamTag(targetProject, targetStream, targetTag);
  }

  /**
   * Rolls a tag back to an earlier item of its history, in one call: the tag
   * (and /v2, when the repository holds the image) moves to that item's image
   * and the history gains a NEW item (source 'rollback', sourceRef the
   * generation rolled back to, in decimal), so the history shows the rollback
   * and can itself be rolled back. Rolling back to the image the tag already
   * shows changes nothing. An imported item is rolled back to in the stream
   * only, with its remote dockerImageReference.
   *
   * @throws ImageStreamError STREAM_NOT_FOUND, HISTORY_ITEM_NOT_FOUND, IMAGE_NOT_FOUND (the repository no longer holds that manifest)
   */
  async rollback(project: string, stream: string, tag: string, toGeneration: number, actor?: string): Promise<ImageStreamTagView> {
    await this.#requireStream(project, stream);
    const item = await this.#metadata.imageStreams.getTagItem(project, stream, tag, toGeneration);
    if (item === undefined) throw new ImageStreamError('HISTORY_ITEM_NOT_FOUND', `tag ${tag} of ${project}/${stream} has no history item ${toGeneration}`);
    const source = await this.#resolved(repositoryOf(project, stream), item.imageDigest, item, `${project}/${stream}:${tag}`);
    await this.#place(source, project, stream, tag, actor, { kind: 'rollback', ref: String(toGeneration) });
    return this.getStreamTag(project, stream, tag);
  }

  /**
   * Creates a stream with its spec, and tags in the images its spec tags
   * name (resolved beforehand with resolveSource), in ONE transaction:
   * either the stream exists with all of them or nothing was written. A spec
   * that names remotes makes the stream due for import in that transaction
   * (the caller wakes the scheduler).
   *
   * @throws ImageStreamError ALREADY_EXISTS, IMAGE_NOT_FOUND (a source lost its manifest since it was resolved), INVALID (bad tag)
   */
  async createStream(
    project: string,
    name: string,
    init: { readonly spec: ImageStreamSpec; readonly annotations: Readonly<Record<string, string>> },
    tags: readonly SpecTagSource[],
    actor?: string,
  ): Promise<ImageStreamView> {
    const now = this.#clock();
    await this.#writeWithTags(project, name, tags, actor, async (tx) => {
      if ((await tx.imageStreams.createStream(project, name, now, init.spec, init.annotations)) === undefined) {
        throw new ImageStreamError('ALREADY_EXISTS', `image stream ${JSON.stringify(`${project}/${name}`)} already exists`);
      }
      // Due for its first import in the same transaction: a crash right after cannot leave it never imported.
      if (tracksRemote(init.spec)) await tx.imageStreams.scheduleImport(project, name, now);
      return true;
    });
    return this.getStream(project, name);
  }

  /**
   * Replaces a stream's spec and annotations; when the spec changed (a new
   * generation), tags in the images its spec tags name and, when it names
   * remotes, makes the stream due for import, in the same transaction.
   * `changed` says whether the generation moved.
   *
   * @throws ImageStreamError STREAM_NOT_FOUND, IMAGE_NOT_FOUND, INVALID (bad tag)
   * @throws ImageStreamConflictError when `expectedResourceVersion` is not the stored one.
   */
  async updateStream(
    project: string,
    name: string,
    update: { readonly spec: ImageStreamSpec; readonly annotations: Readonly<Record<string, string>> },
    expectedResourceVersion: number | undefined,
    tags: readonly SpecTagSource[],
    actor?: string,
  ): Promise<{ readonly view: ImageStreamView; readonly changed: boolean }> {
    let changed = false;
    await this.#writeWithTags(project, name, tags, actor, async (tx) => {
      // Decided on the locked row, not on an earlier read: a concurrent PUT may have moved the generation since.
      const before = await tx.imageImports.lockStream(project, name);
      if (before === undefined) throw new ImageStreamError('STREAM_NOT_FOUND', `image stream ${project}/${name} does not exist`);
      // A spec that means the stored one keeps its stored text, so the store sees no change (a spec stored in an earlier form, PUT back as a GET showed it).
      const spec = sameSpec(before.spec, update.spec) ? before.spec : update.spec;
      const after = await tx.imageStreams.putSpec(project, name, { spec, annotations: update.annotations }, expectedResourceVersion);
      changed = after.generation !== before.generation;
      // A changed spec that names remotes is due for import, in the same transaction.
      if (changed && tracksRemote(update.spec)) await tx.imageStreams.scheduleImport(project, name, this.#clock());
      return changed;
    });
    return { view: await this.getStream(project, name), changed };
  }

  /**
   * Removes a tag from the stream and from /v2 (one transaction, through the
   * registry); its history stays.
   * @throws ImageStreamError STREAM_NOT_FOUND, TAG_NOT_FOUND
   */
  async deleteTag(project: string, stream: string, tag: string): Promise<void> {
    await this.#requireStream(project, stream);
    const repository = repositoryOf(project, stream);
    if (isValidTag(tag) && (await this.#metadata.tags.getTag(repository.name, tag)) !== undefined) {
      try {
        // The recorder's tagDeleted step removes the stream tag in the same transaction.
        await this.#manifests.delete(repository, { tag });
        return;
      } catch (error) {
        // Deleted meanwhile through /v2: fall through to the stream tag (if any is left).
        if (!(error instanceof OciError && error.code === 'MANIFEST_UNKNOWN')) throw error;
      }
    }
    // A stream tag without a /v2 tag (an imported one): only the stream has it.
    if (!(await this.#metadata.imageStreams.deleteTag(project, stream, tag, this.#clock()))) {
      throw new ImageStreamError('TAG_NOT_FOUND', `image stream ${project}/${stream} has no tag ${tag}`);
    }
  }

  /**
   * Prunes tag history (metadata only: images, manifests and blobs stay; a
   * later garbage collection may take what nothing references any more): of
   * each live tag, every item but its `keepTagRevisions` newest and its
   * current item; of each deleted tag, its whole history; with
   * `keepYoungerThanMs`, only items older than that. Of one stream, or with
   * `stream` undefined of every stream of the project (one transaction per
   * stream, each one indexed DELETE; streams read a page at a time).
   * @throws ImageStreamError STREAM_NOT_FOUND (one stream only), INVALID (keepTagRevisions below 1)
   */
  async pruneHistory(project: string, stream: string | undefined, prune: HistoryPrune): Promise<PrunedHistory> {
    if (!Number.isSafeInteger(prune.keepTagRevisions) || prune.keepTagRevisions < 1) {
      throw new ImageStreamError('INVALID', `keepTagRevisions must be at least 1 (a tag's newest item always stays), not ${prune.keepTagRevisions}`);
    }
    const options = {
      keepTagRevisions: prune.keepTagRevisions,
      createdBefore: prune.keepYoungerThanMs > 0 ? this.#clock() - prune.keepYoungerThanMs : undefined,
      dryRun: prune.dryRun,
    };
    const one = async (record: ImageStreamRecord): Promise<TagItemRecord[]> =>
      (await this.#metadata.imageStreams.pruneTagHistory(project, record.name, options)).map((i) => this.#shown(record, i));
    if (stream !== undefined) return { streams: 1, items: await one(await this.#requireStream(project, stream)) };
    const items: TagItemRecord[] = [];
    let streams = 0;
    let after: string | undefined;
    for (;;) {
      const page = await this.#metadata.imageStreams.listStreams(project, { after, limit: PRUNE_BATCH });
      for (const record of page) items.push(...(await one(record)));
      streams += page.length;
      if (page.length < PRUNE_BATCH) break;
      after = page.at(-1)?.name;
    }
    return { streams, items };
  }

  /**
   * Local when `repository` holds the manifest; else remote when the item
   * that records the image points outside this registry (an imported image,
   * or one tagged from an imported one); else the image is gone (a manifest
   * deleted by digest): IMAGE_NOT_FOUND.
   */
  async #resolved(repository: RepositoryName, digest: string, item: TagItemRecord | undefined, ref: string): Promise<ResolvedSource> {
    if ((await this.#metadata.manifests.getManifest(repository.name, digest)) !== undefined) return { kind: 'local', repository, digest, ref };
    if (item !== undefined && !item.dockerImageReference.startsWith(`${this.#pullSpecHost}/`)) {
      return { kind: 'remote', repository, digest, ref, dockerImageReference: item.dockerImageReference };
    }
    throw new ImageStreamError('IMAGE_NOT_FOUND', `${repository.name} does not hold manifest ${digest}`);
  }

  /** One tag move: through the registry for a local image, in the stream only for a remote one. */
  async #place(source: ResolvedSource, project: string, stream: string, tag: string, actor: string | undefined, origin: TagOrigin): Promise<void> {
    if (source.kind === 'remote') {
      await this.#recordRemote(source, project, stream, tag, origin);
      return;
    }
    await this.#tagLocal([{ source, tag, origin }], project, stream, actor);
  }

  /**
   * A remote image into a tag: a stream-only history item (source tag or
   * rollback, the remote dockerImageReference), in one transaction with the
   * removal of a /v2 tag of that name in the target repository (see #remoteInto).
   */
  async #recordRemote(source: ResolvedSource & { kind: 'remote' }, project: string, stream: string, tag: string, origin: TagOrigin): Promise<void> {
    const now = this.#clock();
    await this.#manifests.inTransaction(async (registry) => {
      await registry.tx.imageStreams.ensureStream(project, stream, now);
      await this.#remoteInto(registry, source, project, stream, tag, origin, now);
    });
  }

  /**
   * Inside `registry`'s transaction, a remote image into a tag of a stream
   * that exists. A /v2 tag of that name showing another image goes first
   * (ManifestService's untag: its tagDeleted step drops the stream tag and
   * keeps its history), so /v2 never serves an image the stream no longer
   * shows; then the stream-only item.
   */
  async #remoteInto(
    registry: RegistryTransaction,
    source: ResolvedSource & { kind: 'remote' },
    project: string,
    stream: string,
    tag: string,
    origin: TagOrigin,
    now: number,
  ): Promise<void> {
    const target = repositoryOf(project, stream);
    const served = await registry.tx.tags.getTag(target.name, tag);
    if (served !== undefined && served !== source.digest) await registry.untag(target, tag);
    // A tag that already shows this image gets no new item, as a repeated push adds nothing.
    const current = await registry.tx.imageStreams.getTag(project, stream, tag);
    if (current?.current.imageDigest === source.digest) return;
    await registry.tx.imageStreams.addTagItem(project, stream, tag, {
      createdAt: now,
      imageDigest: source.digest,
      dockerImageReference: source.dockerImageReference,
      sourceKind: origin.kind,
      sourceRef: origin.ref,
    });
  }

  /** Local images through the registry (ManifestService.tagExistingAll), in one transaction. */
  async #tagLocal(
    moves: readonly { readonly source: ResolvedSource; readonly tag: string; readonly origin: TagOrigin }[],
    project: string,
    stream: string,
    actor: string | undefined,
  ): Promise<void> {
    const target = repositoryOf(project, stream);
    await this.#registryWrite(() =>
      this.#manifests.tagExistingAll(
        moves.map((m) => ({ source: m.source.repository, digest: m.source.digest, target, tag: m.tag, origin: m.origin })),
        actor,
      ),
    );
  }

  /** Runs a write through the registry, a source manifest deleted meanwhile (MANIFEST_UNKNOWN) as IMAGE_NOT_FOUND. */
  async #registryWrite(write: () => Promise<unknown>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof OciError && error.code === 'MANIFEST_UNKNOWN') {
        // Deleted by digest since it was resolved.
        throw new ImageStreamError('IMAGE_NOT_FOUND', `a source repository no longer holds its manifest: ${error.message}`, { cause: error });
      }
      throw error;
    }
  }

  /**
   * `write` (create or update the stream), then, when it returns true, every
   * spec tag's image, all in one transaction: local images through the
   * registry, remote ones as stream-only items (a /v2 tag they replace
   * removed, see #remoteInto). Local moves are prepared beforehand whatever
   * `write` will decide, since preparing must not hold the transaction.
   */
  async #writeWithTags(
    project: string,
    name: string,
    tags: readonly SpecTagSource[],
    actor: string | undefined,
    write: (tx: MetadataStores) => Promise<boolean>,
  ): Promise<void> {
    for (const t of tags) checkTag(t.tag);
    const now = this.#clock();
    const target = repositoryOf(project, name);
    const local = tags.flatMap((t) =>
      t.source.kind === 'local' ? [{ source: t.source.repository, digest: t.source.digest, target, tag: t.tag, origin: { kind: 'tag' as const, ref: t.source.ref } }] : [],
    );
    await this.#registryWrite(async () => {
      const prepared = await this.#manifests.prepareTags(local, actor);
      await this.#manifests.inTransaction(async (registry) => {
        if (!(await write(registry.tx))) return;
        for (const t of tags) {
          if (t.source.kind === 'remote') await this.#remoteInto(registry, t.source, project, name, t.tag, { kind: 'tag', ref: t.source.ref }, now);
        }
        await registry.tagExisting(prepared);
      });
    });
  }

  /**
   * A history item as clients see it. With the tag's `referencePolicy: Local`
   * its dockerImageReference is this registry's pull spec
   * (`host/project/stream@digest`), as OpenShift shows it, so consumers pull
   * through Berth; with Source (the default) it is where the image came from.
   * What is stored is always the source reference (the item's `source.ref`
   * and tagging onwards keep using it).
   */
  #shown(stream: ImageStreamRecord, item: TagItemRecord): TagItemRecord {
    const policy = stream.spec.tags?.find((t) => t.name === item.tag)?.referencePolicy?.type;
    if (policy !== 'Local') return item;
    return { ...item, dockerImageReference: pullSpec(this.#pullSpecHost, stream.project, stream.name, item.imageDigest) };
  }

  async #requireStream(project: string, name: string): Promise<ImageStreamRecord> {
    const stream = await this.#metadata.imageStreams.getStream(project, name);
    if (stream === undefined) throw new ImageStreamError('STREAM_NOT_FOUND', `image stream ${project}/${name} does not exist`);
    return stream;
  }
}
