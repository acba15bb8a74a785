/**
 * `berth adm prune imagestreams`: prune image stream tag history the way
 * `oc adm prune images --keep-tag-revisions=N --keep-younger-than=D` does
 * (metadata only: manifests and blobs stay). Like oc, a dry run unless
 * `--confirm`; the server decides what goes (docs/api.md, "Pruning history").
 */
import { Option } from 'commander';
import type { Command } from 'commander';
import { z } from 'zod';
import { apiPath } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { checkStreamName } from './image-refs.ts';
import { objectMetadataSchema, tagEventSchema } from './imagestream-resources.ts';
import { formatJson, formatTable, formatYaml, outputOption } from './output.ts';
import type { Column, OutputFormat } from './output.ts';
import { parseDuration } from './serviceaccount-commands.ts';
import { commandGroup, namespaceOption, note, print, projectOf, withSession } from './session.ts';

/** oc's defaults: keep three revisions per tag, and anything recorded in the last hour. */
export const DEFAULT_KEEP_TAG_REVISIONS = 3;
export const DEFAULT_KEEP_YOUNGER_THAN = '60m';

const prunedItemSchema = tagEventSchema.extend({ stream: z.string(), tag: z.string() });
type PrunedItem = z.infer<typeof prunedItemSchema>;

export const imageStreamPruneSchema = z.looseObject({
  kind: z.literal('ImageStreamPrune'),
  metadata: objectMetadataSchema.partial({ name: true }).nullish(),
  spec: z.looseObject({ keepTagRevisions: z.number(), keepYoungerThanSeconds: z.number(), dryRun: z.boolean() }),
  status: z.looseObject({ imageStreams: z.number(), pruned: z.array(prunedItemSchema) }),
});
export type ImageStreamPrune = z.infer<typeof imageStreamPruneSchema>;

export const PRUNED_COLUMNS: readonly Column<PrunedItem>[] = [
  { header: 'stream', value: (i) => i.stream },
  { header: 'tag', value: (i) => i.tag },
  { header: 'generation', value: (i) => (i.generation === undefined || i.generation === null ? '' : String(i.generation)) },
  { header: 'image', value: (i) => i.image },
  { header: 'created', value: (i) => i.created ?? '' },
  { header: 'image reference', value: (i) => i.dockerImageReference ?? '', wide: true },
  { header: 'source', value: (i) => (i.source === undefined || i.source === null ? '' : i.source.ref === undefined || i.source.ref === null ? i.source.kind : `${i.source.kind} ${i.source.ref}`), wide: true },
];

/**
 * `--keep-younger-than`: a duration as `--duration` takes it (`90s`, `60m`,
 * `1h30m`, `7d`), or `0` for any age.
 *
 * @throws CliError('usage')
 */
export function parseKeepYoungerThan(text: string): number {
  if (/^\s*0+([smhd]?)\s*$/.test(text)) return 0;
  return parseDuration(text);
}

/** `--keep-tag-revisions`: a whole number, at least 1. @throws CliError('usage') */
export function parseKeepTagRevisions(text: string): number {
  const n = /^\s*\d{1,7}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 1)) throw new CliError('usage', `invalid --keep-tag-revisions "${text}": a whole number, at least 1 (a tag's newest item always stays)`);
  return n;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The summary line: what went (or would go), from how many tags and streams. */
export function pruneSummary(result: ImageStreamPrune): string {
  const items = result.status.pruned;
  const streams = new Set(items.map((i) => i.stream)).size;
  const tags = new Set(items.map((i) => `${i.stream}:${i.tag}`)).size;
  const what = `${plural(items.length, 'history item', 'history items')} of ${plural(tags, 'tag', 'tags')} in ${plural(streams, 'image stream', 'image streams')}`;
  const looked = `(${plural(result.status.imageStreams, 'image stream', 'image streams')} examined)`;
  return result.spec.dryRun ? `Would remove ${what} ${looked}.` : `Removed ${what} ${looked}.`;
}

interface PruneFlags {
  readonly namespace?: string;
  readonly output?: OutputFormat;
  readonly keepTagRevisions: string;
  readonly keepYoungerThan: string;
  readonly confirm?: boolean;
}

export function registerPruneCommands(program: Command): void {
  const adm = commandGroup(program, 'adm', 'administer the registry');
  const prune = commandGroup(adm, 'prune', 'remove data that is no longer needed');
  prune
    .command('imagestreams')
    .aliases(['imagestream', 'is'])
    .description(
      "prune image stream tag history (as oc adm prune images --keep-tag-revisions): of each tag all but its newest revisions and its current image, of deleted tags all; metadata only, manifests and blobs stay. A dry run unless --confirm; needs registry-admin of the project",
    )
    .argument('[name]', 'only this image stream (default: every stream of the project)')
    .addOption(namespaceOption())
    .addOption(new Option('--keep-tag-revisions <n>', 'history items to keep per tag, newest first').default(String(DEFAULT_KEEP_TAG_REVISIONS)))
    .addOption(new Option('--keep-younger-than <duration>', 'keep items recorded less than this long ago (e.g. 90s, 60m, 24h, 7d; 0 for any age)').default(DEFAULT_KEEP_YOUNGER_THAN))
    .option('--confirm', 'remove the history items (without it, only show what would be removed)')
    .addOption(outputOption())
    .action(async (name: string | undefined, flags: PruneFlags) => {
      if (name !== undefined) checkStreamName(name);
      const keepTagRevisions = parseKeepTagRevisions(flags.keepTagRevisions);
      const keepYoungerThanSeconds = parseKeepYoungerThan(flags.keepYoungerThan);
      const dryRun = flags.confirm !== true;
      await withSession(async ({ api, entry }) => {
        const project = projectOf(flags.namespace, entry);
        const path = name === undefined ? apiPath('namespaces', project, 'imagestreamprunes') : apiPath('namespaces', project, 'imagestreams', name, 'prune');
        if (dryRun) note('Dry run enabled - no modifications will be made. Add --confirm to remove history items.');
        const result = await api.json('POST', path, imageStreamPruneSchema, {
          body: { apiVersion: 'berth.dev/v1', kind: 'ImageStreamPrune', spec: { keepTagRevisions, keepYoungerThanSeconds, dryRun } },
        });
        if (flags.output === 'json') return print(formatJson(result));
        if (flags.output === 'yaml') return print(formatYaml(result));
        if (result.status.pruned.length > 0) print(formatTable(PRUNED_COLUMNS, result.status.pruned, flags.output === 'wide'));
        print(pruneSummary(result));
      });
    });
}
