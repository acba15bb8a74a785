/**
 * What an image stream's spec asks of the importer: pure functions of the
 * spec (and of the stream's import bookkeeping), shared by the importer, the
 * service that writes streams and the API.
 */
import type { ImageStreamRecord, ImageStreamSpec } from '../metadata/stores.ts';

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
