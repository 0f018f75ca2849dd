/** A rate limit: `burst` tokens at most, refilled at `opsPerSecond`. */
export interface RateLimit {
  opsPerSecond: number;
  burst: number;
}

/** Monotonic milliseconds. */
export type Clock = () => number;

export type TakeResult = { granted: true } | { granted: false; retryAfterMs: number };

/**
 * A token bucket: full at first, refilled continuously up to its burst. A take of `cost` tokens is
 * granted whole or not at all, so over any window of `w` ms at most `burst + opsPerSecond * w / 1000`
 * tokens are granted.
 */
export class TokenBucket {
  readonly #now: Clock;
  #limit: RateLimit;
  #tokens: number;
  #at: number;

  constructor(limit: RateLimit, now: Clock) {
    this.#now = now;
    this.#limit = limit;
    this.#tokens = limit.burst;
    this.#at = now();
  }

  get limit(): RateLimit {
    return this.#limit;
  }

  /** The tokens available now. */
  level(): number {
    this.#refill();
    return this.#tokens;
  }

  /** Takes `cost` tokens, or says how long until that many are there (infinite above the burst). */
  take(cost: number): TakeResult {
    this.#refill();
    if (cost <= this.#tokens) {
      this.#tokens -= cost;
      return { granted: true };
    }
    if (cost > this.#limit.burst) return { granted: false, retryAfterMs: Infinity };
    return { granted: false, retryAfterMs: ((cost - this.#tokens) * 1000) / this.#limit.opsPerSecond };
  }

  /** A new limit from now on: what was refilled at the old rate is kept, clamped to the new burst. */
  reconfigure(limit: RateLimit): void {
    this.#refill();
    this.#limit = limit;
    this.#tokens = Math.min(this.#tokens, limit.burst);
  }

  #refill(): void {
    const now = this.#now();
    // A clock that steps back refills nothing (and the bucket does not go into debt).
    if (now <= this.#at) return;
    const refilled = ((now - this.#at) * this.#limit.opsPerSecond) / 1000;
    this.#tokens = Math.min(this.#limit.burst, this.#tokens + refilled);
    this.#at = now;
  }
}
