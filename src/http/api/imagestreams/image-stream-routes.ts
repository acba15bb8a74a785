/**
 * Image-stream routes of the resource API (docs/api.md, "Image streams"):
 * imagestreams (with history, import and rollback), imagestreamtags,
 * imagestreamimages, images and pull secrets, all namespaced by project.
 *
 * Access is declared per route and checked by the route kit's preHandler:
 * view for reads; push for writes that add or move images (create, PUT,
 * import, rollback, tagging in); delete for removals (pruning history
 * included, dry runs too); manage-imagestreams for pull secrets. Tagging in from another stream also needs pull on the
 * source, which only the body names: that one check runs in the handler,
 * through the same authorizer, before anything else is read.
 */

import { PassThrough } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Authorizer, Principal, RegistryVerb } from '../../../authz/authorizer.ts';
import { ImageStreamError } from '../../../imagestreams/errors.ts';
import type { ImageStreamService, SpecTagSource } from '../../../imagestreams/image-stream-service.ts';
import { normalSpec, tracksRemote } from '../../../imagestreams/stream-spec.ts';
import type { ImageImporter, ImportProgress, PullSecrets } from '../../../imagestreams/import-contract.ts';
import { pullSpec } from '../../../imagestreams/stream-names.ts';
import { ImageStreamConflictError, ImageStreamNotFoundError, TagItemNotFoundError } from '../../../metadata/image-stream-store.ts';
import type { ImageStreamSpec, ImageStreamSpecTag, Metadata } from '../../../metadata/stores.ts';
import { acceptedTypes } from '../../../oci/content-negotiation.ts';
import { parseDigest } from '../../../oci/digest.ts';
import { OciError } from '../../../oci/errors.ts';
import { parseRepositoryName } from '../../../oci/names.ts';
import { ImageReferenceError } from '../../../remote/registry-reference.ts';
import { RemoteRegistryError } from '../../../remote/remote-errors.ts';
import { pageRequest } from '../paging.ts';
import { list } from '../resources.ts';
import { describePrincipal, type AccessRule, type RouteFn, type RouteSpec } from '../route-kit.ts';
import { ApiError, failureStatus, successStatus, type StatusBody, type StatusCause } from '../status.ts';
import {
  DEFAULT_KEEP_TAG_REVISIONS,
  dockerConfigField,
  dockerConfigOf,
  ImageStreamBody,
  ImageStreamTagBody,
  ImportBody,
  PruneBody,
  RollbackBody,
  SecretBody,
} from './image-bodies.ts';
import {
  imageObject,
  imageStreamImageObject,
  imageStreamObject,
  imageStreamPruneObject,
  imageStreamTagObject,
  secretObject,
  SERVER_ANNOTATION_PREFIX,
  tagEventObject,
} from './image-resources.ts';

/** What the image-stream routes need; `importer` and `pullSecrets` absent: their routes are not mounted. */
export interface ImageStreamRouteDeps {
  readonly imageStreams: ImageStreamService;
  /** For what ImageStreamService does not cover: deleting streams, projects, the import schedule. */
  readonly metadata: Metadata;
  /** For the second check of a tag across streams (pull on the source). */
  readonly authorizer: Authorizer;
  readonly importer?: ImageImporter | undefined;
  readonly pullSecrets?: PullSecrets | undefined;
  /**
   * Host (and port) of pull specs. The composition root gives ImageStreamService
   * the host of the external URL, so this is that same URL's host; without
   * one, the request's Host.
   */
  readonly externalUrl?: string | undefined;
}

const q = JSON.stringify;

/** The media type of import progress (`Accept: application/x-ndjson` on POST …/import). */
const NDJSON = 'application/x-ndjson';

/** One line of an import's progress answer (docs/api.md). */
type ImportEvent =
  | ({ readonly type: 'progress' } & ImportProgress)
  | { readonly type: 'result'; readonly object: object }
  | { readonly type: 'error'; readonly object: StatusBody };

/** Streams (or tags) read per query when a route walks all of them. */
const BATCH = 1000;

function validStreamName(name: string): boolean {
  try {
    // A stream name is a repository path after the project; any valid project stands in for it.
    parseRepositoryName(`p/${name}`);
    return true;
  } catch {
    return false;
  }
}

function validDigest(text: string): boolean {
  try {
    parseDigest(text);
    return true;
  } catch {
    return false;
  }
}

const projectName = z.string().min(1);
const streamName = z.string().refine(validStreamName, 'must be a repository path: lowercase letters, digits and separators (. _ __ -) between "/"-separated components');
const NamespaceParams = z.object({ p: projectName });
const StreamParams = z.object({ p: projectName, name: streamName });
const HistoryParams = z.object({ p: projectName, name: streamName, tag: z.string().min(1) });
const SecretParams = z.object({ p: projectName, secret: z.string().min(1) });
const DigestParams = z.object({ p: projectName, digest: z.string().refine(validDigest, 'must be a digest (sha256:<64 hex>)') });

/** `{name}:{tag}` (stream names cannot hold ':', tags cannot either). */
const StreamTagParams = z
  .object({ p: projectName, ref: z.string() })
  .transform((v, ctx) => {
    const colon = v.ref.lastIndexOf(':');
    const name = v.ref.slice(0, colon);
    const tag = v.ref.slice(colon + 1);
    if (colon <= 0 || !validStreamName(name) || tag === '') {
      ctx.addIssue({ code: 'custom', message: 'must be <stream>:<tag>', path: ['ref'] });
      return z.NEVER;
    }
    return { p: v.p, name, tag };
  });

/** `{name}@{digest}`. */
const StreamImageParams = z
  .object({ p: projectName, ref: z.string() })
  .transform((v, ctx) => {
    const at = v.ref.indexOf('@');
    const name = v.ref.slice(0, at);
    const digest = v.ref.slice(at + 1);
    if (at <= 0 || !validStreamName(name) || !validDigest(digest)) {
      ctx.addIssue({ code: 'custom', message: 'must be <stream>@<digest>', path: ['ref'] });
      return z.NEVER;
    }
    return { p: v.p, name, digest };
  });

function inProject(verb: RegistryVerb, project: string, what: string, kind: string, name?: string): AccessRule {
  return { kind: 'verb', verb, project, what: `${what} in project ${q(project)}`, details: { kind, ...(name === undefined ? {} : { name }) } };
}

function invalidField(field: string, message: string, reason = 'FieldValueInvalid'): ApiError {
  const causes: StatusCause[] = [{ reason, message, field }];
  return new ApiError('Invalid', `the request is invalid: ${field}: ${message}`, { causes });
}

/**
 * The errors of the layers below as Status errors: each layer's typed
 * errors by type and code, never by message. Anything else is rethrown
 * (the plugin renders it as InternalError and logs it).
 */
function translate(error: unknown, kind: string, name: string | undefined): unknown {
  if (error instanceof ApiError) return error;
  if (error instanceof ImageStreamError) {
    const what = error.code === 'IMAGE_NOT_FOUND' ? 'images' : error.code === 'TAG_NOT_FOUND' ? 'imagestreamtags' : kind;
    if (error.reason === 'Invalid') return new ApiError('Invalid', error.message, { kind: what, name, causes: [{ reason: 'FieldValueInvalid', message: error.message }] });
    return new ApiError(error.reason, error.message, { kind: what, name });
  }
  if (error instanceof ImageStreamNotFoundError || error instanceof TagItemNotFoundError) return new ApiError('NotFound', error.message, { kind, name });
  if (error instanceof ImageStreamConflictError) return new ApiError('Conflict', error.message, { kind, name });
  if (error instanceof ImageReferenceError) return invalidField('from', error.message);
  if (error instanceof OciError) {
    if (error.status === 404) return new ApiError('NotFound', error.message, { kind, name });
    if (error.status === 400) return new ApiError('Invalid', error.message, { kind, name, causes: [{ reason: 'FieldValueInvalid', message: error.message }] });
  }
  // An import that could not even start (the remote's tag list refused, unreachable):
  // the importer records per-tag failures in its result; this is the whole call failing.
  if (error instanceof RemoteRegistryError) return new ApiError('InternalError', `import failed (${error.reason}): ${error.message}`, { kind, name });
  return error;
}

/** The route function, with each handler's errors translated for its resource kind. */
function withErrors(route: RouteFn, kind: string) {
  return function guarded<P extends object, B = undefined>(spec: RouteSpec<P, B>): void {
    route<P, B>({
      ...spec,
      handle: async (context) => {
        try {
          return await spec.handle(context);
        } catch (error) {
          const params: object = context.params;
          throw translate(error, kind, 'name' in params && typeof params.name === 'string' ? params.name : undefined);
        }
      },
    });
  };
}

/** Registers the image-stream routes. */
export function imageStreamRoutes(baseRoute: RouteFn, deps: ImageStreamRouteDeps): void {
  const { imageStreams, metadata, authorizer, importer, pullSecrets } = deps;
  const streams = withErrors(baseRoute, 'imagestreams');
  const streamTags = withErrors(baseRoute, 'imagestreamtags');
  const images = withErrors(baseRoute, 'images');
  const secrets = withErrors(baseRoute, 'secrets');

  const pullHost = (request: FastifyRequest): string => (deps.externalUrl === undefined ? request.host : new URL(deps.externalUrl).host);

  const requireProject = async (project: string): Promise<void> => {
    if ((await metadata.projects.getProject(project)) === undefined) {
      throw new ApiError('NotFound', `project ${q(project)} not found`, { kind: 'projects', name: project });
    }
  };

  /**
   * Spec and annotations of a body; server-owned annotations are the stored ones, whatever the client sent.
   * Spec tags are stored in one form (normalSpec), and updateStream compares specs by that form, so a GET's
   * answer (which shows every default) PUT back is the same spec, whatever form it was stored in: the
   * generation does not move and nothing is imported again.
   */
  const specOf = (body: ImageStreamBody): ImageStreamSpec =>
    normalSpec({
      ...(body.spec?.dockerImageRepository === undefined ? {} : { dockerImageRepository: body.spec.dockerImageRepository }),
      ...(body.spec?.tags === undefined
        ? {}
        : {
            tags: body.spec.tags.map((t) => ({
              name: t.name,
              ...(t.annotations === undefined ? {} : { annotations: t.annotations }),
              ...(t.from === undefined ? {} : { from: t.from.namespace === undefined ? { kind: t.from.kind, name: t.from.name } : { kind: t.from.kind, name: t.from.name, namespace: t.from.namespace } }),
              ...(t.importPolicy === undefined ? {} : { importPolicy: { scheduled: t.importPolicy.scheduled ?? false, insecure: t.importPolicy.insecure ?? false } }),
              ...(t.referencePolicy?.type === 'Local' ? { referencePolicy: { type: 'Local' as const } } : {}),
            })),
          }),
    });
  const annotationsOf = (body: ImageStreamBody, stored: Readonly<Record<string, string>>): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [key, value] of Object.entries(body.metadata.annotations ?? {})) if (!key.startsWith(SERVER_ANNOTATION_PREFIX)) out[key] = value;
    for (const [key, value] of Object.entries(stored)) if (key.startsWith(SERVER_ANNOTATION_PREFIX)) out[key] = value;
    return out;
  };
  const checkIdentity = (body: ImageStreamBody, project: string, name: string | undefined): void => {
    if (name !== undefined && body.metadata.name !== undefined && body.metadata.name !== name) {
      throw invalidField('metadata.name', `${q(body.metadata.name)} does not match the name in the URL (${q(name)})`);
    }
    if (body.metadata.namespace !== undefined && body.metadata.namespace !== project) {
      throw invalidField('metadata.namespace', `${q(body.metadata.namespace)} does not match the project in the URL (${q(project)})`);
    }
  };
  /**
   * A stream that tracks something remote gets its import from the scheduler
   * at once, not in the answer (which must not wait on a remote). The write
   * already made it due in its transaction; this only wakes this process's
   * scheduler. Without an importer it stays due, for whichever process runs one.
   */
  const wakeImporter = (): void => importer?.wakeScheduler();

  // --- image streams --------------------------------------------------------
  streams({
    method: 'GET',
    url: '/namespaces/:p/imagestreams',
    params: NamespaceParams,
    access: ({ p }) => inProject('view', p, 'view image streams', 'imagestreams'),
    handle: async ({ request, params }) => {
      // A project that does not exist is a 404, like every other read in it (only callers allowed to view it get here).
      if ((await metadata.projects.getProject(params.p)) === undefined) {
        throw new ApiError('NotFound', `project ${q(params.p)} not found`, { kind: 'projects', name: params.p });
      }
      const page = pageRequest(request);
      // One more than asked: whether there is a next page, without a count query.
      // The streams' tags and items come in one query per few hundred streams, not one per tag.
      const views = await imageStreams.listStreamViews(params.p, { after: page.after, limit: page.limit + 1 });
      const shown = views.slice(0, page.limit);
      const next = views.length > page.limit ? shown.at(-1)?.stream.name : undefined;
      return { body: list('ImageStream', shown.map((v) => imageStreamObject(v)), next) };
    },
  });
  streams({
    method: 'POST',
    url: '/namespaces/:p/imagestreams',
    params: NamespaceParams,
    body: ImageStreamBody,
    access: ({ p }) => inProject('push', p, 'create image streams', 'imagestreams'),
    handle: async ({ params, body, principal }) => {
      const name = body.metadata.name;
      if (name === undefined) throw invalidField('metadata.name', 'an image stream needs a name', 'FieldValueRequired');
      if (!validStreamName(name)) throw invalidField('metadata.name', 'must be a repository path: lowercase letters, digits and separators (. _ __ -) between "/"-separated components');
      checkIdentity(body, params.p, undefined);
      await requireProject(params.p);
      const spec = specOf(body);
      // Every check first (pull on each source, each source exists); then one transaction writes the stream with every tag.
      const tags = await specTagSources(deps, principal, params.p, spec);
      const view = await imageStreams.createStream(params.p, name, { spec, annotations: annotationsOf(body, {}) }, tags, principal.name);
      if (tracksRemote(spec)) wakeImporter();
      return { status: 201, body: imageStreamObject(view) };
    },
  });
  streams({
    method: 'GET',
    url: '/namespaces/:p/imagestreams/:name',
    params: StreamParams,
    access: ({ p, name }) => inProject('view', p, 'view image streams', 'imagestreams', name),
    handle: async ({ params }) => ({ body: imageStreamObject(await imageStreams.getStream(params.p, params.name)) }),
  });
  streams({
    method: 'PUT',
    url: '/namespaces/:p/imagestreams/:name',
    params: StreamParams,
    body: ImageStreamBody,
    access: ({ p, name }) => inProject('push', p, 'update image streams', 'imagestreams', name),
    handle: async ({ params, body, principal }) => {
      checkIdentity(body, params.p, params.name);
      const stored = await metadata.imageStreams.getStream(params.p, params.name);
      if (stored === undefined) throw new ImageStreamNotFoundError(params.p, params.name);
      const expected = body.metadata.resourceVersion === undefined ? undefined : Number(body.metadata.resourceVersion);
      const spec = specOf(body);
      const tags = await specTagSources(deps, principal, params.p, spec);
      const { view, changed } = await imageStreams.updateStream(params.p, params.name, { spec, annotations: annotationsOf(body, stored.annotations) }, expected, tags, principal.name);
      if (tracksRemote(spec) && changed) wakeImporter();
      return { body: imageStreamObject(view) };
    },
  });
  streams({
    method: 'DELETE',
    url: '/namespaces/:p/imagestreams/:name',
    params: StreamParams,
    access: ({ p, name }) => inProject('delete', p, 'delete image streams', 'imagestreams', name),
    handle: async ({ params }) => {
      if ((await metadata.imageStreams.getStream(params.p, params.name)) === undefined) throw new ImageStreamNotFoundError(params.p, params.name);
      // Tags first, through the registry, so that /v2 loses them too (each in
      // its own transaction with the stream tag); then the stream with its
      // history. The manifests stay in the repository by digest until pruned.
      let after: string | undefined;
      for (;;) {
        const tags = await metadata.imageStreams.listTags(params.p, params.name, { after, limit: BATCH });
        for (const t of tags) {
          try {
            await imageStreams.deleteTag(params.p, params.name, t.tag);
          } catch (error) {
            if (!(error instanceof ImageStreamError && error.code === 'TAG_NOT_FOUND')) throw error;
          }
        }
        if (tags.length < BATCH) break;
        after = tags.at(-1)?.tag;
      }
      if (!(await metadata.imageStreams.deleteStream(params.p, params.name))) throw new ImageStreamNotFoundError(params.p, params.name);
      return { body: successStatus({ kind: 'imagestreams', name: params.name }) };
    },
  });
  streams({
    method: 'GET',
    url: '/namespaces/:p/imagestreams/:name/history/:tag',
    params: HistoryParams,
    access: ({ p, name }) => inProject('view', p, 'view image streams', 'imagestreams', name),
    handle: async ({ request, params }) => {
      const page = pageRequest(request);
      // The cursor is the generation of the last item shown: the next page holds the older ones.
      let before: number | undefined;
      if (page.after !== undefined) {
        if (!/^\d{1,15}$/.test(page.after)) throw new ApiError('BadRequest', 'continue: is not a continue token of this history', { causes: [{ reason: 'FieldValueInvalid', message: 'not a continue token of this history', field: 'continue' }] });
        before = Number(page.after);
      }
      const items = await imageStreams.listTagHistory(params.p, params.name, params.tag, { beforeGeneration: before, limit: page.limit + 1 });
      const shown = items.slice(0, page.limit);
      const last = shown.at(-1);
      const next = items.length > page.limit && last !== undefined ? String(last.generation) : undefined;
      return { body: list('TagEvent', shown.map(tagEventObject), next) };
    },
  });
  streams({
    method: 'POST',
    url: '/namespaces/:p/imagestreams/:name/rollback',
    params: StreamParams,
    body: RollbackBody,
    access: ({ p, name }) => inProject('push', p, 'roll back image stream tags', 'imagestreams', name),
    handle: async ({ params, body, principal }) => {
      const view = await imageStreams.rollback(params.p, params.name, body.tag, body.generation, principal.name);
      return { body: imageStreamTagObject(view.stream, view.tag.tag, view.tag.current, view.image) };
    },
  });
  // Pruning tag history, of one stream or of the project's every stream (docs/api.md, "Pruning history").
  const pruneSpec = (body: PruneBody) => ({
    keepTagRevisions: body?.spec?.keepTagRevisions ?? DEFAULT_KEEP_TAG_REVISIONS,
    keepYoungerThanSeconds: body?.spec?.keepYoungerThanSeconds ?? 0,
    dryRun: body?.spec?.dryRun ?? false,
  });
  const checkPruneIdentity = (body: PruneBody, project: string, name: string | undefined): void => {
    if (body?.metadata?.namespace !== undefined && body.metadata.namespace !== project) throw invalidField('metadata.namespace', `does not match the project in the URL (${q(project)})`);
    if (body?.metadata?.name !== undefined && body.metadata.name !== name) {
      throw invalidField('metadata.name', name === undefined ? 'a project-wide prune names no stream: prune one with POST …/imagestreams/{name}/prune' : `does not match the stream in the URL (${q(name)})`);
    }
  };
  const prune = async (project: string, name: string | undefined, body: PruneBody): Promise<object> => {
    checkPruneIdentity(body, project, name);
    const spec = pruneSpec(body);
    const result = await imageStreams.pruneHistory(project, name, { keepTagRevisions: spec.keepTagRevisions, keepYoungerThanMs: spec.keepYoungerThanSeconds * 1000, dryRun: spec.dryRun });
    return imageStreamPruneObject(project, name, spec, result);
  };
  streams({
    method: 'POST',
    url: '/namespaces/:p/imagestreams/:name/prune',
    params: StreamParams,
    body: PruneBody,
    access: ({ p, name }) => inProject('delete', p, 'prune image stream history', 'imagestreams', name),
    handle: async ({ params, body }) => ({ body: await prune(params.p, params.name, body) }),
  });
  streams({
    method: 'POST',
    url: '/namespaces/:p/imagestreamprunes',
    params: NamespaceParams,
    body: PruneBody,
    access: ({ p }) => inProject('delete', p, 'prune image stream history', 'imagestreams'),
    handle: async ({ params, body }) => {
      await requireProject(params.p);
      return { body: await prune(params.p, undefined, body) };
    },
  });
  if (importer !== undefined) {
    streams({
      method: 'POST',
      url: '/namespaces/:p/imagestreams/:name/import',
      params: StreamParams,
      body: ImportBody,
      access: ({ p, name }) => inProject('push', p, 'import images', 'imagestreams', name),
      handle: async ({ request: http, params, body, principal }) => {
        const request = body ?? {};
        const existing = await metadata.imageStreams.getStream(params.p, params.name);
        if (existing === undefined) {
          if (request.confirm !== true) {
            throw new ApiError('NotFound', `image stream ${q(`${params.p}/${params.name}`)} does not exist: give "confirm": true to create it`, { kind: 'imagestreams', name: params.name });
          }
          await requireProject(params.p);
        } else if (request.from === undefined && !tracksRemote(existing.spec)) {
          throw invalidField('from', 'the stream has no spec.dockerImageRepository and no DockerImage spec tags: say what to import', 'FieldValueRequired');
        }
        // Every check and the plan before the answer begins: a bad request keeps its own status and Status body.
        const plan = await importer.planImport(params.p, params.name, request, principal);
        if (!acceptedTypes(http.headers.accept).names(NDJSON)) {
          const result = await importer.runImport(plan);
          return { body: imageStreamObject(await imageStreams.getStream(params.p, params.name), result) };
        }
        // Progress as it happens: one JSON object per line, the last one the outcome. From here on
        // the answer is 200, and a failure while the import runs is its last line.
        const out = new PassThrough();
        const line = (event: ImportEvent): void => {
          out.write(`${JSON.stringify(event)}\n`);
        };
        void (async () => {
          try {
            const result = await importer.runImport(plan, (progress) => line({ type: 'progress', ...progress }));
            line({ type: 'result', object: imageStreamObject(await imageStreams.getStream(params.p, params.name), result) });
          } catch (error) {
            const translated = translate(error, 'imagestreams', params.name);
            if (!(translated instanceof ApiError)) http.log.error({ err: error, url: http.url }, 'request failed');
            const failure = translated instanceof ApiError ? translated : new ApiError('InternalError', 'internal error');
            line({ type: 'error', object: failureStatus(failure.reason, failure.message, failure.details) });
          } finally {
            out.end();
          }
        })();
        return { stream: out, contentType: NDJSON };
      },
    });
  }

  // --- image stream tags and images ----------------------------------------
  streamTags({
    method: 'GET',
    url: '/namespaces/:p/imagestreamtags/:ref',
    params: StreamTagParams,
    access: ({ p, name, tag }) => inProject('view', p, 'view image stream tags', 'imagestreamtags', `${name}:${tag}`),
    handle: async ({ params }) => {
      const view = await imageStreams.getStreamTag(params.p, params.name, params.tag);
      return { body: imageStreamTagObject(view.stream, view.tag.tag, view.tag.current, view.image) };
    },
  });
  streamTags({
    method: 'PUT',
    url: '/namespaces/:p/imagestreamtags/:ref',
    params: StreamTagParams,
    body: ImageStreamTagBody,
    access: ({ p, name, tag }) => inProject('push', p, 'tag images', 'imagestreamtags', `${name}:${tag}`),
    handle: async ({ params, body, principal }) => {
      if (body.metadata?.name !== undefined && body.metadata.name !== `${params.name}:${params.tag}`) {
        throw invalidField('metadata.name', `${q(body.metadata.name)} does not match the name in the URL (${q(`${params.name}:${params.tag}`)})`);
      }
      if (body.metadata?.namespace !== undefined && body.metadata.namespace !== params.p) throw invalidField('metadata.namespace', `does not match the project in the URL (${q(params.p)})`);
      if (body.tag.name !== undefined && body.tag.name !== params.tag) throw invalidField('tag.name', `${q(body.tag.name)} does not match the tag in the URL (${q(params.tag)})`);
      const { sourceProject, sourceStream, sourceRef } = parseSourceReference(body.tag.from, params.p, 'tag.from.name');
      await requireSourcePull(authorizer, principal, sourceProject, sourceStream);
      const existed = (await metadata.imageStreams.getTag(params.p, params.name, params.tag)) !== undefined;
      const view = await imageStreams.tag(sourceProject, sourceStream, sourceRef, params.p, params.name, params.tag, principal.name);
      return { status: existed ? 200 : 201, body: imageStreamTagObject(view.stream, view.tag.tag, view.tag.current, view.image) };
    },
  });
  streamTags({
    method: 'DELETE',
    url: '/namespaces/:p/imagestreamtags/:ref',
    params: StreamTagParams,
    access: ({ p, name, tag }) => inProject('delete', p, 'delete image stream tags', 'imagestreamtags', `${name}:${tag}`),
    handle: async ({ params }) => {
      await imageStreams.deleteTag(params.p, params.name, params.tag);
      return { body: successStatus({ kind: 'imagestreamtags', name: `${params.name}:${params.tag}` }) };
    },
  });
  images({
    method: 'GET',
    url: '/namespaces/:p/imagestreamimages/:ref',
    params: StreamImageParams,
    access: ({ p, name, digest }) => inProject('view', p, 'view images', 'imagestreamimages', `${name}@${digest}`),
    handle: async ({ request, params }) => {
      const view = await imageStreams.getStreamImage(params.p, params.name, params.digest);
      const reference = view.item?.dockerImageReference ?? pullSpec(pullHost(request), params.p, params.name, view.image.digest);
      return { body: imageStreamImageObject(view.stream, view.image, reference) };
    },
  });
  images({
    method: 'GET',
    url: '/namespaces/:p/images/:digest',
    params: DigestParams,
    access: ({ p, digest }) => inProject('view', p, 'view images', 'images', digest),
    handle: async ({ params }) => {
      // Only through a project that holds it: a stream's history records it, or a
      // repository of the project holds the manifest (by digest, or as an index's child).
      // The first such stream in name order names the pull spec; found by index, not stream by stream.
      const found = await imageStreams.findProjectImage(params.p, params.digest);
      if (found === undefined) throw new ApiError('NotFound', `image ${params.digest} is not in project ${q(params.p)}`, { kind: 'images', name: params.digest });
      return { body: imageObject(found.image, found.dockerImageReference) };
    },
  });

  // --- pull secrets -----------------------------------------------------------
  if (pullSecrets !== undefined) {
    // The PullSecrets contract names no error types: existence is checked here
    // first, so that the answers are NotFound / AlreadyExists Status objects.
    const find = async (project: string, name: string) => (await pullSecrets.list(project)).find((s) => s.name === name);
    const secretNotFound = (project: string, name: string) => new ApiError('NotFound', `secret ${q(name)} not found in project ${q(project)}`, { kind: 'secrets', name });
    const manage = (p: string, name?: string) => inProject('manage-imagestreams', p, 'manage pull secrets', 'secrets', name);
    secrets({
      method: 'GET',
      url: '/namespaces/:p/secrets',
      params: NamespaceParams,
      access: ({ p }) => manage(p),
      handle: async ({ request, params }) => {
        const page = pageRequest(request);
        const all = [...(await pullSecrets.list(params.p))].sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
        const rest = page.after === undefined ? all : all.filter((s) => Buffer.compare(Buffer.from(s.name), Buffer.from(page.after as string)) > 0);
        const shown = rest.slice(0, page.limit);
        return { body: list('Secret', shown.map(secretObject), rest.length > page.limit ? shown.at(-1)?.name : undefined) };
      },
    });
    secrets({
      method: 'POST',
      url: '/namespaces/:p/secrets',
      params: NamespaceParams,
      body: SecretBody,
      access: ({ p }) => manage(p),
      handle: async ({ params, body }) => {
        if (body.metadata.namespace !== undefined && body.metadata.namespace !== params.p) throw invalidField('metadata.namespace', `does not match the project in the URL (${q(params.p)})`);
        const config = dockerConfigOf(body);
        const field = dockerConfigField(body);
        let parsed: unknown;
        try {
          parsed = JSON.parse(config);
        } catch {
          throw invalidField(field, 'is not a JSON document (an auth.json: {"auths":{"<registry>":{"auth":"<base64 user:password>"}}})');
        }
        if (typeof parsed !== 'object' || parsed === null || !('auths' in parsed) || typeof parsed.auths !== 'object' || parsed.auths === null || Object.keys(parsed.auths).length === 0) {
          throw invalidField(field, 'must hold "auths" with at least one registry');
        }
        await requireProject(params.p);
        if ((await find(params.p, body.metadata.name)) !== undefined) {
          throw new ApiError('AlreadyExists', `secret ${q(body.metadata.name)} already exists in project ${q(params.p)}`, { kind: 'secrets', name: body.metadata.name });
        }
        return { status: 201, body: secretObject(await pullSecrets.create(params.p, body.metadata.name, config)) };
      },
    });
    secrets({
      method: 'GET',
      url: '/namespaces/:p/secrets/:secret',
      params: SecretParams,
      access: ({ p, secret }) => manage(p, secret),
      handle: async ({ params }) => {
        const found = await find(params.p, params.secret);
        if (found === undefined) throw secretNotFound(params.p, params.secret);
        return { body: secretObject(found) };
      },
    });
    secrets({
      method: 'DELETE',
      url: '/namespaces/:p/secrets/:secret',
      params: SecretParams,
      access: ({ p, secret }) => manage(p, secret),
      handle: async ({ params }) => {
        if ((await find(params.p, params.secret)) === undefined) throw secretNotFound(params.p, params.secret);
        await pullSecrets.delete(params.p, params.secret);
        return { body: successStatus({ kind: 'secrets', name: params.secret }) };
      },
    });
  }
}

/**
 * Tagging in copies nothing, so reading the source must be allowed as a pull
 * would be. Asked before the source is read, so a caller who may not pull it
 * learns nothing about whether it exists.
 */
/** `name:tag` of an ImageStreamTag or `name@digest` of an ImageStreamImage reference, in `from.namespace` or the current project. */
function parseSourceReference(from: { kind: string; name: string; namespace?: string | undefined }, project: string, field: string): { sourceProject: string; sourceStream: string; sourceRef: string } {
  const byTag = from.kind === 'ImageStreamTag';
  const cut = byTag ? from.name.lastIndexOf(':') : from.name.indexOf('@');
  const sourceStream = from.name.slice(0, cut);
  const sourceRef = from.name.slice(cut + 1);
  if (cut <= 0 || sourceRef === '' || !validStreamName(sourceStream)) throw invalidField(field, `must be <stream>${byTag ? ':<tag>' : '@<digest>'}`);
  return { sourceProject: from.namespace ?? project, sourceStream, sourceRef };
}

/**
 * The spec tags that point at another stream's tag or image
 * (`from.kind` ImageStreamTag / ImageStreamImage), checked and resolved
 * before anything is written: the caller must be allowed to pull each source,
 * and each source tag or image must exist. The service then writes the
 * stream with all of them in one transaction.
 */
async function specTagSources(deps: ImageStreamRouteDeps, principal: Principal, project: string, spec: ImageStreamSpec): Promise<SpecTagSource[]> {
  const out: SpecTagSource[] = [];
  for (const [i, tag] of (spec.tags ?? []).entries()) {
    const from = tag.from;
    if (from === undefined || (from.kind !== 'ImageStreamTag' && from.kind !== 'ImageStreamImage')) continue;
    const field = `spec.tags[${i}].from`;
    const source = parseSourceReference(from, project, `${field}.name`);
    await requireSourcePull(deps.authorizer, principal, source.sourceProject, source.sourceStream);
    try {
      out.push({ tag: tag.name, source: await deps.imageStreams.resolveSource(source.sourceProject, source.sourceStream, source.sourceRef) });
    } catch (error) {
      if (!(error instanceof ImageStreamError)) throw error;
      const kind = error.code === 'TAG_NOT_FOUND' ? 'imagestreamtags' : error.code === 'IMAGE_NOT_FOUND' ? 'imagestreamimages' : 'imagestreams';
      if (error.reason === 'NotFound') throw new ApiError('NotFound', `${field}: ${error.message}`, { kind, name: from.name });
      throw invalidField(`${field}.name`, error.message);
    }
  }
  return out;
}

async function requireSourcePull(authorizer: Authorizer, principal: Principal, project: string, stream: string): Promise<void> {
  if (await authorizer.can(principal, 'pull', { project, repository: `${project}/${stream}` })) return;
  const what = `pull ${q(`${project}/${stream}`)} (the source of the tag)`;
  if (principal.kind === 'anonymous') throw new ApiError('Unauthorized', `authentication required: anonymous users may not ${what}`);
  throw new ApiError('Forbidden', `${describePrincipal(principal)} may not ${what}`, { kind: 'imagestreams', name: stream });
}
