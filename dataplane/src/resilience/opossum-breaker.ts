import OpossumCircuitBreaker from 'opossum';
import {
  CircuitOpenError,
  type CircuitBreaker,
  type CircuitBreakerConfig,
  type CircuitState,
} from './circuit-breaker.ts';

type Operation = () => Promise<unknown>;

/**
 * The CircuitBreaker interface over opossum. It opens after `maxFailures` consecutive failures (the
 * seed's rule, counted here; opossum's own failure-rate rule is switched off because it opens on a
 * share of a window's calls, before `maxFailures` failures when traffic is light). Half-open: opossum
 * lets exactly one probe through; the others fail fast until it settles; a failed probe re-opens the
 * circuit, a successful one closes it.
 */
export class OpossumBreaker implements CircuitBreaker {
  readonly #config: CircuitBreakerConfig;
  readonly #isFailure: (error: unknown) => boolean;
  readonly #listeners = new Set<(state: CircuitState) => void>();
  #breaker: OpossumCircuitBreaker<[Operation], unknown>;
  #consecutiveFailures = 0;

  /** @param isFailure which errors count against the dependency (default: all). */
  constructor(config: CircuitBreakerConfig, isFailure: (error: unknown) => boolean = () => true) {
    if (config.halfOpenMaxRequests !== 1) {
      throw new Error('halfOpenMaxRequests: opossum lets exactly one probe through while half-open; use 1');
    }
    this.#config = config;
    this.#isFailure = isFailure;
    this.#breaker = this.#create();
  }

  async execute<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return (await this.#breaker.fire(operation)) as T;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'EOPENBREAKER') throw new CircuitOpenError();
      throw error;
    }
  }

  state(): CircuitState {
    if (this.#breaker.opened) return 'open';
    if (this.#breaker.halfOpen) return 'half-open';
    return 'closed';
  }

  /** opossum cannot forget its rolling statistics, so a reset starts a fresh breaker. */
  reset(): void {
    const wasClosed = this.state() === 'closed';
    this.#breaker.shutdown();
    this.#consecutiveFailures = 0;
    this.#breaker = this.#create();
    if (!wasClosed) this.#emit('closed');
  }

  onStateChange(listener: (state: CircuitState) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  shutdown(): void {
    this.#breaker.shutdown();
    this.#listeners.clear();
  }

  #create(): OpossumCircuitBreaker<[Operation], unknown> {
    const breaker = new OpossumCircuitBreaker((operation: Operation) => operation(), {
      timeout: false,
      resetTimeout: this.#config.openTimeoutMs,
      errorThresholdPercentage: 100, // an error rate is never above 100%: the rule above decides
      enableSnapshots: false,
      errorFilter: (error: unknown) => !this.#isFailure(error),
    });
    breaker.on('failure', () => {
      this.#consecutiveFailures += 1;
      if (this.#consecutiveFailures >= this.#config.maxFailures && breaker.closed) breaker.open();
    });
    breaker.on('success', () => {
      this.#consecutiveFailures = 0;
    });
    breaker.on('open', () => this.#emit('open'));
    breaker.on('halfOpen', () => this.#emit('half-open'));
    breaker.on('close', () => {
      this.#consecutiveFailures = 0;
      this.#emit('closed');
    });
    return breaker;
  }

  #emit(state: CircuitState): void {
    for (const listener of this.#listeners) listener(state);
  }
}
