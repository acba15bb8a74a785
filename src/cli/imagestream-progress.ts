/**
 * `berth import-image` progress: the server's NDJSON import events
 * (docs/api.md, POST …/import with `Accept: application/x-ndjson`) read as
 * they arrive, and shown on stderr while the import runs: how many tags were
 * found, then the manifests fetched. On a terminal one line is rewritten in
 * place; otherwise (a pipe, a log) plain lines, at most about a dozen.
 */
import { z } from 'zod';
import { errorFromResponse } from './api-client.ts';
import { CliError } from './cli-errors.ts';
import { imageStreamSchema } from './imagestream-resources.ts';
import type { ImageStream } from './imagestream-resources.ts';

const progressSchema = z.union([
  z.looseObject({ type: z.literal('progress'), phase: z.literal('tags'), found: z.number() }),
  z.looseObject({ type: z.literal('progress'), phase: z.literal('manifest'), done: z.number(), total: z.number(), tag: z.string() }),
]);
export type ImportProgressEvent = z.infer<typeof progressSchema>;

const eventSchema = z.union([
  progressSchema,
  z.looseObject({ type: z.literal('result'), object: imageStreamSchema }),
  z.looseObject({ type: z.literal('error'), object: z.looseObject({ kind: z.literal('Status'), code: z.number().optional() }) }),
]);

/** Where progress goes: process.stderr, or a test's collector. */
export interface ProgressOutput {
  write(text: string): unknown;
  /** True on a terminal: the line is rewritten in place. */
  readonly isTTY?: boolean | undefined;
}

/** Manifest lines a non-terminal gets at most (besides the last one): about one per tenth of the work. */
const PLAIN_STEPS = 10;

export class ImportProgressView {
  readonly #out: ProgressOutput;
  /** A rewritten terminal line is showing (it needs a newline before anything else is written). */
  #open = false;
  #lastStep = -1;

  constructor(out: ProgressOutput) {
    this.#out = out;
  }

  update(event: ImportProgressEvent): void {
    if (event.phase === 'tags') {
      this.#line(`Importing: ${event.found} ${event.found === 1 ? 'tag' : 'tags'} found`, true);
      return;
    }
    const text = `Importing: ${event.done}/${event.total} ${event.total === 1 ? 'manifest' : 'manifests'} fetched (${event.tag})`;
    if (this.#out.isTTY === true) {
      this.#line(text, event.done === event.total);
      return;
    }
    const step = Math.floor((event.done * PLAIN_STEPS) / Math.max(1, event.total));
    if (event.total <= 2 * PLAIN_STEPS || event.done === event.total || step !== this.#lastStep) {
      this.#lastStep = step;
      this.#line(text, true);
    }
  }

  /** Ends a line left open on a terminal. */
  finish(): void {
    if (this.#open) this.#out.write('\n');
    this.#open = false;
  }

  #line(text: string, final: boolean): void {
    if (this.#out.isTTY === true) {
      this.#out.write(`\r\x1b[K${text}${final ? '\n' : ''}`);
      this.#open = !final;
    } else {
      this.#out.write(`${text}\n`);
    }
  }
}

/**
 * Handles one line of the import answer: progress to `view`, the result
 * returned. A server that does not stream answers the ImageStream itself:
 * that is the result too.
 *
 * @throws ApiError for an `error` line (the import failed after the answer began), CliError('protocol') for anything else unexpected.
 */
export function importEvent(value: unknown, view: ImportProgressView, where: { method: string; url: string }): ImageStream | undefined {
  const parsed = eventSchema.safeParse(value);
  if (parsed.success) {
    const event = parsed.data;
    if (event.type === 'progress') {
      view.update(event);
      return undefined;
    }
    if (event.type === 'result') return event.object;
    view.finish();
    throw errorFromResponse(where.method, where.url, event.object.code ?? 500, JSON.stringify(event.object));
  }
  const plain = imageStreamSchema.safeParse(value);
  if (plain.success && plain.data.kind === 'ImageStream') return plain.data;
  throw new CliError('protocol', `${where.method} ${new URL(where.url).pathname}: unexpected line in the import answer`);
}
