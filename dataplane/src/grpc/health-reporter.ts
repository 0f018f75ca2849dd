import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { CACHE_SERVICE_NAME } from './proto.ts';

/** The names grpc.health.v1 answers for: the whole server ('') and the cache service. */
export const HEALTH_SERVICE_NAMES = ['', CACHE_SERVICE_NAME] as const;

/**
 * Keeps the standard grpc.health.v1 statuses in step with the data plane's own health: refreshed on
 * demand and on a timer, and NOT_SERVING for good once shutdown begins (so that load balancers and
 * Kubernetes gRPC probes stop sending traffic while in-flight calls finish).
 */
export class HealthReporter {
  readonly health: HealthImplementation;
  readonly #isHealthy: () => boolean;
  #timer: NodeJS.Timeout | undefined;
  #shuttingDown = false;

  constructor(isHealthy: () => boolean) {
    this.#isHealthy = isHealthy;
    this.health = new HealthImplementation();
    this.refresh();
  }

  /** Re-reads the data plane's health; a check that throws counts as unhealthy. */
  refresh(): ServingStatus {
    const status = this.#shuttingDown ? 'NOT_SERVING' : this.#currentStatus();
    for (const name of HEALTH_SERVICE_NAMES) this.health.setStatus(name, status);
    return status;
  }

  /** Refreshes every `intervalMs` until shutdown (the timer never keeps the process alive). */
  startRefreshing(intervalMs: number): void {
    this.stopRefreshing();
    this.#timer = setInterval(() => this.refresh(), intervalMs);
    this.#timer.unref();
  }

  stopRefreshing(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** NOT_SERVING from now on, whatever the data plane's health says. */
  markShuttingDown(): void {
    this.#shuttingDown = true;
    this.stopRefreshing();
    this.refresh();
  }

  #currentStatus(): ServingStatus {
    try {
      return this.#isHealthy() ? 'SERVING' : 'NOT_SERVING';
    } catch {
      return 'NOT_SERVING';
    }
  }
}
