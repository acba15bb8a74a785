import type { Clock } from '../registry/clock.ts';
import { systemClock } from '../registry/clock.ts';

export interface LoginRateLimiterOptions {
  /** Failures allowed per user and per address within the window before further attempts are refused. */
  readonly maxFailures?: number;
  readonly windowMs?: number;
  readonly clock?: Clock;
}

interface Window {
  startedAt: number;
  failures: number;
}

/**
 * Counts failed logins per user name and per client address in a fixed
 * window; past the limit every attempt for that user or from that address is
 * refused until the window ends, right password or not, so guessing costs
 * time. Per process: replicas each count their own (noted for HA).
 */
export class LoginRateLimiter {
  readonly #max: number;
  readonly #windowMs: number;
  readonly #clock: Clock;
  readonly #windows = new Map<string, Window>();

  constructor(options: LoginRateLimiterOptions = {}) {
    this.#max = options.maxFailures ?? 10;
    this.#windowMs = options.windowMs ?? 5 * 60_000;
    this.#clock = options.clock ?? systemClock;
  }

  /** True when attempts for this user or from this address are currently refused. */
  isLimited(user: string, address: string): boolean {
    return this.#over(`u:${user}`) || this.#over(`a:${address}`);
  }

  recordFailure(user: string, address: string): void {
    this.#bump(`u:${user}`);
    this.#bump(`a:${address}`);
  }

  /** Seconds until attempts for this user and address are accepted again. */
  retryAfterSeconds(user: string, address: string): number {
    const now = this.#clock();
    const ends = [`u:${user}`, `a:${address}`]
      .map((key) => this.#windows.get(key))
      .filter((w): w is Window => w !== undefined && w.failures >= this.#max)
      .map((w) => w.startedAt + this.#windowMs - now);
    return Math.max(1, Math.ceil(Math.max(0, ...ends) / 1000));
  }

  #current(key: string): Window | undefined {
    const window = this.#windows.get(key);
    if (window === undefined) return undefined;
    if (this.#clock() - window.startedAt >= this.#windowMs) {
      this.#windows.delete(key);
      return undefined;
    }
    return window;
  }

  #over(key: string): boolean {
    return (this.#current(key)?.failures ?? 0) >= this.#max;
  }

  #bump(key: string): void {
    const window = this.#current(key);
    if (window === undefined) {
      if (this.#windows.size > 100_000) this.#windows.clear();
      this.#windows.set(key, { startedAt: this.#clock(), failures: 1 });
    } else {
      window.failures++;
    }
  }
}
