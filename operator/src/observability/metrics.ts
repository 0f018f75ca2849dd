// The operator's Prometheus metrics (names are a public interface; operator/README.md lists them).
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ControllerMetrics } from '../controller/controller.ts';
import type { Outcome } from '../controller/work-queue.ts';

const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export class OperatorMetrics implements ControllerMetrics {
  readonly registry = new Registry();
  readonly #reconciles = new Counter({
    name: 'cacheplane_operator_reconcile_total',
    help: 'Reconcile passes by result: done, requeue (retried after a delay or backoff), error (threw; retried with backoff).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });
  readonly #duration = new Histogram({
    name: 'cacheplane_operator_reconcile_duration_seconds',
    help: 'Time one reconcile pass took.',
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  readonly #depth = new Gauge({
    name: 'cacheplane_operator_queue_depth',
    help: 'Keys waiting for a worker.',
    registers: [this.registry],
  });
  readonly #leader = new Gauge({
    name: 'cacheplane_operator_leader',
    help: '1 while this replica holds the leader Lease (and runs workers), 0 otherwise.',
    registers: [this.registry],
  });
  readonly #informerErrors = new Counter({
    name: 'cacheplane_operator_informer_errors_total',
    help: 'Times an informer stopped on an error and was restarted, by informer.',
    labelNames: ['informer'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    this.#leader.set(0);
    this.#depth.set(0);
    for (const result of ['done', 'requeue', 'error'] as const) this.#reconciles.inc({ result }, 0);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  reconciled(outcome: Outcome, seconds: number): void {
    this.#reconciles.inc({ result: outcome });
    this.#duration.observe(seconds);
  }

  queueDepth(depth: number): void {
    this.#depth.set(depth);
  }

  leader(leading: boolean): void {
    this.#leader.set(leading ? 1 : 0);
  }

  informerError(informer: string): void {
    this.#informerErrors.inc({ informer });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
