import { CacheError, ErrorCode } from '../errors.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CircuitOpenError, type CircuitBreaker } from '../resilience/circuit-breaker.ts';
import type { RemoteStore } from './remote-store.ts';

/** Reply errors that mean the server cannot serve right now, rather than that the command was wrong. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|LOADING|TRYAGAIN|MASTERDOWN|BUSY|READONLY)\b/;

/**
 * Whether an error from Redis says that Redis is unreachable or cannot serve (and so counts against
 * the circuit breaker), as opposed to a reply to a bad command (NOPERM, WRONGTYPE…), which proves
 * Redis is up.
 */
export function isAvailabilityFailure(error: unknown): boolean {
  if (!(error instanceof Error)) return true;
  if (error.name !== 'ReplyError') return true;
  return UNAVAILABLE_REPLY.test(error.message);
}

/** A Redis call that failed because Redis is unreachable (or the breaker is open). */
export function isUnavailable(error: unknown): error is CacheError {
  return (
    error instanceof CacheError &&
    (error.code === ErrorCode.CircuitOpen || error.code === ErrorCode.RedisUnavailable)
  );
}

/**
 * Every call to Redis goes through here: through the circuit breaker, timed, and with failures
 * turned into CacheErrors (CIRCUIT_OPEN, REDIS_UNAVAILABLE, or INTERNAL for unexpected replies).
 */
export class GuardedRemote {
  readonly store: RemoteStore;
  readonly breaker: CircuitBreaker;
  readonly #metrics: Metrics;

  constructor(store: RemoteStore, breaker: CircuitBreaker, metrics: Metrics) {
    this.store = store;
    this.breaker = breaker;
    this.#metrics = metrics;
  }

  async call<T>(command: string, operation: (store: RemoteStore) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await this.breaker.execute(() => operation(this.store));
      this.#metrics.redisOperation(command, (performance.now() - started) / 1000, false);
      return result;
    } catch (error) {
      if (error instanceof CircuitOpenError) {
        throw new CacheError(ErrorCode.CircuitOpen, 'Redis is unreachable (circuit breaker open)', {
          cause: error,
        });
      }
      this.#metrics.redisOperation(command, (performance.now() - started) / 1000, true);
      if (isAvailabilityFailure(error)) {
        throw new CacheError(
          ErrorCode.RedisUnavailable,
          `Redis is unreachable: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      throw new CacheError(ErrorCode.Internal, 'unexpected reply from Redis', { cause: error });
    }
  }

  /** True while calls reach Redis: the breaker is closed and the connection is ready. */
  isHealthy(): boolean {
    return this.breaker.state() === 'closed' && this.store.isConnected();
  }
}
