/** The state of a circuit breaker (SEED-DESIGN "Circuit Breaker Interface"). */
export type CircuitState = 'closed' | 'open' | 'half-open';

/**
 * Wraps calls to a dependency so that, once it keeps failing, calls fail fast without touching it
 * until a probe shows it is back.
 */
export interface CircuitBreaker {
  /** Runs `operation` unless the circuit is open; rejects with CircuitOpenError when it is. */
  execute<T>(operation: () => Promise<T>): Promise<T>;
  state(): CircuitState;
  /** Closes the circuit and forgets recorded failures. */
  reset(): void;
  /** Called on every state change; returns a function that removes the listener. */
  onStateChange(listener: (state: CircuitState) => void): () => void;
  shutdown(): void;
}

export interface CircuitBreakerConfig {
  /** Consecutive failed calls that open the circuit. */
  maxFailures: number;
  /** How long the circuit stays open before a probe is let through. */
  openTimeoutMs: number;
  /** Calls let through while half-open. */
  halfOpenMaxRequests: number;
}

/** Thrown, without calling the dependency, while the circuit is open. */
export class CircuitOpenError extends Error {
  constructor() {
    super('circuit breaker is open: calls fail fast until a probe succeeds');
    this.name = 'CircuitOpenError';
  }
}
