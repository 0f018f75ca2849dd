import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CacheSource } from '../cache/types.ts';
import type { CircuitState } from '../resilience/circuit-breaker.ts';
import { BufferedCounter } from './buffered-counter.ts';
import { LabelledHistogram } from './labelled-histogram.ts';

export type Operation = 'get' | 'set' | 'delete' | 'batch_get' | 'batch_set';
export type Transport = 'rest' | 'grpc';
export type ReplayOutcome = 'applied' | 'skipped_newer' | 'expired' | 'failed';
/** What happened to an invalidation event, on the publishing or the receiving side. */
export type InvalidationOutcome =
  | 'published'
  | 'publish_failed'
  | 'dropped'
  | 'received'
  | 'applied'
  | 'ignored_own'
  | 'invalid'
  | 'failed'
  | 'gap'
  | 'resync';

/** Everything the data plane counts. Metric names are a public interface: see docs/metrics.md. */
export interface Metrics {
  /** A finished request; `result` is `ok` or an error code. */
  request(
    transport: Transport,
    operation: Operation,
    namespace: string,
    result: string,
    seconds: number,
  ): void;
  hit(namespace: string, source: CacheSource, count?: number): void;
  miss(namespace: string, count?: number): void;
  localEviction(reason: string): void;
  /** Gauges read when metrics are scraped; later calls add to earlier ones. */
  trackGauges(sources: Partial<GaugeSources>): void;
  /**
   * A breaker went to `state`: counted as a transition; the gauge shows `shown` (default `state`;
   * with one breaker per namespace, the worst of them).
   */
  breakerState(state: CircuitState, shown?: CircuitState): void;
  replay(outcome: ReplayOutcome): void;
  redisOperation(command: string, seconds: number, failed: boolean): void;
  invalidation(outcome: InvalidationOutcome): void;
  /** Time from an event's timestamp (its publisher's clock) to its application here. */
  invalidationDelay(seconds: number): void;
  /** Prometheus text exposition, or undefined when metrics are disabled. */
  render(): Promise<{ contentType: string; body: string } | undefined>;
}

export interface GaugeSources {
  localEntries: () => number;
  localBytes: () => number;
  pendingWrites: () => number;
  /** 1 while the broker is connected, 0 otherwise (absent: no broker). */
  brokerUp?: () => number;
  invalidationQueue?: () => number;
  /** 1 while the namespace configuration watch is connected and current (absent: static mode). */
  namespaceConfigUp?: () => number;
}

const BREAKER_STATE_VALUE: Record<CircuitState, number> = { closed: 0, open: 1, 'half-open': 2 };
const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

/**
 * prom-client metrics on a registry of their own (one per data plane, so tests can run several).
 * The ones counted on every request have their label sets resolved once (BufferedCounter,
 * LabelledHistogram): prom-client's own cost ~2.5 µs per Redis GET.
 */
export class PrometheusMetrics implements Metrics {
  readonly registry = new Registry();
  #gaugeSources: Partial<GaugeSources> = {};
  readonly #requests = new BufferedCounter({
    name: 'cacheplane_requests_total',
    help: 'Cache requests by transport, operation, namespace and result (ok or an error code).',
    labelNames: ['transport', 'operation', 'namespace', 'result'] as const,
    registers: [this.registry],
  });
  readonly #duration = new LabelledHistogram({
    name: 'cacheplane_request_duration_seconds',
    help: 'Cache request latency, from the transport receiving the call to the response.',
    labelNames: ['transport', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly #hits = new BufferedCounter({
    name: 'cacheplane_cache_hits_total',
    help: 'Keys found, by namespace and source (redis or local).',
    labelNames: ['namespace', 'source'] as const,
    registers: [this.registry],
  });
  readonly #misses = new BufferedCounter({
    name: 'cacheplane_cache_misses_total',
    help: 'Keys not found, by namespace.',
    labelNames: ['namespace'] as const,
    registers: [this.registry],
  });
  readonly #evictions = new Counter({
    name: 'cacheplane_local_evictions_total',
    help: 'Entries the local cache dropped on its own, by reason (capacity or expired).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly #localEntries = new Gauge({
    name: 'cacheplane_local_entries',
    help: 'Entries held by the local cache.',
    registers: [this.registry],
  });
  readonly #localBytes = new Gauge({
    name: 'cacheplane_local_bytes',
    help: 'Bytes held by the local cache (values, keys and per-entry overhead).',
    registers: [this.registry],
  });
  readonly #breaker = new Gauge({
    name: 'cacheplane_redis_breaker_state',
    help: 'Circuit breaker around Redis: 0 closed, 1 open, 2 half-open.',
    registers: [this.registry],
  });
  readonly #breakerTransitions = new Counter({
    name: 'cacheplane_redis_breaker_transitions_total',
    help: 'Circuit breaker state changes, by the state entered.',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly #pending = new Gauge({
    name: 'cacheplane_degraded_pending_writes',
    help: 'Writes and deletes kept locally while Redis was unreachable, waiting to be replayed.',
    registers: [this.registry],
  });
  readonly #replays = new Counter({
    name: 'cacheplane_degraded_replays_total',
    help: 'Replayed degraded writes, by outcome (applied, skipped_newer, expired, failed).',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #redisDuration = new LabelledHistogram({
    name: 'cacheplane_redis_command_duration_seconds',
    help: 'Redis round trips as seen by the data plane, by command and outcome.',
    labelNames: ['command', 'outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly #invalidations = new Counter({
    name: 'cacheplane_invalidation_events_total',
    help: 'Invalidation events by outcome: published, publish_failed, dropped, received, applied, ignored_own, invalid, failed, gap, resync.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly #invalidationDelay = new Histogram({
    name: 'cacheplane_invalidation_delay_seconds',
    help: 'Delay from an invalidation event being published to it being applied on this replica.',
    buckets: [
      0.0005, 0.001, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
    ],
    registers: [this.registry],
  });
  readonly #brokerUp = new Gauge({
    name: 'cacheplane_broker_up',
    help: 'Whether the invalidation broker is connected (1) or not (0).',
    registers: [this.registry],
  });
  readonly #namespaceConfigUp = new Gauge({
    name: 'cacheplane_namespace_config_up',
    help: 'Whether the watch of the namespace configuration is connected and current (1) or not (0).',
    registers: [this.registry],
  });
  readonly #invalidationQueue = new Gauge({
    name: 'cacheplane_invalidation_queue',
    help: 'Invalidation events waiting to be published.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics ?? true)
      collectDefaultMetrics({ register: this.registry, prefix: 'cacheplane_' });
    this.#breaker.set(0);
  }

  request(
    transport: Transport,
    operation: Operation,
    namespace: string,
    result: string,
    seconds: number,
  ): void {
    this.#requests.labels(transport, operation, namespace, result).inc();
    this.#duration.labels(transport, operation).observe(seconds);
  }

  hit(namespace: string, source: CacheSource, count = 1): void {
    this.#hits.labels(namespace, source).inc(count);
  }

  miss(namespace: string, count = 1): void {
    this.#misses.labels(namespace).inc(count);
  }

  localEviction(reason: string): void {
    this.#evictions.inc({ reason });
  }

  trackGauges(sources: Partial<GaugeSources>): void {
    this.#gaugeSources = { ...this.#gaugeSources, ...sources };
  }

  breakerState(state: CircuitState, shown: CircuitState = state): void {
    this.#breaker.set(BREAKER_STATE_VALUE[shown]);
    this.#breakerTransitions.inc({ state });
  }

  replay(outcome: ReplayOutcome): void {
    this.#replays.inc({ outcome });
  }

  redisOperation(command: string, seconds: number, failed: boolean): void {
    this.#redisDuration.labels(command, failed ? 'error' : 'ok').observe(seconds);
  }

  invalidation(outcome: InvalidationOutcome): void {
    this.#invalidations.inc({ outcome });
  }

  invalidationDelay(seconds: number): void {
    this.#invalidationDelay.observe(seconds);
  }

  async render(): Promise<{ contentType: string; body: string }> {
    const sources = this.#gaugeSources;
    const gauges: Array<[Gauge, (() => number) | undefined]> = [
      [this.#localEntries, sources.localEntries],
      [this.#localBytes, sources.localBytes],
      [this.#pending, sources.pendingWrites],
      [this.#brokerUp, sources.brokerUp],
      [this.#invalidationQueue, sources.invalidationQueue],
      [this.#namespaceConfigUp, sources.namespaceConfigUp],
    ];
    for (const [gauge, read] of gauges) if (read !== undefined) gauge.set(read());
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** METRICS_ENABLED=false: nothing is counted and /metrics answers 404. */
export class NoopMetrics implements Metrics {
  request(): void {}
  hit(): void {}
  miss(): void {}
  localEviction(): void {}
  trackGauges(): void {}
  breakerState(): void {}
  replay(): void {}
  redisOperation(): void {}
  invalidation(): void {}
  invalidationDelay(): void {}
  render(): Promise<undefined> {
    return Promise.resolve(undefined);
  }
}
