/**
 * How the image-stream commands print: the table columns of `get is`, `get
 * istag`, `get images` and `get secrets`, the `describe is` / `describe
 * istag` text (the console's Details, Config and Layers tabs), and the
 * summary of an import. Pure functions of the server's objects and `now`.
 */
import { shortDigest } from './image-refs.ts';
import type { Condition, Image, ImageStream, ImageStreamTag, ImportResult, Secret, SpecTag, TagEvent } from './imagestream-resources.ts';
import { formatAge, joinNames } from './output.ts';
import type { Column } from './output.ts';

/** Bytes for people, in decimal units as docker and oc print them: `512B`, `4.61kB`, `12.3MB`. */
export function humanSize(bytes: number | null | undefined): string {
  if (bytes === undefined || bytes === null || !Number.isFinite(bytes)) return '';
  const units = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  if (unit === 0) return `${bytes}B`;
  return `${Number(value.toPrecision(3))}${units[unit]}`;
}

/** `2026-01-02T03:04:05Z (5m ago)`; empty for none. */
export function whenText(timestamp: string | null | undefined, now: number): string {
  if (timestamp === undefined || timestamp === null || timestamp === '') return '';
  const age = formatAge(timestamp, now);
  return age === '<unknown>' ? timestamp : `${timestamp} (${age} ago)`;
}

/** Where a history item came from: pushed, imported from REF, tagged from REF, rolled back to generation N. */
export function sourceText(event: TagEvent): string {
  const kind = event.source?.kind;
  const ref = event.source?.ref ?? undefined;
  switch (kind) {
    case undefined:
      return '';
    case 'push':
      return 'pushed';
    case 'import':
      return ref === undefined ? 'imported' : `imported from ${ref}`;
    case 'tag':
      return ref === undefined ? 'tagged' : `tagged from ${ref}`;
    case 'rollback':
      return ref === undefined ? 'rolled back' : `rolled back to generation ${ref}`;
    default:
      return ref === undefined ? kind : `${kind} ${ref}`;
  }
}

/** The newest history item of each tag, newest tag first (oc's TAGS column order). */
function tagsByUpdate(stream: ImageStream): { tag: string; latest: TagEvent | undefined }[] {
  const tags = (stream.status?.tags ?? []).map((t) => ({ tag: t.tag, latest: t.items?.[0] }));
  const time = (e: TagEvent | undefined): number => (e?.created === undefined || e.created === null ? 0 : Date.parse(e.created) || 0);
  return tags.filter((t) => t.latest !== undefined).sort((a, b) => time(b.latest) - time(a.latest) || (a.tag < b.tag ? -1 : 1));
}

const MAX_TAGS_SHOWN = 4;

/** Tag names, most recently updated first, at most four then `+ N more...` as oc shows them. */
export function tagList(stream: ImageStream): string {
  const names = tagsByUpdate(stream).map((t) => t.tag);
  if (names.length === 0) return '';
  if (names.length <= MAX_TAGS_SHOWN) return names.join(',');
  return `${names.slice(0, MAX_TAGS_SHOWN).join(',')} + ${names.length - MAX_TAGS_SHOWN} more...`;
}

function lastUpdated(stream: ImageStream): string | undefined {
  return tagsByUpdate(stream)[0]?.latest?.created ?? undefined;
}

export function imageStreamColumns(now: number = Date.now()): Column<ImageStream>[] {
  return [
    { header: 'name', value: (s) => s.metadata.name },
    { header: 'image repository', value: (s) => s.status?.dockerImageRepository ?? '' },
    { header: 'tags', value: (s) => tagList(s) },
    { header: 'updated', value: (s) => (lastUpdated(s) === undefined ? '' : `${formatAge(lastUpdated(s), now)} ago`) },
    { header: 'import from', value: (s) => s.spec?.dockerImageRepository ?? '', wide: true },
    { header: 'age', value: (s) => formatAge(s.metadata.creationTimestamp, now), wide: true },
  ];
}

/** One row of `get istag`: a tag of a stream with its current history item. */
export interface TagRow {
  readonly stream: string;
  readonly tag: string;
  readonly current: TagEvent | undefined;
  readonly historyLength: number;
}

/** The tags of streams as rows (tags without an image, whose import failed, included with an empty reference). */
export function tagRows(streams: readonly ImageStream[]): TagRow[] {
  return streams.flatMap((s) =>
    (s.status?.tags ?? []).map((t) => ({ stream: s.metadata.name, tag: t.tag, current: t.items?.[0], historyLength: t.items?.length ?? 0 })),
  );
}

export function tagColumns(now: number = Date.now()): Column<TagRow>[] {
  return [
    { header: 'name', value: (r) => `${r.stream}:${r.tag}` },
    { header: 'image reference', value: (r) => r.current?.dockerImageReference ?? '' },
    { header: 'updated', value: (r) => (r.current?.created === undefined || r.current.created === null ? '' : `${formatAge(r.current.created, now)} ago`) },
    { header: 'generation', value: (r) => (r.current?.generation === undefined || r.current.generation === null ? '' : String(r.current.generation)), wide: true },
    { header: 'source', value: (r) => (r.current === undefined ? '' : sourceText(r.current)), wide: true },
  ];
}

/** The columns of one ImageStreamTag object (`get istag NAME:TAG`). */
export function imageStreamTagColumns(now: number = Date.now()): Column<ImageStreamTag>[] {
  return [
    { header: 'name', value: (t) => t.metadata.name },
    { header: 'image reference', value: (t) => t.image.dockerImageReference ?? '' },
    { header: 'updated', value: (t) => `${formatAge(t.metadata.creationTimestamp, now)} ago` },
    { header: 'generation', value: (t) => (t.generation === undefined || t.generation === null ? '' : String(t.generation)), wide: true },
    { header: 'image', value: (t) => t.image.metadata.name, wide: true },
  ];
}

function platformOf(image: Image): string {
  const m = image.dockerImageMetadata;
  if (m?.Os !== undefined && m.Os !== null) return [m.Os, m.Architecture, m.Variant].filter((p) => p !== undefined && p !== null && p !== '').join('/');
  const children = image.dockerImageManifests ?? [];
  if (children.length > 0) return children.map((c) => [c.os, c.architecture, c.variant].filter((p) => p !== undefined && p !== null && p !== '').join('/') || 'unknown').join(',');
  return '';
}

/** An image in `get images`, with the stream tags it is (or was) under. */
export interface ImageRow {
  readonly image: Image;
  readonly tags: readonly string[];
}

export function imageColumns(now: number = Date.now()): Column<ImageRow>[] {
  return [
    { header: 'name', value: (r) => r.image.metadata.name },
    { header: 'tags', value: (r) => joinNames(r.tags) },
    { header: 'size', value: (r) => humanSize(imageSize(r.image)) },
    { header: 'platform', value: (r) => platformOf(r.image) },
    { header: 'created', value: (r) => (r.image.dockerImageMetadata?.Created === undefined || r.image.dockerImageMetadata.Created === null ? '' : `${formatAge(r.image.dockerImageMetadata.Created, now)} ago`) },
    { header: 'author', value: (r) => r.image.dockerImageMetadata?.Author ?? '', wide: true },
    { header: 'media type', value: (r) => r.image.dockerImageManifestMediaType ?? '', wide: true },
    { header: 'image reference', value: (r) => r.image.dockerImageReference ?? '', wide: true },
  ];
}

export function secretColumns(now: number = Date.now()): Column<Secret>[] {
  return [
    { header: 'name', value: (s) => s.metadata.name },
    { header: 'type', value: (s) => s.type ?? '' },
    { header: 'registries', value: (s) => joinNames(s.registries) },
    { header: 'age', value: (s) => formatAge(s.metadata.creationTimestamp, now) },
  ];
}

/** The size of an image: the server's Size (config plus layers), else the sum of its layers. */
export function imageSize(image: Image): number | undefined {
  const size = image.dockerImageMetadata?.Size;
  if (typeof size === 'number') return size;
  const layers = image.dockerImageLayers ?? [];
  return layers.length === 0 ? undefined : layers.reduce((sum, l) => sum + l.size, 0);
}

// ---- describe ------------------------------------------------------------

const LABEL_WIDTH = 20;

/** `Label:` padded, then the value; nothing for an empty value unless `always`. */
class Lines {
  readonly #lines: string[] = [];
  field(label: string, value: string | null | undefined, indent = ''): void {
    this.#lines.push(`${indent}${`${label}:`.padEnd(LABEL_WIDTH - indent.length)}${value === undefined || value === null || value === '' ? '<none>' : value}`);
  }
  /** A field whose values are on lines of their own under the first. */
  multi(label: string, values: readonly string[], indent = ''): void {
    if (values.length === 0) {
      this.field(label, '<none>', indent);
      return;
    }
    values.forEach((v, i) => this.#lines.push(i === 0 ? `${indent}${`${label}:`.padEnd(LABEL_WIDTH - indent.length)}${v}` : `${' '.repeat(LABEL_WIDTH)}${v}`));
  }
  line(text = ''): void {
    this.#lines.push(text);
  }
  toString(): string {
    return `${this.#lines.join('\n').replace(/[ \t]+$/gm, '')}\n`;
  }
}

function keyValues(map: Record<string, string> | null | undefined): string[] {
  return Object.entries(map ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${k}=${v}`);
}

function conditionText(c: Condition, now: number): string {
  const reason = c.reason === undefined || c.reason === null ? '' : ` ${c.reason}`;
  const message = c.message === undefined || c.message === null || c.message === '' ? '' : `: ${c.message}`;
  const when = c.lastTransitionTime === undefined || c.lastTransitionTime === null ? '' : ` (${formatAge(c.lastTransitionTime, now)} ago)`;
  return `${c.type}=${c.status}${reason}${message}${when}`;
}

function specTagText(t: SpecTag): string {
  const parts: string[] = [];
  if (t.from !== undefined && t.from !== null) {
    const ns = t.from.namespace === undefined || t.from.namespace === null ? '' : `${t.from.namespace}/`;
    parts.push(t.from.kind === 'DockerImage' ? `tracks ${t.from.name}` : `tracks ${ns}${t.from.name} (${t.from.kind})`);
  }
  if (t.importPolicy?.scheduled === true) parts.push('scheduled import');
  if (t.importPolicy?.insecure === true) parts.push('insecure');
  if (t.referencePolicy?.type !== undefined && t.referencePolicy.type !== null && t.referencePolicy.type !== 'Source') parts.push(`reference policy ${t.referencePolicy.type}`);
  return parts.join(', ');
}

/**
 * `describe is`: the stream, then each tag with what its spec says, its
 * history (newest first, `*` on the current item) and its conditions.
 *
 * @param history full histories by tag (from the history route) to show instead of the newest items in the status.
 */
export function describeImageStream(stream: ImageStream, now: number = Date.now(), history?: ReadonlyMap<string, readonly TagEvent[]>): string {
  const out = new Lines();
  const md = stream.metadata;
  out.field('Name', md.name);
  out.field('Namespace', md.namespace);
  out.field('Created', whenText(md.creationTimestamp, now));
  out.multi('Annotations', keyValues(md.annotations));
  out.field('Image Repository', stream.status?.dockerImageRepository);
  if (stream.spec?.dockerImageRepository !== undefined && stream.spec.dockerImageRepository !== null) out.field('Import From', stream.spec.dockerImageRepository);
  const check = md.annotations?.['image.berth.dev/dockerRepositoryCheck'];
  if (check !== undefined) out.field('Last Import Check', whenText(check, now));
  out.field('Generation', md.generation === undefined || md.generation === null ? undefined : String(md.generation));
  const statusTags = stream.status?.tags ?? [];
  const specTags = stream.spec?.tags ?? [];
  const names = [...new Set([...statusTags.map((t) => t.tag), ...specTags.map((t) => t.name)])].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  out.field('Tags', String(names.length));
  for (const c of stream.status?.conditions ?? []) out.field('Condition', conditionText(c, now));
  for (const name of names) {
    out.line();
    out.line(name);
    const spec = specTags.find((t) => t.name === name);
    if (spec !== undefined) {
      const text = specTagText(spec);
      if (text !== '') out.line(`  ${text}`);
    }
    const status = statusTags.find((t) => t.tag === name);
    const items = history?.get(name) ?? status?.items ?? [];
    if (items.length === 0) out.line('  no image');
    items.forEach((item, i) => {
      out.line(`  ${i === 0 ? '*' : ' '} ${item.dockerImageReference ?? item.image}`);
      const details = [
        item.generation === undefined || item.generation === null ? undefined : `generation ${item.generation}`,
        item.created === undefined || item.created === null ? undefined : `${formatAge(item.created, now)} ago (${item.created})`,
        sourceText(item) || undefined,
      ].filter((d) => d !== undefined);
      out.line(`      ${details.join(', ')}`);
      if (item.dockerImageReference !== undefined && item.dockerImageReference !== null && !item.dockerImageReference.endsWith(item.image)) out.line(`      ${item.image}`);
    });
    if (history === undefined && items.length >= 10) out.line(`  (newest ${items.length} shown; \`berth describe is ${md.name} --all-history\` shows all)`);
    for (const c of status?.conditions ?? []) out.line(`  ! ${conditionText(c, now)}`);
  }
  return out.toString();
}

function listText(values: readonly string[] | null | undefined): string {
  return values === undefined || values === null || values.length === 0 ? '' : values.map((v) => (/\s/.test(v) || v === '' ? JSON.stringify(v) : v)).join(' ');
}

/**
 * An Image in the three parts of the console's tabs: Details (author,
 * built-on, digest, image ID, labels, annotations, docker version,
 * platform, per-platform manifests), Config (entrypoint, cmd, env, ports,
 * working dir, user, build history) and Layers (each layer's size and the total).
 */
export function describeImage(image: Image, now: number = Date.now(), out: Lines = new Lines()): string {
  const m = image.dockerImageMetadata ?? undefined;
  const config = m?.Config ?? undefined;
  out.field('Image Digest', image.metadata.name);
  out.field('Image Reference', image.dockerImageReference);
  out.field('Media Type', image.dockerImageManifestMediaType);
  if (image.dockerImageConfigDigest !== undefined && image.dockerImageConfigDigest !== null) out.field('Image ID', image.dockerImageConfigDigest);
  out.field('First Recorded', whenText(image.metadata.creationTimestamp, now));
  if (m !== undefined) {
    out.field('Author', m.Author);
    out.field('Built', whenText(m.Created, now));
    out.field('Docker Version', m.DockerVersion);
    out.field('Platform', platformOf(image));
  }
  const layers = image.dockerImageLayers ?? [];
  const size = imageSize(image);
  // DockerImageMetadata.Size counts the config too (as OpenShift's does); the Layers total below does not.
  if (size !== undefined) out.field('Image Size', `${humanSize(size)} (${size} bytes): config and ${layers.length} layer${layers.length === 1 ? '' : 's'}`);
  out.multi('Labels', keyValues(config?.Labels));
  out.multi('Annotations', keyValues(image.annotations));
  const manifests = image.dockerImageManifests ?? [];
  if (manifests.length > 0) {
    out.line();
    out.line('Manifests:');
    for (const c of manifests) {
      const platform = [c.os, c.architecture, c.variant].filter((p) => p !== undefined && p !== null && p !== '').join('/') || 'unknown';
      out.line(`  ${platform.padEnd(16)} ${c.digest}   ${c.mediaType ?? ''}${c.manifestSize === undefined || c.manifestSize === null ? '' : `   ${c.manifestSize} bytes`}`);
    }
  }
  if (m !== undefined) {
    out.line();
    out.line('Config:');
    out.field('Entrypoint', listText(config?.Entrypoint), '  ');
    out.field('Command', listText(config?.Cmd), '  ');
    out.field('Working Dir', config?.WorkingDir, '  ');
    out.field('User', config?.User, '  ');
    out.multi('Exposed Ports', Object.keys(config?.ExposedPorts ?? {}).sort(), '  ');
    out.multi('Environment', config?.Env ?? [], '  ');
    const history = image.dockerImageHistory ?? [];
    out.line();
    out.line('History:');
    if (history.length === 0) out.line('  <none>');
    for (const h of history) {
      const when = h.created === undefined || h.created === null ? '' : `${h.created}  `;
      const what = h.createdBy ?? h.comment ?? '';
      out.line(`  ${when}${what}${h.emptyLayer === true ? '  (empty layer)' : ''}`);
    }
  }
  out.line();
  out.line('Layers:');
  if (layers.length === 0) out.line('  <none>');
  const sizeWidth = Math.max(0, ...layers.map((l) => `${humanSize(l.size)} (${l.size} bytes)`.length));
  for (const l of layers) out.line(`  ${`${humanSize(l.size)} (${l.size} bytes)`.padEnd(sizeWidth)}   ${l.name}   ${l.mediaType ?? ''}`);
  if (layers.length > 0) {
    const total = layers.reduce((sum, l) => sum + l.size, 0);
    out.line(`  Total: ${humanSize(total)} (${total} bytes) in ${layers.length} layer${layers.length === 1 ? '' : 's'}`);
  }
  return out.toString();
}

/** `describe istag`: the tag (its generation, spec, conditions), then its image. */
export function describeImageStreamTag(istag: ImageStreamTag, now: number = Date.now()): string {
  const out = new Lines();
  out.field('Name', istag.metadata.name);
  out.field('Namespace', istag.metadata.namespace);
  out.field('Tagged', whenText(istag.metadata.creationTimestamp, now));
  out.field('Generation', istag.generation === undefined || istag.generation === null ? undefined : String(istag.generation));
  if (istag.tag !== undefined && istag.tag !== null) {
    const text = specTagText(istag.tag);
    if (text !== '') out.field('Spec', text);
  }
  for (const c of istag.conditions ?? []) out.field('Condition', conditionText(c, now));
  return describeImage(istag.image, now, out);
}

/** The result of `import-image`: how many tags were found and what was fetched or failed. */
export function importSummary(stream: ImageStream): string {
  const result: ImportResult = stream.importResult ?? {};
  const imported = result.imported ?? [];
  const failed = result.failed ?? [];
  const lines = [
    `Tags found:        ${result.tagsFound ?? imported.length + failed.length}`,
    `Manifests fetched: ${imported.length} (${imported.filter((t) => t.changed === true).length} changed)`,
  ];
  if (failed.length > 0) lines.push(`Failed:            ${failed.length}`);
  const width = Math.max(0, ...imported.map((t) => t.tag.length), ...failed.map((t) => (t.tag ?? '').length));
  for (const t of imported) lines.push(`  ${t.tag.padEnd(width)}  ${t.image ?? ''}  ${t.changed === true ? 'updated' : 'unchanged'}`);
  for (const t of failed) lines.push(`  ${(t.tag ?? '').padEnd(width)}  failed: ${[t.reason, t.message].filter((x) => x !== undefined && x !== null && x !== '').join(': ')}`);
  for (const c of stream.status?.conditions ?? []) if (c.status === 'False') lines.push(`  ! ${conditionText(c, Date.now())}`);
  return `${lines.join('\n')}\n`;
}

/** Why everything failed, in one line, or undefined when something was imported (or nothing failed). */
export function importFailure(stream: ImageStream): string | undefined {
  const result = stream.importResult ?? {};
  const imported = result.imported ?? [];
  const failed = result.failed ?? [];
  const streamFailures = (stream.status?.conditions ?? []).filter((c) => c.status === 'False');
  if (imported.length > 0) return undefined;
  const first = failed[0];
  if (first !== undefined) {
    const what = [first.reason, first.message].filter((x) => x !== undefined && x !== null && x !== '').join(': ');
    return `import of "${stream.metadata.name}" failed${failed.length === 1 ? '' : ` for all ${failed.length} tags`}: ${first.tag === undefined || first.tag === null || first.tag === '' ? '' : `tag ${first.tag}: `}${what}`;
  }
  const condition = streamFailures[0];
  if (condition !== undefined) return `import of "${stream.metadata.name}" failed: ${[condition.reason, condition.message].filter((x) => x !== undefined && x !== null && x !== '').join(': ')}`;
  return undefined;
}
