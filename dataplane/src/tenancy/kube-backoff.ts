// How long the Kubernetes source waits before it re-lists after an error.

export interface BackoffOptions {
  readonly initialMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 500, maxMs: 30_000 };

/**
 * The pause before retry `failures` (0 for the first): doubling from `initialMs` up to `maxMs`,
 * less up to 20 % at random so that replicas cut off together do not come back together.
 */
export function backoffDelay(
  failures: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  const base = Math.min(options.initialMs * 2 ** Math.max(0, failures), options.maxMs);
  return Math.round(base * (1 - 0.2 * random()));
}
