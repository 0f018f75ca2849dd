import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { InvalidationEvent } from './invalidation-event.ts';
import type { Delivery } from './message-broker.ts';

/** What an invalidation does to this replica's cache (implemented by NamespacedCache). */
export interface InvalidationTarget {
  /** Drops the keys from the local cache, and pending degraded writes older than `timestamp`. */
  invalidateLocal(namespace: string, keys: readonly string[], timestamp: number): void;
  /** Drops every local entry of the namespace (pending degraded writes stay). */
  clearLocalNamespace(namespace: string): void;
  /** Drops every local entry (pending degraded writes stay). */
  clearLocal(): void;
  /** Deletes the keys from Redis unless Redis holds a copy written after `timestamp`. */
  deleteShared(namespace: string, keys: readonly string[], timestamp: number): Promise<void>;
}

/**
 * Applies the invalidation events of other replicas and other services (SEED-DESIGN property 7).
 * Events of this replica are ignored. Sequence numbers are per origin and namespace: a gap means an
 * event was lost, so the namespace's local entries are dropped instead of trusted. An event without
 * an origin comes from another service; its `delete` also deletes the keys from Redis.
 */
export class InvalidationReceiver {
  readonly #replicaId: string;
  readonly #target: InvalidationTarget;
  readonly #metrics: Metrics;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #lastSequence = new Map<string, number>();

  constructor(options: {
    replicaId: string;
    target: InvalidationTarget;
    metrics: Metrics;
    logger: Logger;
    now?: () => number;
  }) {
    this.#replicaId = options.replicaId;
    this.#target = options.target;
    this.#metrics = options.metrics;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  async handle(delivery: Delivery): Promise<void> {
    if ('error' in delivery) {
      this.#metrics.invalidation('invalid');
      this.#logger.warn(
        { err: delivery.error.message },
        'ignored a message that is not an invalidation event',
      );
      return;
    }
    const { event } = delivery;
    this.#metrics.invalidation('received');
    if (event.origin === this.#replicaId) {
      this.#metrics.invalidation('ignored_own');
      return;
    }
    this.#checkSequence(event);
    // Redis first, then the near-cache, so that a read in between finds Redis already changed.
    let failed = false;
    if (event.origin === undefined && event.action === 'delete') {
      try {
        await this.#target.deleteShared(event.namespace, event.keys, event.timestamp);
      } catch (error) {
        failed = true;
        this.#logger.warn(
          { err: (error as Error).message, namespace: event.namespace },
          'external delete not applied to Redis',
        );
      }
    }
    this.#target.invalidateLocal(event.namespace, event.keys, event.timestamp);
    if (failed) {
      this.#metrics.invalidation('failed');
      return;
    }
    this.#metrics.invalidation('applied');
    this.#metrics.invalidationDelay(Math.max(0, this.#now() - event.timestamp) / 1000);
  }

  /** Events may have been missed (connection or subscription lost): trust no local entry. */
  resubscribed(): void {
    this.#lastSequence.clear();
    this.#target.clearLocal();
    this.#metrics.invalidation('resync');
    this.#logger.warn('invalidation feed interrupted: local cache dropped');
  }

  #checkSequence(event: InvalidationEvent): void {
    if (event.origin === undefined || event.sequence === undefined) return;
    const stream = `${event.origin}\u0000${event.namespace}`;
    const last = this.#lastSequence.get(stream);
    this.#lastSequence.set(stream, Math.max(last ?? 0, event.sequence));
    if (last !== undefined && event.sequence > last + 1) {
      this.#metrics.invalidation('gap');
      this.#logger.warn(
        { origin: event.origin, namespace: event.namespace, expected: last + 1, got: event.sequence },
        'invalidation events missing: dropping the namespace from the local cache',
      );
      this.#target.clearLocalNamespace(event.namespace);
    }
  }
}
