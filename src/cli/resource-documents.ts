/**
 * Resource documents for `berth create -f` and `berth apply -f`: a file (or
 * `-` for standard input) of JSON or YAML, holding one object, a
 * Kubernetes-style `…List` with `items`, a JSON array, or several YAML
 * documents separated by `---`. Every resulting object must say its `kind`.
 */
import { readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { CliError } from './cli-errors.ts';
import { readStdin } from './prompt.ts';

/** One object of a file, as written, with where it came from for messages. */
export interface ResourceDocument {
  readonly kind: string;
  readonly body: Record<string, unknown>;
  /** `FILE`, or `FILE (document 2)` / `FILE (item 3)` when the file holds several. */
  readonly origin: string;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The objects of one parsed value: Lists and arrays flattened (recursively), everything else as is. */
function flatten(value: unknown, origin: string, out: ResourceDocument[]): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => flatten(item, `${origin} (item ${i + 1})`, out));
    return;
  }
  if (!isObject(value)) throw new CliError('usage', `${origin}: not a resource object`);
  const kind = value['kind'];
  if (typeof kind !== 'string' || kind === '') throw new CliError('usage', `${origin}: the object has no "kind"`);
  if (kind.endsWith('List')) {
    const items = value['items'];
    if (!Array.isArray(items)) throw new CliError('usage', `${origin}: ${kind} has no "items" array`);
    items.forEach((item, i) => flatten(item, `${origin} (item ${i + 1})`, out));
    return;
  }
  out.push({ kind, body: value, origin });
}

/**
 * The resource objects of a file's text. JSON when the text starts with `{`
 * or `[` and parses as JSON, else YAML (a `.json` file must be JSON).
 *
 * @param source the file name, for messages.
 * @throws CliError('usage') for unparsable text, an object without kind, or no objects at all.
 */
export function parseResourceDocuments(text: string, source: string): ResourceDocument[] {
  const out: ResourceDocument[] = [];
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: unknown;
    let parsed = false;
    try {
      json = JSON.parse(text);
      parsed = true;
    } catch (error) {
      if (source.toLowerCase().endsWith('.json')) throw new CliError('usage', `${source}: invalid JSON: ${(error as Error).message}`);
    }
    if (parsed) {
      flatten(json, source, out);
      if (out.length === 0) throw new CliError('usage', `${source}: no resources found`);
      return out;
    }
  }
  const docs = parseAllDocuments(text);
  const list = Array.isArray(docs) ? docs : [docs];
  const several = list.length > 1;
  list.forEach((doc, i) => {
    const origin = several ? `${source} (document ${i + 1})` : source;
    const error = doc.errors[0];
    if (error !== undefined) {
      // The message says where ("… at line 4, column 1:") and then quotes the text on further lines: one line is enough.
      throw new CliError('usage', `${origin}: invalid YAML: ${(error.message.split('\n')[0] ?? '').replace(/:$/, '')}`);
    }
    flatten(doc.toJS({ maxAliasCount: 100 }), origin, out);
  });
  if (out.length === 0) throw new CliError('usage', `${source}: no resources found`);
  return out;
}

/**
 * The resource objects of `file` (`-` is standard input).
 *
 * @throws CliError('file') when it cannot be read, CliError('usage') as {@link parseResourceDocuments}.
 */
export async function readResourceDocuments(file: string): Promise<ResourceDocument[]> {
  let text: string;
  if (file === '-') {
    text = await readStdin();
  } else {
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new CliError('file', `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
  }
  return parseResourceDocuments(text, file === '-' ? 'standard input' : file);
}
