import type { ImageRecord, ImageStreamRecord, Metadata, Page, StreamTagRecord, TagItemPage, TagItemRecord } from '../metadata/stores.ts';
import { looksLikeDigest, parseDigest } from '../oci/digest.ts';
import { OciError } from '../oci/errors.ts';
import { isValidTag, type RepositoryName } from '../oci/names.ts';
import type { Clock } from '../registry/clock.ts';
import type { ManifestService } from '../registry/manifest-service.ts';
import { ImageStreamError } from './errors.ts';
import { repositoryOf } from './stream-names.ts';

/** Items of each tag's history that getStream returns by default (the API's `status.tags[].items`). */
export const DEFAULT_ITEMS_PER_TAG = 10;

/** Tags read per query when getStream collects every tag. */
const TAG_BATCH = 1000;

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
 * Tag moves go through the registry (ManifestService.tagExisting) so that the
 * /v2 tag and the stream's history change in one transaction: this relies on
 * ImageStreamRecorder being registered as a listener of that ManifestService.
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

  /** @throws ImageStreamError STREAM_NOT_FOUND */
  async getStream(project: string, name: string, options: { itemsPerTag?: number } = {}): Promise<ImageStreamView> {
    const stream = await this.#requireStream(project, name);
    const itemsPerTag = options.itemsPerTag ?? DEFAULT_ITEMS_PER_TAG;
    const tags: { tag: string; items: TagItemRecord[] }[] = [];
    let after: string | undefined;
    for (;;) {
      const page = await this.#metadata.imageStreams.listTags(project, name, { after, limit: TAG_BATCH });
      for (const t of page) {
        const items = await this.#metadata.imageStreams.listTagItems(project, name, t.tag, { limit: itemsPerTag });
        tags.push({ tag: t.tag, items });
      }
      if (page.length < TAG_BATCH) break;
      after = page.at(-1)?.tag;
    }
    return { stream, dockerImageRepository: `${this.#pullSpecHost}/${project}/${name}`, tags };
  }

  /** A project's streams in byte order of name, keyset-paged. */
  listStreams(project: string, page: Page): Promise<ImageStreamRecord[]> {
    return this.#metadata.imageStreams.listStreams(project, page);
  }

  /** @throws ImageStreamError STREAM_NOT_FOUND */
  async listTagHistory(project: string, stream: string, tag: string, page: TagItemPage): Promise<TagItemRecord[]> {
    await this.#requireStream(project, stream);
    return this.#metadata.imageStreams.listTagItems(project, stream, tag, page);
  }

  /** @throws ImageStreamError STREAM_NOT_FOUND, TAG_NOT_FOUND, IMAGE_NOT_FOUND (the tag's image has no record) */
  async getStreamTag(project: string, stream: string, tag: string): Promise<ImageStreamTagView> {
    const record = await this.#requireStream(project, stream);
    const current = await this.#metadata.imageStreams.getTag(project, stream, tag);
    if (current === undefined) throw new ImageStreamError('TAG_NOT_FOUND', `image stream ${project}/${stream} has no tag ${tag}`);
    const image = await this.#metadata.images.getImage(current.current.imageDigest);
    if (image === undefined) throw new ImageStreamError('IMAGE_NOT_FOUND', `image ${current.current.imageDigest} of ${project}/${stream}:${tag} is not recorded`);
    return { stream: record, tag: current, image };
  }

  /**
   * An image of the stream: one some tag's history records, or one the
   * stream's repository holds (pushed by digest, or a platform manifest of an index).
   * @throws ImageStreamError STREAM_NOT_FOUND, IMAGE_NOT_FOUND
   */
  async getStreamImage(project: string, stream: string, digest: string): Promise<ImageStreamImageView> {
    const record = await this.#requireStream(project, stream);
    const notFound = () => new ImageStreamError('IMAGE_NOT_FOUND', `image stream ${project}/${stream} has no image ${digest}`);
    const item = await this.#metadata.imageStreams.findImageItem(project, stream, digest);
    if (item === undefined && (await this.#metadata.manifests.getManifest(`${project}/${stream}`, digest)) === undefined) throw notFound();
    const image = await this.#metadata.images.getImage(digest);
    if (image === undefined) throw notFound();
    return { stream: record, image, item };
  }

  /**
   * Tags an image of one stream into another (`berth tag src:tag dst:tag`),
   * across projects too, without copying blobs: the target repository gets
   * links to the same blobs, the /v2 tag moves, and the target tag's history
   * gains an item with source 'tag' and sourceRef `project/stream:tag` (or
   * `project/stream@digest`), all in one transaction.
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
    if (!isValidTag(targetTag)) throw new ImageStreamError('INVALID', `invalid tag ${JSON.stringify(targetTag.slice(0, 200))}: up to 128 of [A-Za-z0-9_.-], not starting with '.' or '-'`);
    let digest: string;
    let ref: string;
    if (looksLikeDigest(sourceTagOrDigest)) {
      try {
        parseDigest(sourceTagOrDigest);
      } catch (error) {
        throw new ImageStreamError('INVALID', `invalid digest ${JSON.stringify(sourceTagOrDigest.slice(0, 200))}`, { cause: error });
      }
      digest = (await this.getStreamImage(sourceProject, sourceStream, sourceTagOrDigest)).image.digest;
      ref = `${sourceProject}/${sourceStream}@${digest}`;
    } else {
      await this.#requireStream(sourceProject, sourceStream);
      const current = await this.#metadata.imageStreams.getTag(sourceProject, sourceStream, sourceTagOrDigest);
      if (current === undefined) throw new ImageStreamError('TAG_NOT_FOUND', `image stream ${sourceProject}/${sourceStream} has no tag ${sourceTagOrDigest}`);
      digest = current.current.imageDigest;
      ref = `${sourceProject}/${sourceStream}:${sourceTagOrDigest}`;
    }
    await this.#tagExisting(repositoryOf(sourceProject, sourceStream), digest, repositoryOf(targetProject, targetStream), targetTag, actor, { kind: 'tag', ref });
    return this.getStreamTag(targetProject, targetStream, targetTag);
  }

  /**
   * Rolls a tag back to an earlier item of its history, in one call: the /v2
   * tag moves to that item's image and the history gains a NEW item (source
   * 'rollback', sourceRef the generation rolled back to, in decimal), so the
   * history shows the rollback and can itself be rolled back. Rolling back to
   * the image the tag already shows changes nothing.
   *
   * @throws ImageStreamError STREAM_NOT_FOUND, HISTORY_ITEM_NOT_FOUND, IMAGE_NOT_FOUND (the repository no longer holds that manifest)
   */
  async rollback(project: string, stream: string, tag: string, toGeneration: number, actor?: string): Promise<ImageStreamTagView> {
    await this.#requireStream(project, stream);
    const item = await this.#metadata.imageStreams.getTagItem(project, stream, tag, toGeneration);
    if (item === undefined) throw new ImageStreamError('HISTORY_ITEM_NOT_FOUND', `tag ${tag} of ${project}/${stream} has no history item ${toGeneration}`);
    const repository = repositoryOf(project, stream);
    await this.#tagExisting(repository, item.imageDigest, repository, tag, actor, { kind: 'rollback', ref: String(toGeneration) });
    return this.getStreamTag(project, stream, tag);
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

  async #tagExisting(
    source: RepositoryName,
    digest: string,
    target: RepositoryName,
    tag: string,
    actor: string | undefined,
    origin: { kind: 'tag' | 'rollback'; ref: string },
  ): Promise<void> {
    try {
      await this.#manifests.tagExisting(source, digest, target, tag, actor, origin);
    } catch (error) {
      if (error instanceof OciError && error.code === 'MANIFEST_UNKNOWN') {
        // E.g. an imported image whose manifest lives only in the remote registry, or one deleted by digest.
        throw new ImageStreamError('IMAGE_NOT_FOUND', `${source.name} does not hold manifest ${digest}`, { cause: error });
      }
      throw error;
    }
  }

  async #requireStream(project: string, name: string): Promise<ImageStreamRecord> {
    const stream = await this.#metadata.imageStreams.getStream(project, name);
    if (stream === undefined) throw new ImageStreamError('STREAM_NOT_FOUND', `image stream ${project}/${name} does not exist`);
    return stream;
  }
}
