/**
 * Import from external registries: reads tags and manifests (and image
 * configs) from any registry speaking the Distribution API and records them
 * in an image stream, as Images plus history items with source 'import'.
 * Only metadata: blobs stay remote until pull-through serves them.
 *
 * Order of work: everything remote first, outside any transaction (registry
 * latency must not hold database locks), then one transaction that locks the
 * stream row, stores the images, appends history items only for tags whose
 * digest changed, records spec, check-time annotation and conditions, and
 * (for a manual import) the next scheduled check. A remote failure is never
 * thrown: it becomes a condition on the stream and an entry of `failed`.
 */

import type { Principal } from '../authz/authorizer.ts';
import type {
  ImageRecord,
  ImageStreamCondition,
  ImageStreamRecord,
  ImageStreamSpec,
  ImageStreamSpecTag,
  Metadata,
} from '../metadata/stores.ts';
import { OciError } from '../oci/errors.ts';
import { parseManifest } from '../oci/manifest.ts';
import type { ParsedManifest } from '../oci/manifest.ts';
import { isSchema1, manifestKind } from '../oci/media-types.ts';
import { isValidTag } from '../oci/names.ts';
import type { Clock } from '../registry/clock.ts';
import { DEFAULT_TAG, ImageReferenceError, parseImageReference } from '../remote/registry-reference.ts';
import type { ImageReference } from '../remote/registry-reference.ts';
import { RemoteRegistryClient } from '../remote/remote-client.ts';
import type { RemoteCredentials } from '../remote/remote-client.ts';
import { RemoteRegistryError } from '../remote/remote-errors.ts';
import type { RemoteErrorReason } from '../remote/remote-errors.ts';
import { ImageStreamError } from './errors.ts';
import { isScheduledSpec, needsFullImport, tracksRemote } from './stream-spec.ts';
import { extractImage, MAX_CONFIG_BYTES, wantsConfig } from './image-metadata.ts';
import type { FailedTag, ImageImporter, ImportedTag, ImportPlan, ImportProgress, ImportRequest, ImportResult, PullSecrets } from './import-contract.ts';

/** Annotation holding the time (RFC 3339) of the last check of the remote repository. */
export const DOCKER_REPOSITORY_CHECK_ANNOTATION = 'image.berth.dev/dockerRepositoryCheck';

/** The condition type of import outcomes, per tag (`tag` set) or for the stream (listing the remote's tags). */
export const IMPORT_SUCCESS_CONDITION = 'ImportSuccess';

/** The default interval between scheduled imports of a stream. */
export const DEFAULT_IMPORT_INTERVAL_MS = 15 * 60_000;

/** The `reason` of a failed import's condition. */
export type ImportFailureReason = 'Unauthorized' | 'NotFound' | 'Unreachable' | 'RateLimited' | 'InvalidManifest' | 'InvalidReference';

const REASON_BY_REMOTE: Readonly<Record<RemoteErrorReason, ImportFailureReason>> = {
  unauthorized: 'Unauthorized',
  'not-found': 'NotFound',
  unreachable: 'Unreachable',
  tls: 'Unreachable',
  'rate-limited': 'RateLimited',
  'invalid-response': 'InvalidManifest',
  'too-large': 'InvalidManifest',
};

/** What a test (or a deployment with a private CA) uses to reach a registry. */
export type RemoteClientFactory = (registry: string, options: { readonly credentials: RemoteCredentials | undefined; readonly insecure: boolean }) => RemoteRegistryClient;

export interface ImageStreamImporterOptions {
  readonly metadata: Metadata;
  readonly secrets: PullSecrets;
  readonly clock: Clock;
  /** Builds the client for one registry; default a RemoteRegistryClient with the system CAs. The importer closes it. */
  readonly clientFactory?: RemoteClientFactory | undefined;
  /** When a manual import leaves the stream scheduled, its next check is this far ahead (the scheduler's interval). Default 15 min. */
  readonly scheduleIntervalMs?: number | undefined;
  /** Manifests fetched at once. Default 4. */
  readonly concurrency?: number | undefined;
  /**
   * Platform manifests of one index whose manifest and config are fetched
   * too (so each platform has its metadata); later ones are recorded only as
   * entries of the index. Default 8.
   */
  readonly maxIndexChildren?: number | undefined;
  /** Called by wakeScheduler (a write made a stream due): the composition root wakes this process's ImportScheduler. */
  readonly onImportRequested?: (() => void) | undefined;
}

/** The outcome of a scheduled import, for the scheduler's finishImport. */
export interface ScheduledImportOutcome {
  readonly result: ImportResult;
  /** The stream's conditions after the import (what finishImport records). */
  readonly conditions: readonly ImageStreamCondition[];
  /** False when the stream no longer has anything scheduled: the scheduler then clears its next import. */
  readonly scheduled: boolean;
  /**
   * The spec generation this import covered, for finishImport: when the
   * stream's generation has moved on (its spec changed meanwhile), the stream
   * stays due instead of taking the next interval.
   */
  readonly importedGeneration: number;
}

/** What the import scheduler needs of an importer. */
export interface ScheduledImporter {
  /**
   * A stream whose spec was never imported, or changed since its last
   * complete import (`importedGeneration` behind `generation`): imports
   * everything the spec names, once (every tag of `dockerImageRepository`,
   * every DockerImage spec tag), as OpenShift does for a new or changed
   * stream. Otherwise re-imports what the spec schedules (its spec tags with
   * `importPolicy.scheduled`, and every tag of `dockerImageRepository` when a
   * scheduled tag comes from it). Does not touch the lease or the schedule.
   */
  importScheduled(stream: ImageStreamRecord): Promise<ScheduledImportOutcome>;
}

interface Target {
  /** The stream tag it lands in. */
  readonly tag: string;
  /** What the remote is asked for: a tag or a digest. */
  readonly reference: string;
}

interface Source {
  readonly registry: string;
  readonly repository: string;
  readonly insecure: boolean;
  /** List every remote tag instead of `targets`. */
  readonly all: boolean;
  readonly targets: readonly Target[];
  /** Write `from` (and the import policy) into the spec tag of each target. */
  readonly recordFrom: boolean;
  /** Import policy for spec tags of listed tags (an --all import with flags, or a scheduled repository). */
  readonly listedPolicy: { readonly scheduled: boolean; readonly insecure: boolean } | undefined;
}

interface PlannedFailure extends FailedTag {
  readonly reason: ImportFailureReason;
}

/** A manual import planned by planImport: what runImport needs, opaque to callers. */
class ManualPlan implements ImportPlan {
  readonly project: string;
  readonly stream: string;
  readonly plan: Plan;
  readonly request: ImportRequest;
  readonly basis: { readonly generation: number | undefined; readonly full: boolean };
  readonly importer: ImageStreamImporter;

  constructor(init: Omit<ManualPlan, never>) {
    this.project = init.project;
    this.stream = init.stream;
    this.plan = init.plan;
    this.request = init.request;
    this.basis = init.basis;
    this.importer = init.importer;
  }
}

interface Plan {
  readonly sources: readonly Source[];
  /** Set `spec.dockerImageRepository` to this. */
  readonly dockerImageRepository: string | undefined;
  /** Failures found while planning (a spec tag whose `from` does not parse; tag '' for the stream's repository). */
  readonly failures: readonly PlannedFailure[];
}

type Outcome =
  | { readonly kind: 'ok'; readonly tag: string; readonly digest: string; readonly reference: string; readonly sourceRef: string; readonly images: readonly ImageRecord[] }
  | { readonly kind: 'failed'; readonly tag: string; readonly reason: ImportFailureReason; readonly message: string };

interface Fetched {
  readonly outcomes: readonly Outcome[];
  /** Listing a repository's tags failed: stream-level failures. */
  readonly streamFailures: readonly FailedTag[];
  /** Every source with its targets as fetched (listed ones filled in), for the spec. */
  readonly sources: readonly { readonly source: Source; readonly targets: readonly Target[] }[];
}

function repoKey(registry: string, repository: string): string {
  return `${registry}/${repository}`;
}

function parseFrom(text: string): ImageReference {
  return parseImageReference(text, { defaultTag: false });
}

/** `registry/repo:tag` or `registry/repo@digest`: where a target comes from. */
function remoteRef(source: Source, target: Target): string {
  return `${repoKey(source.registry, source.repository)}${target.reference.includes(':') ? '@' : ':'}${target.reference}`;
}

function targetsOf(ref: ImageReference): Target[] {
  if (ref.digest !== undefined) return [{ tag: ref.tag ?? DEFAULT_TAG, reference: ref.digest }];
  const tag = ref.tag ?? DEFAULT_TAG;
  return [{ tag, reference: tag }];
}

function sameRepository(ref: ImageReference, other: ImageReference): boolean {
  return ref.registry === other.registry && ref.repository === other.repository;
}

/** Spec tags that import from a remote (`from.kind` DockerImage), with their parsed reference or the parse error. */
function dockerSpecTags(spec: ImageStreamSpec): { tag: ImageStreamSpecTag; ref: ImageReference | undefined; error: string | undefined }[] {
  return (spec.tags ?? [])
    .filter((t) => t.from?.kind === 'DockerImage')
    .map((tag) => {
      try {
        return { tag, ref: parseFrom(tag.from?.name ?? ''), error: undefined };
      } catch (error) {
        return { tag, ref: undefined, error: error instanceof Error ? error.message : String(error) };
      }
    });
}

function describeRemoteError(error: RemoteRegistryError, registry: string, credentials: RemoteCredentials | undefined, project: string): string {
  if (error.reason !== 'unauthorized') return error.message;
  const how =
    credentials === undefined
      ? `anonymous access (no pull secret of project ${project} has credentials for ${registry})`
      : `the credentials of user ${JSON.stringify(credentials.username)} from project ${project}'s pull secret for ${registry}`;
  return `${registry} refused ${how}: ${error.message}`;
}

/** Runs `fn` over `items` with at most `limit` at once, keeping the order of results. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T, i);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return results;
}

/**
 * ImageImporter on the metadata stores, pull secrets and the remote client.
 * Authorization (push on the project) is the caller's; `actor` is not
 * recorded (history items of imports name their remote source instead).
 */
export class ImageStreamImporter implements ImageImporter, ScheduledImporter {
  readonly #metadata: Metadata;
  readonly #secrets: PullSecrets;
  readonly #clock: Clock;
  readonly #clientFactory: RemoteClientFactory;
  readonly #scheduleIntervalMs: number;
  readonly #concurrency: number;
  readonly #maxIndexChildren: number;
  readonly #onImportRequested: (() => void) | undefined;

  constructor(options: ImageStreamImporterOptions) {
    this.#metadata = options.metadata;
    this.#secrets = options.secrets;
    this.#clock = options.clock;
    this.#clientFactory =
      options.clientFactory ?? ((registry, o) => new RemoteRegistryClient({ registry, credentials: o.credentials, insecure: o.insecure }));
    this.#scheduleIntervalMs = options.scheduleIntervalMs ?? DEFAULT_IMPORT_INTERVAL_MS;
    this.#concurrency = options.concurrency ?? 4;
    this.#maxIndexChildren = options.maxIndexChildren ?? 8;
    this.#onImportRequested = options.onImportRequested;
  }

  wakeScheduler(): void {
    this.#onImportRequested?.();
  }

  /**
   * Imports into `project/stream` from `request.from`, or else from the
   * stream's `spec.dockerImageRepository`, or else from its DockerImage spec
   * tags. Every tag with `all`, else the named tag (default `latest`).
   * With `from`: records it in the spec (`dockerImageRepository` for `all`,
   * else the tag's `from`), with `importPolicy` per `scheduled`/`insecure`.
   * planImport, then runImport.
   *
   * @throws ImageStreamError STREAM_NOT_FOUND (no such stream and no `confirm`), INVALID (bad `from`, or nothing to import from)
   */
  async importStream(
    project: string,
    stream: string,
    request: ImportRequest,
    actor: Principal,
    onProgress?: (progress: ImportProgress) => void,
  ): Promise<ImportResult> {
    return this.runImport(await this.planImport(project, stream, request, actor), onProgress);
  }

  async planImport(project: string, stream: string, request: ImportRequest, _actor: Principal): Promise<ImportPlan> {
    const existing = await this.#metadata.imageStreams.getStream(project, stream);
    if (existing === undefined && request.confirm !== true) {
      throw new ImageStreamError('STREAM_NOT_FOUND', `image stream ${project}/${stream} does not exist: use --confirm to create it`);
    }
    const plan = this.#planManual(project, stream, existing, request);
    // Without `from` the plan is the whole spec: it covers the spec it was read from.
    return new ManualPlan({ project, stream, plan, request, basis: { generation: existing?.generation, full: request.from === undefined }, importer: this });
  }

  async runImport(plan: ImportPlan, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult> {
    if (!(plan instanceof ManualPlan) || plan.importer !== this) throw new TypeError('runImport takes a plan that this importer made (planImport)');
    const { result } = await this.#run(plan.project, plan.stream, plan.plan, plan.request, 'manual', plan.basis, onProgress);
    return result;
  }

  async importScheduled(stream: ImageStreamRecord): Promise<ScheduledImportOutcome> {
    const full = needsFullImport(stream);
    const plan = full ? this.#planFromSpec(stream.spec, false, {}) : this.#planScheduled(stream);
    const empty = (): ScheduledImportOutcome => ({
      result: { project: stream.project, stream: stream.name, tagsFound: 0, imported: [], failed: [] },
      conditions: stream.conditions,
      scheduled: false,
      importedGeneration: stream.generation,
    });
    if (plan === undefined || (plan.sources.length === 0 && plan.failures.length === 0)) {
      // Nothing remote to import: this generation is covered as it stands.
      if (stream.importedGeneration !== stream.generation) await this.#metadata.imageImports.setImportedGeneration(stream.project, stream.name, stream.generation);
      return empty();
    }
    try {
      return await this.#run(stream.project, stream.name, plan, {}, 'scheduled', { generation: stream.generation, full }, undefined);
    } catch (error) {
      // Deleted while its import ran: nothing left to schedule.
      if (error instanceof ImageStreamError && error.code === 'STREAM_NOT_FOUND') return { ...empty(), conditions: [] };
      throw error;
    }
  }

  #planManual(project: string, stream: string, existing: ImageStreamRecord | undefined, request: ImportRequest): Plan {
    if (request.from === undefined) {
      const plan = this.#planFromSpec(existing?.spec ?? {}, false, request);
      if (plan === undefined) {
        throw new ImageStreamError('INVALID', `image stream ${project}/${stream} has no spec.dockerImageRepository and no DockerImage tags: give --from`);
      }
      return plan;
    }
    let ref: ImageReference;
    try {
      ref = parseFrom(request.from);
    } catch (error) {
      if (error instanceof ImageReferenceError) throw new ImageStreamError('INVALID', `invalid --from: ${error.message}`, { cause: error });
      throw error;
    }
    const specTags = dockerSpecTags(existing?.spec ?? {});
    const all = request.all === true && ref.digest === undefined;
    const targets = all ? [] : targetsOf(ref);
    // Not given: as insecure as the spec already says this remote is.
    const insecure =
      request.insecure ??
      specTags.some((t) => t.ref !== undefined && sameRepository(t.ref, ref) && (all || t.tag.name === targets[0]?.tag) && t.tag.importPolicy?.insecure === true);
    const flagsGiven = request.scheduled !== undefined || request.insecure !== undefined;
    const source: Source = {
      registry: ref.registry,
      repository: ref.repository,
      insecure,
      all,
      targets,
      recordFrom: !all,
      listedPolicy: all && flagsGiven ? { scheduled: request.scheduled ?? false, insecure } : undefined,
    };
    return { sources: [source], dockerImageRepository: all ? repoKey(ref.registry, ref.repository) : undefined, failures: [] };
  }

  #planScheduled(stream: ImageStreamRecord): Plan {
    return this.#planFromSpec(stream.spec, true, {}) ?? { sources: [], dockerImageRepository: undefined, failures: [] };
  }

  /**
   * What the spec says to import: every tag of `dockerImageRepository`, and
   * each DockerImage spec tag that listing does not already cover (their
   * remotes may all differ). `onlyScheduled`: only spec tags with
   * `importPolicy.scheduled`, and the repository only when one of them comes
   * from it (so that new remote tags are found too). Undefined when the spec
   * names no remote at all.
   */
  #planFromSpec(spec: ImageStreamSpec, onlyScheduled: boolean, request: ImportRequest): Plan | undefined {
    const specTags = dockerSpecTags(spec).filter((t) => !onlyScheduled || t.tag.importPolicy?.scheduled === true);
    const allSpecTags = dockerSpecTags(spec);
    let repository: ImageReference | undefined;
    const failures: PlannedFailure[] = [];
    if (spec.dockerImageRepository !== undefined && spec.dockerImageRepository !== '') {
      try {
        const ref = parseFrom(spec.dockerImageRepository);
        if (!onlyScheduled || specTags.some((t) => t.ref !== undefined && sameRepository(t.ref, ref))) repository = ref;
      } catch (error) {
        if (!(error instanceof ImageReferenceError)) throw error;
        failures.push({ tag: '', reason: 'InvalidReference', message: `spec.dockerImageRepository: ${error.message}` });
      }
    }
    if (repository === undefined && specTags.length === 0 && failures.length === 0) return undefined;
    const sources: Source[] = [];
    if (repository !== undefined) {
      const repo = repository;
      const insecure =
        request.insecure ?? allSpecTags.some((t) => t.ref !== undefined && sameRepository(t.ref, repo) && t.tag.importPolicy?.insecure === true);
      const flagsGiven = request.scheduled !== undefined || request.insecure !== undefined;
      sources.push({
        registry: repo.registry,
        repository: repo.repository,
        insecure,
        all: true,
        targets: [],
        recordFrom: false,
        listedPolicy: onlyScheduled ? { scheduled: true, insecure } : flagsGiven ? { scheduled: request.scheduled ?? false, insecure } : undefined,
      });
    }
    for (const { tag, ref, error } of specTags) {
      if (ref === undefined) {
        failures.push({ tag: tag.name, reason: 'InvalidReference', message: `spec tag ${tag.name}: ${error ?? 'invalid from'}` });
        continue;
      }
      // A tag of the listed repository under its own name is imported by the listing.
      if (repository !== undefined && sameRepository(ref, repository) && ref.digest === undefined && (ref.tag ?? DEFAULT_TAG) === tag.name) continue;
      sources.push({
        registry: ref.registry,
        repository: ref.repository,
        insecure: request.insecure ?? tag.importPolicy?.insecure === true,
        all: false,
        targets: [{ tag: tag.name, reference: ref.digest ?? ref.tag ?? DEFAULT_TAG }],
        // Only the policy changes (when flags were given); `from` stays as the spec says.
        recordFrom: false,
        listedPolicy: undefined,
      });
    }
    return { sources, dockerImageRepository: undefined, failures };
  }

  /**
   * Fetches what `plan` names, then records it in one transaction.
   * `basis`: the generation of the spec the plan was made from (undefined
   * for a stream this import creates), and whether the plan is the whole
   * spec. The import covers the stream's spec (importedGeneration) when the
   * spec did not change meanwhile and either the plan was the whole spec, or
   * the stream this import creates is, or the spec was already covered
   * before (then all this import added to the spec is what it imported).
   */
  async #run(
    project: string,
    name: string,
    plan: Plan,
    request: ImportRequest,
    mode: 'manual' | 'scheduled',
    basis: { readonly generation: number | undefined; readonly full: boolean },
    onProgress: ((progress: ImportProgress) => void) | undefined,
  ): Promise<ScheduledImportOutcome> {
    const now = this.#clock();
    const fetched = await this.#fetch(project, name, plan, onProgress);
    const outcomes = [
      ...plan.failures.filter((f) => f.tag !== '').map((f): Outcome => ({ kind: 'failed', ...f })),
      ...fetched.outcomes,
    ];
    // A failure of the stream as a whole (tag '') is a stream-level condition.
    const streamFailures = [...plan.failures.filter((f) => f.tag === ''), ...fetched.streamFailures];

    const imported: ImportedTag[] = [];
    const written = await this.#metadata.withTransaction(async (tx) => {
      // A new stream (--confirm) is created with its spec, so that its generation starts at 1; undefined when it exists.
      const created = mode === 'manual' && (await tx.imageStreams.createStream(project, name, now, this.#nextSpec({}, plan, fetched, request), {})) !== undefined;
      const locked = await tx.imageImports.lockStream(project, name);
      if (locked === undefined) throw new ImageStreamError('STREAM_NOT_FOUND', `image stream ${project}/${name} was deleted during the import`);
      const stored = new Set<string>();
      for (const outcome of outcomes) {
        if (outcome.kind !== 'ok') continue;
        for (const image of outcome.images) {
          if (stored.has(image.digest)) continue;
          stored.add(image.digest);
          await tx.images.putImage(image);
        }
        // Under the stream's lock: a concurrent import of the same tag has committed (or not started), never half-done.
        const current = await tx.imageStreams.getTag(project, name, outcome.tag);
        const changed = current?.current.imageDigest !== outcome.digest;
        if (changed) {
          await tx.imageStreams.addTagItem(project, name, outcome.tag, {
            createdAt: now,
            imageDigest: outcome.digest,
            dockerImageReference: outcome.reference,
            sourceKind: 'import',
            sourceRef: outcome.sourceRef,
          });
        }
        imported.push({ tag: outcome.tag, digest: outcome.digest, changed });
      }
      const spec = this.#nextSpec(locked.spec, plan, fetched, request);
      const annotations = { ...locked.annotations, [DOCKER_REPOSITORY_CHECK_ANNOTATION]: new Date(now).toISOString() };
      // No resourceVersion precondition: the row lock already orders us after any other writer, and the spec was merged onto what it committed.
      const updated = await tx.imageStreams.putSpec(project, name, { spec, annotations }, undefined);
      const conditions = nextConditions(locked.conditions, outcomes, streamFailures, now);
      await tx.imageImports.setConditions(project, name, conditions);
      const sameSpec = created || locked.generation === basis.generation;
      const coveredBefore = locked.importedGeneration === locked.generation || !tracksRemote(locked.spec);
      const covered = sameSpec && (basis.full || created || coveredBefore);
      if (covered) await tx.imageImports.setImportedGeneration(project, name, updated.generation);
      const scheduled = isScheduledSpec(spec);
      if (mode === 'manual' && (scheduled || locked.nextImportAt !== null)) {
        // Just checked: the next scheduled check is one interval from now. Unless
        // the spec still has sources no import has covered: then it stays due.
        if (covered || locked.nextImportAt === null) await tx.imageStreams.scheduleImport(project, name, scheduled ? now + this.#scheduleIntervalMs : null);
      }
      return { conditions, scheduled, importedGeneration: covered ? updated.generation : (basis.generation ?? updated.generation) };
    });

    const failed: FailedTag[] = [
      ...streamFailures,
      ...outcomes.filter((o) => o.kind === 'failed').map((o) => ({ tag: o.tag, reason: o.reason, message: o.message })),
    ];
    return {
      result: { project, stream: name, tagsFound: outcomes.length, imported, failed },
      conditions: written.conditions,
      scheduled: written.scheduled,
      importedGeneration: written.importedGeneration,
    };
  }

  /** Everything remote: tag lists, manifests, configs. Never throws a RemoteRegistryError. */
  async #fetch(project: string, stream: string, plan: Plan, onProgress: ((progress: ImportProgress) => void) | undefined): Promise<Fetched> {
    const clients = new Map<string, { client: RemoteRegistryClient; credentials: RemoteCredentials | undefined }>();
    try {
      const clientFor = async (source: Source) => {
        const key = `${source.insecure ? 'http' : 'https'}://${source.registry}`;
        let entry = clients.get(key);
        if (entry === undefined) {
          const credentials = await this.#secrets.credentialsFor(project, source.registry);
          entry = { client: this.#clientFactory(source.registry, { credentials, insecure: source.insecure }), credentials };
          clients.set(key, entry);
        }
        return entry;
      };
      const streamFailures: FailedTag[] = [];
      const sources: { source: Source; targets: Target[] }[] = [];
      const seenTags = new Set<string>();
      const work: { source: Source; target: Target }[] = [];
      for (const source of plan.sources) {
        let targets: Target[] = [...source.targets];
        if (source.all) {
          const { client, credentials } = await clientFor(source);
          try {
            targets = (await client.listTags(source.repository)).map((tag) => ({ tag, reference: tag }));
          } catch (error) {
            if (!(error instanceof RemoteRegistryError)) throw error;
            streamFailures.push({
              tag: '',
              reason: REASON_BY_REMOTE[error.reason],
              message: `listing the tags of ${repoKey(source.registry, source.repository)}: ${describeRemoteError(error, source.registry, credentials, project)}`,
            });
            targets = [];
          }
        }
        // One stream tag is imported once per run: the first source naming it wins (a spec tag before a listing of the same name).
        targets = targets.filter((t) => !seenTags.has(t.tag));
        for (const t of targets) seenTags.add(t.tag);
        sources.push({ source, targets });
        for (const target of targets) work.push({ source, target });
      }
      onProgress?.({ phase: 'tags', found: work.length + plan.failures.filter((f) => f.tag !== '').length });
      let done = 0;
      const outcomes = await mapLimit(work, this.#concurrency, async ({ source, target }) => {
        const { client, credentials } = await clientFor(source);
        const outcome = await this.#fetchTarget(project, stream, client, credentials, source, target);
        done += 1;
        onProgress?.({ phase: 'manifest', done, total: work.length, tag: target.tag });
        return outcome;
      });
      return { outcomes, streamFailures, sources };
    } finally {
      await Promise.all([...clients.values()].map((c) => c.client.close().catch(() => undefined)));
    }
  }

  async #fetchTarget(
    project: string,
    stream: string,
    client: RemoteRegistryClient,
    credentials: RemoteCredentials | undefined,
    source: Source,
    target: Target,
  ): Promise<Outcome> {
    const sourceRef = remoteRef(source, target);
    const failed = (reason: ImportFailureReason, message: string): Outcome => ({ kind: 'failed', tag: target.tag, reason, message });
    if (!isValidTag(target.tag)) return failed('InvalidReference', `${sourceRef}: ${JSON.stringify(target.tag)} is not a valid tag here`);
    try {
      // A tag that still shows the digest the stream has costs one HEAD, not a GET
      // (Docker Hub does not count HEADs against its pull limit).
      if (!target.reference.includes(':')) {
        const current = await this.#metadata.imageStreams.getTag(project, stream, target.tag);
        if (current !== undefined) {
          const head = await client.headManifest(source.repository, target.reference).catch(() => undefined);
          if (head?.digest !== undefined && head.digest === current.current.imageDigest && (await this.#metadata.images.getImage(head.digest)) !== undefined) {
            return { kind: 'ok', tag: target.tag, digest: head.digest, reference: `${repoKey(source.registry, source.repository)}@${head.digest}`, sourceRef, images: [] };
          }
        }
      }
      const manifest = await client.getManifest(source.repository, target.reference);
      if (isSchema1(manifest.mediaType) || manifestKind(manifest.mediaType) === undefined) {
        return failed('InvalidManifest', `${sourceRef} is a ${manifest.mediaType} manifest: only Docker schema2 and OCI manifests and indexes can be imported`);
      }
      const parsed = parseManifest(manifest.bytes, manifest.mediaType);
      const images: ImageRecord[] = [await this.#imageOf(client, source.repository, manifest.digest, manifest.bytes.byteLength, parsed)];
      if (parsed.kind === 'index') images.push(...(await this.#children(client, source.repository, parsed)));
      return { kind: 'ok', tag: target.tag, digest: manifest.digest, reference: `${repoKey(source.registry, source.repository)}@${manifest.digest}`, sourceRef, images };
    } catch (error) {
      if (error instanceof RemoteRegistryError) return failed(REASON_BY_REMOTE[error.reason], `${sourceRef}: ${describeRemoteError(error, source.registry, credentials, project)}`);
      if (error instanceof OciError) return failed('InvalidManifest', `${sourceRef}: ${error.message}`);
      throw error;
    }
  }

  /** The Image of one manifest, reading its config blob for an image (a failure to read it fails the tag: images are written once). */
  async #imageOf(client: RemoteRegistryClient, repository: string, digest: string, size: number, parsed: ParsedManifest): Promise<ImageRecord> {
    let config: Buffer | undefined;
    if (wantsConfig(parsed) && parsed.config !== null) config = await client.getBlob(repository, parsed.config.digest, MAX_CONFIG_BYTES);
    return extractImage({ digest, size, parsed, config, now: this.#clock() });
  }

  /**
   * The platform images of an index, each with its metadata, up to
   * maxIndexChildren; ones already recorded are skipped. A child that fails
   * is left out (the index still lists it), so a later import can record it.
   */
  async #children(client: RemoteRegistryClient, repository: string, index: ParsedManifest): Promise<ImageRecord[]> {
    const out: ImageRecord[] = [];
    const children = index.manifests.filter((m) => m.platform !== undefined && manifestKind(m.mediaType) === 'image').slice(0, this.#maxIndexChildren);
    for (const child of children) {
      if ((await this.#metadata.images.getImage(child.digest)) !== undefined) continue;
      try {
        const manifest = await client.getManifest(repository, child.digest);
        const parsed = parseManifest(manifest.bytes, manifest.mediaType);
        if (parsed.kind !== 'image') continue;
        out.push(await this.#imageOf(client, repository, manifest.digest, manifest.bytes.byteLength, parsed));
      } catch (error) {
        if (!(error instanceof RemoteRegistryError || error instanceof OciError)) throw error;
      }
    }
    return out;
  }

  /** The spec after the import: `from` and import policies recorded as the request and plan say. */
  #nextSpec(spec: ImageStreamSpec, plan: Plan, fetched: Fetched, request: ImportRequest): ImageStreamSpec {
    const tags = new Map<string, ImageStreamSpecTag>((spec.tags ?? []).map((t) => [t.name, t]));
    const flagsGiven = request.scheduled !== undefined || request.insecure !== undefined;
    const policy = (previous: ImageStreamSpecTag | undefined) => ({
      scheduled: request.scheduled ?? previous?.importPolicy?.scheduled ?? false,
      insecure: request.insecure ?? previous?.importPolicy?.insecure ?? false,
    });
    for (const { source, targets } of fetched.sources) {
      for (const target of targets) {
        const previous = tags.get(target.tag);
        if (source.recordFrom) {
          tags.set(target.tag, { ...previous, name: target.tag, from: { kind: 'DockerImage', name: remoteRef(source, target) }, importPolicy: policy(previous) });
        } else if (source.listedPolicy !== undefined && previous === undefined) {
          tags.set(target.tag, { name: target.tag, from: { kind: 'DockerImage', name: remoteRef(source, target) }, importPolicy: source.listedPolicy });
        } else if (flagsGiven && previous !== undefined) {
          tags.set(target.tag, { ...previous, importPolicy: policy(previous) });
        }
      }
    }
    const next: ImageStreamSpec = { ...spec, ...(plan.dockerImageRepository === undefined ? {} : { dockerImageRepository: plan.dockerImageRepository }) };
    return tags.size === 0 && spec.tags === undefined ? next : { ...next, tags: [...tags.values()] };
  }
}

/**
 * The stream's conditions after an import: ImportSuccess conditions of the
 * tags this import tried are replaced (dropped on success), the stream-level
 * one is replaced by this import's listing failures (or dropped); every
 * other condition stays. A condition that did not change keeps its
 * lastTransitionTime, as Kubernetes conditions do.
 */
function nextConditions(
  previous: readonly ImageStreamCondition[],
  outcomes: readonly Outcome[],
  streamFailures: readonly FailedTag[],
  now: number,
): ImageStreamCondition[] {
  const tried = new Set(outcomes.map((o) => o.tag));
  const prior = (tag: string | undefined) => previous.find((c) => c.type === IMPORT_SUCCESS_CONDITION && c.tag === tag);
  const kept = previous.filter((c) => !(c.type === IMPORT_SUCCESS_CONDITION && (c.tag === undefined || tried.has(c.tag))));
  const condition = (tag: string | undefined, reason: string, message: string): ImageStreamCondition => {
    const before = prior(tag);
    const same = before !== undefined && before.status === 'False' && before.reason === reason;
    return {
      type: IMPORT_SUCCESS_CONDITION,
      status: 'False',
      reason,
      message,
      ...(tag === undefined ? {} : { tag }),
      lastTransitionTime: same ? before.lastTransitionTime : now,
    };
  };
  const added: ImageStreamCondition[] = [];
  if (streamFailures.length > 0) {
    added.push(condition(undefined, streamFailures[0]?.reason ?? 'Unreachable', streamFailures.map((f) => f.message).join('; ')));
  }
  for (const o of outcomes) if (o.kind === 'failed') added.push(condition(o.tag, o.reason, o.message));
  return [...kept, ...added];
}
