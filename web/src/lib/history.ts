/** Tag history and build steps, ordered and summarised for the stream and tag pages. */
import type { ImageHistoryEntry, ImageLayer, ImageStream, NamedTagEventList, SpecTag, TagEvent } from '../api/types.ts';

function time(value: string | undefined): number {
  const t = value ? Date.parse(value) : NaN;
  return Number.isNaN(t) ? -Infinity : t;
}

/**
 * Tag events newest first: by generation (the server's order of changes),
 * then by creation time, then by digest so the order is total and stable.
 * The API already answers newest first; sorting again keeps merged pages
 * (status items plus the history route) in one order without duplicates.
 */
export function orderTagHistory(items: readonly TagEvent[]): TagEvent[] {
  const seen = new Set<string>();
  const unique: TagEvent[] = [];
  for (const item of items) {
    const key = `${item.generation}|${item.image}|${item.created}`;
    if (seen.has(key)) continue;
    seen.add(key);
    unique.push(item);
  }
  return unique.sort((a, b) =>
    (b.generation ?? 0) - (a.generation ?? 0) || time(b.created) - time(a.created) || a.image.localeCompare(b.image));
}

/** One row of a stream's tag table. */
export interface TagSummary {
  readonly tag: string;
  /** The current event (newest), undefined for a spec tag not imported yet. */
  readonly current: TagEvent | undefined;
  readonly history: TagEvent[];
  readonly spec: SpecTag | undefined;
  /** Where the current image came from (see eventSource), else what the spec tag says (see tagSource). */
  readonly source: string;
  /** A failing condition's message (e.g. a failed import), in words. */
  readonly problem: string | undefined;
}

/** Where a tag's images come from, in words. */
export function tagSource(spec: SpecTag | undefined): string {
  const from = spec?.from;
  if (!from) return 'pushed';
  switch (from.kind) {
    case 'DockerImage':
      return `imported from ${from.name}`;
    case 'ImageStreamTag':
    case 'ImageStreamImage':
      return `tagged from ${from.namespace ? `${from.namespace}/` : ''}${from.name}`;
    default:
      return 'pushed';
  }
}

/**
 * Where one history item came from, in words: "pushed", "imported from
 * registry/ns/name:tag", "tagged from project/stream:tag", "rolled back to
 * generation 3". Undefined when the server did not say.
 */
export function eventSource(item: TagEvent): string | undefined {
  const source = item.source;
  if (!source) return undefined;
  switch (source.kind) {
    case 'push':
      return 'pushed';
    case 'import':
      return source.ref ? `imported from ${source.ref}` : 'imported';
    case 'tag':
      return source.ref ? `tagged from ${source.ref}` : 'tagged from another tag';
    case 'rollback':
      return source.ref ? `rolled back to generation ${source.ref}` : 'rolled back';
    default:
      return undefined;
  }
}

/**
 * Every tag of a stream (status tags plus spec tags with no image yet),
 * most recently updated first; "latest" wins ties so it heads a fresh stream.
 */
export function summarizeTags(stream: ImageStream): TagSummary[] {
  const specs = new Map((stream.spec.tags ?? []).map((t) => [t.name, t]));
  const statuses = new Map<string, NamedTagEventList>((stream.status.tags ?? []).map((t) => [t.tag, t]));
  const names = new Set([...statuses.keys(), ...specs.keys()]);
  const rows: TagSummary[] = [...names].map((tag) => {
    const history = orderTagHistory(statuses.get(tag)?.items ?? []);
    const failing = statuses.get(tag)?.conditions?.find((c) => c.status === 'False' || c.status === 'Unknown');
    return {
      tag,
      current: history[0],
      history,
      spec: specs.get(tag),
      source: (history[0] ? eventSource(history[0]) : undefined) ?? tagSource(specs.get(tag)),
      problem: failing ? `${failing.reason ?? failing.type}: ${failing.message ?? 'no message'}` : undefined,
    };
  });
  return rows.sort((a, b) =>
    time(b.current?.created) - time(a.current?.created) || (a.tag === 'latest' ? -1 : b.tag === 'latest' ? 1 : a.tag.localeCompare(b.tag)));
}

/** The newest update of any tag of a stream (RFC 3339), or undefined. */
export function lastUpdated(stream: ImageStream): string | undefined {
  let best: string | undefined;
  for (const tag of stream.status.tags ?? []) {
    for (const item of tag.items) if (best === undefined || time(item.created) > time(best)) best = item.created;
  }
  return best;
}

/** One build step of an image: its history entry and, unless it made no layer, the layer it made. */
export interface BuildStep {
  readonly index: number;
  readonly entry: ImageHistoryEntry;
  /** Index into the image's layers, undefined for an empty-layer step (ENV, CMD, …). */
  readonly layerIndex: number | undefined;
  readonly layer: ImageLayer | undefined;
}

/**
 * Build steps oldest first (the order of the config's history, which is the
 * build order), each non-empty step matched to the next layer in manifest
 * order, as image-spec's config.history defines. When history and layers do
 * not line up (squashed or hand-made images), steps past the last layer get
 * none rather than a wrong one.
 */
export function buildSteps(history: readonly ImageHistoryEntry[], layers: readonly ImageLayer[]): BuildStep[] {
  let next = 0;
  return history.map((entry, index) => {
    if (entry.emptyLayer) return { index, entry, layerIndex: undefined, layer: undefined };
    const layerIndex = next < layers.length ? next : undefined;
    next++;
    return { index, entry, layerIndex, layer: layerIndex === undefined ? undefined : layers[layerIndex] };
  });
}

/** Each layer's share of the total size, in percent (for the layer bar); sums to 100 unless all are empty. */
export function layerShares(layers: readonly ImageLayer[]): { total: number; shares: number[] } {
  const total = layers.reduce((sum, l) => sum + Math.max(0, l.size || 0), 0);
  if (total === 0) return { total, shares: layers.map(() => 0) };
  return { total, shares: layers.map((l) => (Math.max(0, l.size || 0) / total) * 100) };
}
