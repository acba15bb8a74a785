/**
 * A bounded cache with least-recently-used-like eviction (the CLOCK
 * algorithm), bounded by entry count and, optionally, by a weight (bytes).
 *
 * A hit only sets a flag: moving the entry in the Map (delete + set) on every
 * hit showed in profiles of the hot /v2 paths, which read several caches per
 * request. On eviction, entries hit since they were last looked at are given
 * a second chance (moved to the young end) instead of being dropped.
 */
export class LruCache<K, V> {
  readonly #entries = new Map<K, { value: V; weight: number; hit: boolean }>();
  readonly #maxEntries: number;
  readonly #maxWeight: number;
  #weight = 0;

  constructor(options: { maxEntries: number; maxWeight?: number }) {
    this.#maxEntries = options.maxEntries;
    this.#maxWeight = options.maxWeight ?? Number.POSITIVE_INFINITY;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    entry.hit = true;
    return entry.value;
  }

  set(key: K, value: V, weight = 0): void {
    if (weight > this.#maxWeight) return;
    this.delete(key);
    this.#entries.set(key, { value, weight, hit: false });
    this.#weight += weight;
    // Bounded: each pass either evicts or clears one hit flag, so at most 2n steps.
    while (this.#entries.size > this.#maxEntries || this.#weight > this.#maxWeight) {
      const oldest = this.#entries.entries().next();
      if (oldest.done) break;
      const [oldKey, entry] = oldest.value;
      this.#entries.delete(oldKey);
      // The entry being added is never its own victim; a hit entry gets its second chance.
      if (entry.hit || oldKey === key) {
        entry.hit = false;
        this.#entries.set(oldKey, entry);
      } else {
        this.#weight -= entry.weight;
      }
    }
  }

  delete(key: K): void {
    const entry = this.#entries.get(key);
    if (entry === undefined) return;
    this.#entries.delete(key);
    this.#weight -= entry.weight;
  }

  /** Deletes every entry whose key matches (used when a whole repository goes). */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.#entries.keys()]) if (predicate(key)) this.delete(key);
  }

  get size(): number {
    return this.#entries.size;
  }
}
