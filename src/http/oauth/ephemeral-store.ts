import type { Clock } from '../../registry/clock.ts';

/**
 * A bounded map whose entries expire: the OAuth server's short-lived state
 * (pending logins, authorization codes, token displays). In memory, per
 * process: with several replicas, a browser login must stay on one node
 * (sticky sessions) until a shared store exists; the codes live 60 s and a
 * restart only makes users log in again.
 *
 * When full, the oldest entry goes first (Map keeps insertion order), so a
 * flood of abandoned logins cannot grow memory without bound.
 */
export class EphemeralStore<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();
  readonly #clock: Clock;
  readonly #maxEntries: number;

  /** @param options.maxEntries the bound; past it the oldest entries are dropped. */
  constructor(options: { clock: Clock; maxEntries: number }) {
    this.#clock = options.clock;
    this.#maxEntries = options.maxEntries;
  }

  /** Stores `value` under `key` until `ttlMs` from now. */
  set(key: string, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#sweep();
    while (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#clock() + ttlMs });
  }

  /** The live value under `key`, if any. */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.#clock()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Removes and returns the live value under `key`: at most one caller gets it (single use). */
  take(key: string): V | undefined {
    const value = this.get(key);
    this.#entries.delete(key);
    return value;
  }

  /** Forgets `key` (no-op when absent). */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  #sweep(): void {
    const now = this.#clock();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
  }
}
