/**
 * Image streams and images: `get imagestreams|is`, `get istag`, `get images`,
 * `describe is|istag|image`, `tag` (also across projects, and `--rollback`),
 * `import-image`, `delete is|istag` (docs/api.md, "Image streams").
 */
import type { Command } from 'commander';
import { apiPath } from './api-client.ts';
import type { BerthApi } from './api-client.ts';
import { ApiError, CliError } from './cli-errors.ts';
import {
  describeImage,
  describeImageStream,
  describeImageStreamTag,
  imageColumns,
  imageStreamColumns,
  imageStreamTagColumns,
  importFailure,
  importSummary,
  tagColumns,
  tagRows,
} from './image-format.ts';
import type { ImageRow } from './image-format.ts';
import { importEvent, ImportProgressView } from './imagestream-progress.ts';
import { checkDigest, checkStreamName, formatImageRef, parseImageRef, splitStreamTag } from './image-refs.ts';
import type { ImageRef } from './image-refs.ts';
import { imageSchema, imageStreamSchema, imageStreamTagSchema, tagEventSchema } from './imagestream-resources.ts';
import type { Image, ImageStream, ImageStreamTag, TagEvent } from './imagestream-resources.ts';
import { formatJson, formatList, formatObject, formatYaml, outputOption } from './output.ts';
import type { OutputFormat } from './output.ts';
import { anyBody } from './resources.ts';
import { commandGroup, namespaceOption, note, print, projectOf, withSession } from './session.ts';

interface Flags {
  readonly namespace?: string;
  readonly output?: OutputFormat;
}

export function streamPath(project: string, name?: string, ...rest: string[]): string {
  return name === undefined ? apiPath('namespaces', project, 'imagestreams') : apiPath('namespaces', project, 'imagestreams', name, ...rest);
}

export function streamTagPath(project: string, name: string, tag: string): string {
  return apiPath('namespaces', project, 'imagestreamtags', `${name}:${tag}`);
}

/** `items` mapped with at most `limit` calls of `fn` in flight, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next;
      next += 1;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** One object as JSON/YAML; for a table format, `text`. */
function objectOr(format: OutputFormat | undefined, value: unknown, text: () => string): string {
  if (format === 'json') return formatJson(value);
  if (format === 'yaml') return formatYaml(value);
  return text();
}

/** The images a project's streams record, with the `stream:tag`s each is current under. */
export function imagesOfStreams(streams: readonly ImageStream[]): Map<string, string[]> {
  const images = new Map<string, string[]>();
  for (const s of streams) {
    for (const t of s.status?.tags ?? []) {
      (t.items ?? []).forEach((item, i) => {
        const tags = images.get(item.image) ?? [];
        if (i === 0) tags.push(`${s.metadata.name}:${t.tag}`);
        images.set(item.image, tags);
      });
    }
  }
  return images;
}

async function fullHistory(api: BerthApi, project: string, stream: ImageStream): Promise<Map<string, TagEvent[]>> {
  const history = new Map<string, TagEvent[]>();
  for (const t of stream.status?.tags ?? []) {
    const list = await api.list(streamPath(project, stream.metadata.name, 'history', t.tag), tagEventSchema);
    history.set(t.tag, list.items);
  }
  return history;
}

/** The generation of the newest history item of `name:tag` whose image is `digest`. */
async function generationOfDigest(api: BerthApi, project: string, name: string, tag: string, digest: string): Promise<number> {
  const list = await api.list(streamPath(project, name, 'history', tag), tagEventSchema);
  const item = list.items.find((i) => i.image === digest);
  if (item === undefined) throw new CliError('usage', `${name}:${tag} has never pointed at ${digest}: see \`berth describe is ${name}\``);
  if (item.generation === undefined || item.generation === null) throw new CliError('protocol', `the history of ${name}:${tag} has no generation for ${digest}`);
  return item.generation;
}

export function registerImageStreamCommands(program: Command): void {
  const get = commandGroup(program, 'get', 'list or show resources');
  get
    .command('imagestreams')
    .aliases(['imagestream', 'is'])
    .description("list a project's image streams, or show one")
    .argument('[name]', 'the image stream')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: Flags) => {
      if (name !== undefined) checkStreamName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        if (name !== undefined) {
          print(formatObject(flags.output, imageStreamColumns(), await api.json('GET', streamPath(project, name), imageStreamSchema)));
          return;
        }
        const list = await api.list(streamPath(project), imageStreamSchema);
        const text = formatList(flags.output, 'ImageStreamList', imageStreamColumns(), list.items);
        if (text === '') note(`No image streams found in project ${project}.`);
        print(text);
      });
    });

  get
    .command('imagestreamtags')
    .aliases(['imagestreamtag', 'istag', 'istags'])
    .description("list the tags of a project's image streams (or of one stream), or show NAME:TAG")
    .argument('[name]', 'NAME:TAG, or a stream NAME for its tags')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (arg: string | undefined, flags: Flags) => {
      const ref = arg === undefined ? undefined : splitStreamTag(arg, false);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        if (ref?.tag !== undefined) {
          print(formatObject(flags.output, imageStreamTagColumns(), await api.json('GET', streamTagPath(project, ref.name, ref.tag), imageStreamTagSchema)));
          return;
        }
        const streams = ref === undefined ? (await api.list(streamPath(project), imageStreamSchema)).items : [await api.json('GET', streamPath(project, ref.name), imageStreamSchema)];
        const rows = tagRows(streams);
        if (flags.output === 'json' || flags.output === 'yaml') {
          // The objects themselves: one GET each (tags without an image have none).
          const tags = await mapLimit(rows.filter((r) => r.current !== undefined), 8, async (r) => {
            try {
              return await api.json('GET', streamTagPath(project, r.stream, r.tag), imageStreamTagSchema);
            } catch (error) {
              if (isNotFound(error)) return undefined;
              throw error;
            }
          });
          print(formatList(flags.output, 'ImageStreamTagList', [], tags.filter((t): t is ImageStreamTag => t !== undefined)));
          return;
        }
        const text = formatList(flags.output, 'ImageStreamTagList', tagColumns(), rows);
        if (text === '') note(ref === undefined ? `No image stream tags found in project ${project}.` : `Image stream ${ref.name} has no tags.`);
        print(text);
      });
    });

  get
    .command('images')
    .aliases(['image'])
    .description("list the images of a project's image streams, or show one by digest")
    .argument('[digest]', 'sha256:…')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (digest: string | undefined, flags: Flags) => {
      if (digest !== undefined) checkDigest(digest);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const streams = (await api.list(streamPath(project), imageStreamSchema)).items;
        const tagsOf = imagesOfStreams(streams);
        if (digest !== undefined) {
          const image = await api.json('GET', apiPath('namespaces', project, 'images', digest), imageSchema);
          print(objectOr(flags.output, image, () => formatObject(flags.output, imageColumns(), { image, tags: tagsOf.get(digest) ?? [] })));
          return;
        }
        const fetched = await mapLimit([...tagsOf.keys()], 8, async (d) => {
          try {
            return await api.json('GET', apiPath('namespaces', project, 'images', d), imageSchema);
          } catch (error) {
            // Pruned since the stream was read.
            if (isNotFound(error)) return undefined;
            throw error;
          }
        });
        const images = fetched.filter((i): i is Image => i !== undefined);
        if (flags.output === 'json' || flags.output === 'yaml') {
          print(formatList(flags.output, 'ImageList', [], images));
          return;
        }
        const rows: ImageRow[] = images.map((image) => ({ image, tags: tagsOf.get(image.metadata.name) ?? [] }));
        const text = formatList(flags.output, 'ImageList', imageColumns(), rows);
        if (text === '') note(`No images found in project ${project}.`);
        print(text);
      });
    });

  const describe = commandGroup(program, 'describe', 'show the details of a resource');
  describe
    .command('imagestream')
    .aliases(['imagestreams', 'is'])
    .description("show an image stream: its tags, each tag's history (where each image came from) and conditions")
    .argument('<name>', 'the image stream')
    .option('--all-history', 'show every history item, not only the newest 10 per tag')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string, flags: Flags & { allHistory?: boolean }) => {
      checkStreamName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const stream = await api.json('GET', streamPath(project, name), imageStreamSchema);
        const history = flags.allHistory === true ? await fullHistory(api, project, stream) : undefined;
        print(objectOr(flags.output, stream, () => describeImageStream(stream, Date.now(), history)));
      });
    });
  describe
    .command('imagestreamtag')
    .aliases(['imagestreamtags', 'istag'])
    .description('show a tag and its image: details, config, build history and layers')
    .argument('<name:tag>', 'NAME:TAG')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (arg: string, flags: Flags) => {
      const ref = splitStreamTag(arg, true);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const istag = await api.json('GET', streamTagPath(project, ref.name, ref.tag), imageStreamTagSchema);
        print(objectOr(flags.output, istag, () => describeImageStreamTag(istag)));
      });
    });
  describe
    .command('image')
    .aliases(['images'])
    .description('show an image of the project by digest: details, config, build history and layers')
    .argument('<digest>', 'sha256:…')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (digest: string, flags: Flags) => {
      checkDigest(digest);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const image = await api.json('GET', apiPath('namespaces', project, 'images', digest), imageSchema);
        print(objectOr(flags.output, image, () => describeImage(image)));
      });
    });

  program
    .command('tag')
    .description(
      'point tags at an existing image (no blobs are copied): SOURCE and DEST are [PROJECT/]NAME:TAG (SOURCE also [PROJECT/]NAME@DIGEST); ' +
        'or move a tag back to an earlier image with --rollback NAME:TAG --to-generation N',
    )
    .argument('<source>', 'the image to tag, or with --rollback the tag to move back')
    .argument('[destinations...]', 'the tags to set')
    .option('--rollback', 'roll the tag SOURCE back to an earlier image of its history')
    .option('--to-generation <n>', 'with --rollback: the history item (generation) to go back to')
    .option('--to-digest <digest>', 'with --rollback: the image to go back to (its newest history item)')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (sourceArg: string, destinations: string[], flags: Flags & { rollback?: boolean; toGeneration?: string; toDigest?: string }) => {
      if (flags.rollback === true) {
        await rollback(sourceArg, destinations, flags);
        return;
      }
      if (flags.toGeneration !== undefined || flags.toDigest !== undefined) throw new CliError('usage', '--to-generation and --to-digest go with --rollback');
      if (destinations.length === 0) throw new CliError('usage', 'name at least one destination: berth tag SOURCE DEST:TAG');
      const source = parseImageRef(sourceArg, true);
      const targets = destinations.map((d) => parseImageRef(d, false));
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const from = {
          kind: source.digest === undefined ? 'ImageStreamTag' : 'ImageStreamImage',
          name: source.digest === undefined ? `${source.name}:${source.tag ?? 'latest'}` : `${source.name}@${source.digest}`,
          namespace: source.project ?? project,
        };
        const results: ImageStreamTag[] = [];
        for (const target of targets) {
          const targetProject = target.project ?? project;
          const body = { apiVersion: 'berth.dev/v1', kind: 'ImageStreamTag', tag: { from } };
          const answer = await api.json('PUT', streamTagPath(targetProject, target.name, target.tag ?? 'latest'), imageStreamTagSchema, { body });
          results.push(answer);
          if (flags.output === undefined || flags.output === 'wide') {
            print(`Tag ${targetLabel(target, project)} set to ${formatImageRef({ ...source, project: source.project ?? project })} (${answer.image.metadata.name}).`);
          }
        }
        if (flags.output === 'json' || flags.output === 'yaml') print(results.length === 1 ? objectOr(flags.output, results[0], () => '') : formatList(flags.output, 'ImageStreamTagList', [], results));
      });
    });

  program
    .command('import-image')
    .description("import tags and image metadata from another registry into an image stream (blobs stay remote until pulled)")
    .argument('<name>', 'the image stream')
    .option('--from <ref>', 'the image to import: registry/namespace/name[:tag] (default: what the stream spec says)')
    .option('--all', 'import every tag of the repository, not only the one named')
    .option('--confirm', 'create the image stream if it does not exist')
    .option('--scheduled', 'keep importing it on the server schedule')
    .option('--insecure', 'allow plain HTTP and unverified TLS to the other registry')
    .addOption(namespaceOption())
    .addOption(outputOption())
    .action(async (name: string, flags: Flags & { from?: string; all?: boolean; confirm?: boolean; scheduled?: boolean; insecure?: boolean }) => {
      if (name.includes(':') || name.includes('@')) throw new CliError('usage', `give the image stream NAME only ("${name}"): name the remote tag with --from REGISTRY/REPOSITORY:TAG`);
      checkStreamName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const body = {
          ...(flags.from === undefined ? {} : { from: flags.from }),
          ...(flags.all === true ? { all: true } : {}),
          ...(flags.confirm === true ? { confirm: true } : {}),
          ...(flags.scheduled === true ? { scheduled: true } : {}),
          ...(flags.insecure === true ? { insecure: true } : {}),
        };
        note(`Importing ${flags.from ?? 'the repository in the spec'} into ${project}/${name}${flags.all === true ? ' (all tags)' : ''}...`);
        // Progress as the server reports it (tags found, manifests fetched), then the stream.
        const path = streamPath(project, name, 'import');
        const view = new ImportProgressView(process.stderr);
        let stream: ImageStream | undefined;
        try {
          await api.ndjson('POST', path, (value) => {
            stream = importEvent(value, view, { method: 'POST', url: `${api.server}${path}` }) ?? stream;
          }, { body });
        } finally {
          view.finish();
        }
        if (stream === undefined) throw new CliError('protocol', `POST ${path}: the import answer ended without its result`);
        if (flags.output === 'json' || flags.output === 'yaml') print(objectOr(flags.output, stream, () => ''));
        else print(importSummary(stream));
        const failure = importFailure(stream);
        if (failure !== undefined) throw new CliError('api', failure);
      });
    });

  const remove = commandGroup(program, 'delete', 'delete a resource');
  remove
    .command('imagestream')
    .aliases(['imagestreams', 'is'])
    .description('delete an image stream: its tags (from /v2 too) and its whole history; manifests stay until pruned')
    .argument('<name>', 'the image stream')
    .addOption(namespaceOption())
    .action(async (name: string, flags: Flags) => {
      checkStreamName(name);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await api.json('DELETE', streamPath(project, name), anyBody);
        print(`imagestream "${name}" deleted from project "${project}"`);
      });
    });
  remove
    .command('imagestreamtag')
    .aliases(['imagestreamtags', 'istag'])
    .description('delete a tag from its image stream (and from /v2); its history is kept')
    .argument('<name:tag>', 'NAME:TAG')
    .addOption(namespaceOption())
    .action(async (arg: string, flags: Flags) => {
      const ref = splitStreamTag(arg, true);
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        await api.json('DELETE', streamTagPath(project, ref.name, ref.tag), anyBody);
        print(`imagestreamtag "${ref.name}:${ref.tag}" deleted from project "${project}"`);
      });
    });
}

function targetLabel(target: ImageRef, project: string): string {
  return target.project === undefined || target.project === project ? `${target.name}:${target.tag ?? 'latest'}` : formatImageRef(target);
}

/** A generation argument: a positive integer. */
export function parseGeneration(text: string): number {
  if (!/^\d{1,15}$/.test(text) || Number(text) < 1) throw new CliError('usage', `invalid generation "${text}": use a positive whole number (see \`berth describe is NAME\`)`);
  return Number(text);
}

async function rollback(arg: string, rest: string[], flags: Flags & { toGeneration?: string; toDigest?: string }): Promise<void> {
  if (rest.length > 0) throw new CliError('usage', `--rollback takes one NAME:TAG, not also ${rest.join(' ')}`);
  const ref = splitStreamTag(arg, true);
  if ((flags.toGeneration === undefined) === (flags.toDigest === undefined)) throw new CliError('usage', '--rollback needs --to-generation N or --to-digest DIGEST (one of them)');
  const generationArg = flags.toGeneration === undefined ? undefined : parseGeneration(flags.toGeneration);
  const digest = flags.toDigest === undefined ? undefined : checkDigest(flags.toDigest);
  await withSession(async ({ api, entry }) => {
    const project = projectOf(flags.namespace, entry);
    const generation = generationArg ?? (await generationOfDigest(api, project, ref.name, ref.tag, digest ?? ''));
    const answer = await api.json('POST', streamPath(project, ref.name, 'rollback'), imageStreamTagSchema, { body: { tag: ref.tag, generation } });
    print(objectOr(flags.output, answer, () => `Tag ${ref.name}:${ref.tag} rolled back to generation ${generation} (${answer.image.metadata.name}); it is now generation ${answer.generation ?? '?'}.`));
  });
}
