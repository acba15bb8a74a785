/**
 * How commands print what they list or show: aligned columns like `oc get`
 * by default, `-o wide` with more columns, `-o json` / `-o yaml` with the
 * objects exactly as the server sent them.
 */
import { Option } from 'commander';
import { stringify } from 'yaml';

export const OUTPUT_FORMATS = ['json', 'yaml', 'wide'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o, --output json|yaml|wide`, validated by commander. */
export function outputOption(): Option {
  return new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS);
}

/** One column: its header and how a row shows it; `wide` columns appear only with -o wide. */
export interface Column<T> {
  readonly header: string;
  readonly value: (item: T) => string;
  readonly wide?: boolean;
}

/**
 * Rows under upper-case headers, columns separated by three spaces (as
 * kubectl's tabwriter does), no trailing spaces. Cells are one line: a
 * newline in a server value would break the alignment, so it is shown as a space.
 */
export function formatTable<T>(columns: readonly Column<T>[], items: readonly T[], wide = false): string {
  const shown = columns.filter((c) => wide || c.wide !== true);
  const rows = [shown.map((c) => c.header.toUpperCase()), ...items.map((item) => shown.map((c) => c.value(item).replace(/[\r\n\t]+/g, ' ')))];
  const widths = shown.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd())
    .join('\n') + '\n';
}

export function formatJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

export function formatYaml(value: unknown): string {
  return stringify(value);
}

/** A list printed as one Kubernetes-style List object. */
export function listObject<T>(kind: string, items: readonly T[]): { apiVersion: string; kind: string; metadata: Record<string, never>; items: readonly T[] } {
  return { apiVersion: 'berth.dev/v1', kind, metadata: {}, items };
}

/**
 * The text for a list: table (or wide table), or the List as JSON/YAML. An
 * empty table is the empty string: the caller says "No resources found" on
 * stderr, as kubectl does, so that scripts reading stdout see nothing.
 */
export function formatList<T>(format: OutputFormat | undefined, kind: string, columns: readonly Column<T>[], items: readonly T[]): string {
  if (format === 'json') return formatJson(listObject(kind, items));
  if (format === 'yaml') return formatYaml(listObject(kind, items));
  if (items.length === 0) return '';
  return formatTable(columns, items, format === 'wide');
}

/** One object: JSON/YAML, or a one-row table. */
export function formatObject<T>(format: OutputFormat | undefined, columns: readonly Column<T>[], item: T): string {
  if (format === 'json') return formatJson(item);
  if (format === 'yaml') return formatYaml(item);
  return formatTable(columns, [item], format === 'wide');
}

/**
 * kubectl's age: `45s`, `12m`, `5h`, `3d`, `2y`, relative to `now`;
 * `<unknown>` for a missing or unparsable timestamp.
 */
export function formatAge(timestamp: string | null | undefined, now: number = Date.now()): string {
  if (timestamp === undefined || timestamp === null) return '<unknown>';
  const then = Date.parse(timestamp);
  if (Number.isNaN(then)) return '<unknown>';
  const seconds = Math.max(0, Math.floor((now - then) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  const days = Math.floor(hours / 24);
  if (days < 730) return `${days}d`;
  return `${Math.floor(days / 365)}y`;
}

/** A list of names for a table cell; `<none>` when empty, as oc prints it. */
export function joinNames(names: readonly string[] | null | undefined): string {
  return names === undefined || names === null || names.length === 0 ? '<none>' : names.join(',');
}
