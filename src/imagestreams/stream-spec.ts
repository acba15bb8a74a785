/**
 * What an image stream's spec asks of the importer: pure functions of the
 * spec (and of the stream's import bookkeeping), shared by the importer, the
 * service that writes streams and the API.
 */
import type { ImageStreamRecord, ImageStreamSpec, ImageStreamSpecTag } from '../metadata/stores.ts';

/** True when the spec asks for scheduled re-import: some DockerImage spec tag has `importPolicy.scheduled`. */
export function isScheduledSpec(spec: ImageStreamSpec): boolean {
  return (spec.tags ?? []).some((t) => t.from?.kind === 'DockerImage' && t.importPolicy?.scheduled === true);
}

/** True when the spec names something remote to import: `dockerImageRepository` or a DockerImage spec tag. */
export function tracksRemote(spec: ImageStreamSpec): boolean {
  return (spec.dockerImageRepository !== undefined && spec.dockerImageRepository !== '') || (spec.tags ?? []).some((t) => t.from?.kind === 'DockerImage');
}

/** True when the stream's spec has remote sources that no complete import has covered yet. */
export function needsFullImport(stream: ImageStreamRecord): boolean {
  return tracksRemote(stream.spec) && stream.importedGeneration !== stream.generation;
}

/**
 * The one stored form of a spec: each tag's `importPolicy` with both fields
 * (false by default), `referencePolicy` only when Local (Source is the
 * default), `from.namespace` and `annotations` only when given, no empty tag
 * list; fields in a fixed order. Two specs that mean the same have the same
 * normal form (and the same JSON).
 */
export function normalSpec(spec: ImageStreamSpec): ImageStreamSpec {
  const tags: ImageStreamSpecTag[] | undefined = spec.tags?.map((t) => ({
    name: t.name,
    ...(t.annotations === undefined || Object.keys(t.annotations).length === 0 ? {} : { annotations: t.annotations }),
    ...(t.from === undefined ? {} : { from: t.from.namespace === undefined ? { kind: t.from.kind, name: t.from.name } : { kind: t.from.kind, name: t.from.name, namespace: t.from.namespace } }),
    importPolicy: { scheduled: t.importPolicy?.scheduled ?? false, insecure: t.importPolicy?.insecure ?? false },
    ...(t.referencePolicy?.type === 'Local' ? { referencePolicy: { type: 'Local' as const } } : {}),
  }));
  return {
    ...(spec.dockerImageRepository === undefined ? {} : { dockerImageRepository: spec.dockerImageRepository }),
    ...(tags === undefined || tags.length === 0 ? {} : { tags }),
  };
}

/** True when the two specs mean the same (a spec stored in an earlier form and PUT back as a GET showed it). */
export function sameSpec(a: ImageStreamSpec, b: ImageStreamSpec): boolean {
  return JSON.stringify(normalSpec(a)) === JSON.stringify(normalSpec(b));
}
