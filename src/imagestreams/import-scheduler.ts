/**
 * Scheduled import: every process runs one ImportScheduler; each polls the
 * image_streams table for streams whose next import is due, leases them
 * (claimDueImports: one conditional UPDATE, so two processes never hold one
 * stream), re-imports what their spec schedules, and ends the lease with the
 * next check time (finishImport). The schedule lives in the table, so it
 * survives restarts: a check that fell due while every process was down is
 * claimed by the first poll after start.
 */

import { randomUUID } from 'node:crypto';
import type { Metadata } from '../metadata/stores.ts';
import type { Clock } from '../registry/clock.ts';
import { DEFAULT_IMPORT_INTERVAL_MS } from './image-importer.ts';
import type { ScheduledImporter } from './image-importer.ts';

/** Where the scheduler reports; pino's logger fits. */
export interface ImportSchedulerLogger {
  info(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface ImportSchedulerOptions {
  readonly metadata: Metadata;
  readonly importer: ScheduledImporter;
  /** Between two checks of one stream (config `imports.intervalMinutes`). Default 15 minutes. */
  readonly intervalMs?: number | undefined;
  /** This process's lease owner id. Default a random UUID. */
  readonly owner?: string | undefined;
  /**
   * How long a claimed stream stays this process's. Must outlast one import
   * (a lease that expires mid-import lets another process start the same
   * stream). Default 10 minutes.
   */
  readonly leaseMs?: number | undefined;
  /** Between two polls. Default min(intervalMs, 30 s). */
  readonly pollMs?: number | undefined;
  /** Streams claimed per poll. Default 10. */
  readonly batchSize?: number | undefined;
  readonly clock: Clock;
  readonly logger?: ImportSchedulerLogger | undefined;
}

const DEFAULT_LEASE_MS = 10 * 60_000;
const MAX_POLL_MS = 30_000;

/** Runs scheduled imports in the background until stopped. */
export class ImportScheduler {
  readonly #metadata: Metadata;
  readonly #importer: ScheduledImporter;
  readonly #intervalMs: number;
  readonly #leaseMs: number;
  readonly #pollMs: number;
  readonly #batchSize: number;
  readonly #clock: Clock;
  readonly #logger: ImportSchedulerLogger | undefined;
  /** The lease owner id of this process. */
  readonly owner: string;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = true;
  /** wake() was called during a poll: poll again as soon as it ends. */
  #wakeAgain = false;

  constructor(options: ImportSchedulerOptions) {
    this.#metadata = options.metadata;
    this.#importer = options.importer;
    this.#intervalMs = options.intervalMs ?? DEFAULT_IMPORT_INTERVAL_MS;
    this.owner = options.owner ?? randomUUID();
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#pollMs = options.pollMs ?? Math.min(this.#intervalMs, MAX_POLL_MS);
    this.#batchSize = options.batchSize ?? 10;
    this.#clock = options.clock;
    this.#logger = options.logger;
  }

  /** Polls now and then every pollMs. Idempotent. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#schedule(0);
  }

  /**
   * Polls soon rather than at the next tick: a stream was just made due on
   * this process (created or changed through the API). A poll in progress is
   * followed by another at once. Other processes find it on their own polls.
   */
  wake(): void {
    if (this.#stopped) return;
    if (this.#running !== undefined) {
      this.#wakeAgain = true;
      return;
    }
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(0);
  }

  /** Stops polling and waits for the import in progress, if any; its lease is finished normally. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /**
   * One poll: claims due streams (batch after batch while there are any) and
   * imports them one after the other. Returns how many were imported.
   * Exposed for tests and for an admin "import now".
   */
  async pollOnce(): Promise<number> {
    let count = 0;
    for (;;) {
      const claimed = await this.#metadata.imageStreams.claimDueImports(this.owner, this.#clock(), this.#leaseMs, this.#batchSize);
      for (const stream of claimed) {
        let next: number | null = this.#clock() + this.#intervalMs;
        let conditions = stream.conditions;
        let importedGeneration: number | undefined;
        try {
          const outcome = await this.#importer.importScheduled(stream);
          conditions = outcome.conditions;
          importedGeneration = outcome.importedGeneration;
          if (!outcome.scheduled) next = null;
          count += 1;
          this.#logger?.info(
            {
              project: stream.project,
              stream: stream.name,
              tags: outcome.result.tagsFound,
              changed: outcome.result.imported.filter((t) => t.changed).length,
              failed: outcome.result.failed.length,
            },
            'scheduled import',
          );
        } catch (error) {
          // Not a remote failure (those are conditions): the database or a bug. Try again next interval.
          this.#logger?.error({ project: stream.project, stream: stream.name, err: error }, 'scheduled import failed');
        }
        // False when our lease expired and another process took the stream: its finish is the one that counts.
        // A spec change since the import began keeps the stream due (finishImport compares generations).
        await this.#metadata.imageStreams.finishImport(stream.project, stream.name, this.owner, next, conditions, importedGeneration);
        if (this.#stopped) return count;
      }
      if (claimed.length < this.#batchSize || this.#stopped) return count;
    }
  }

  #schedule(delayMs: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#wakeAgain = false;
      this.#running = this.pollOnce()
        .then(() => undefined)
        .catch((error: unknown) => this.#logger?.error({ err: error }, 'scheduled import poll failed'))
        .finally(() => {
          this.#running = undefined;
          if (!this.#stopped) this.#schedule(this.#wakeAgain ? 0 : this.#pollMs);
        });
    }, delayMs);
    // A poll timer alone must not keep the process alive.
    this.#timer.unref();
  }
}
