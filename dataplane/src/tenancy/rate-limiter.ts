import { CacheError, ErrorCode } from '../errors.ts';
import { TokenBucket, type Clock, type RateLimit } from './token-bucket.ts';

/**
 * The `rateLimit` of every namespace that has one, enforced per data-plane replica: one token bucket
 * per namespace, kept across changes of the limit (its level clamped to the new burst).
 */
export class NamespaceRateLimiter {
  readonly #now: Clock;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(now: Clock) {
    this.#now = now;
  }

  /** Sets, changes or (null) removes the namespace's limit. */
  configure(namespace: string, limit: RateLimit | null): void {
    const bucket = this.#buckets.get(namespace);
    if (limit === null) this.#buckets.delete(namespace);
    else if (bucket === undefined) this.#buckets.set(namespace, new TokenBucket(limit, this.#now));
    else bucket.reconfigure(limit);
  }

  /**
   * Takes `cost` tokens (one per key) of the namespace's bucket, if it has one. Throws RATE_LIMITED
   * (with the whole seconds until enough tokens are back, at least 1) when they are not there, and
   * BATCH_TOO_LARGE for a call that costs more than the burst: waiting would never let it through.
   */
  admit(namespace: string, cost: number): void {
    const bucket = this.#buckets.get(namespace);
    if (bucket === undefined) return;
    const taken = bucket.take(cost);
    if (taken.granted) return;
    const { opsPerSecond, burst } = bucket.limit;
    if (taken.retryAfterMs === Infinity) {
      throw new CacheError(
        ErrorCode.BatchTooLarge,
        `a batch of ${cost} keys exceeds the rate limit of namespace "${namespace}", which allows at most ${burst} keys at once (the CacheNamespace's rateLimit.burst): split it`,
      );
    }
    const retryAfterSeconds = Math.max(1, Math.ceil(taken.retryAfterMs / 1000));
    throw new CacheError(
      ErrorCode.RateLimited,
      `namespace "${namespace}" is over its rate limit of ${opsPerSecond} keys per second (burst ${burst}) on this replica: retry in ${retryAfterSeconds}s`,
      { retryAfterSeconds },
    );
  }
}
