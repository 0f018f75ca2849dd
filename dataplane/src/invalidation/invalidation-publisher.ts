import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { InvalidationEvent } from './invalidation-event.ts';
import type { MessageBroker } from './message-broker.ts';

export interface InvalidationPublisherOptions {
  broker: MessageBroker;
  replicaId: string;
  metrics: Metrics;
  logger: Logger;
  /** Events waiting to be published; past this the oldest is dropped (receivers see the gap). */
  maxQueued?: number;
  /** Publishes in flight at once. */
  concurrency?: number;
  /** Attempts per event before it is given up (and counted as failed). */
  attempts?: number;
  retryDelayMs?: number;
}

/**
 * Publishes this replica's invalidation events off the request path: `publish` only numbers the
 * event and queues it; a background pump sends queued events in order, a few at a time, retrying
 * each a bounded number of times. An event that is dropped (queue full or retries exhausted) leaves
 * a gap in its sequence, which makes every receiver drop its local entries of that namespace.
 */
export class InvalidationPublisher {
  readonly #options: Required<InvalidationPublisherOptions>;
  readonly #queue: InvalidationEvent[] = [];
  readonly #sequences = new Map<string, number>();
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #closed = false;

  constructor(options: InvalidationPublisherOptions) {
    this.#options = { maxQueued: 10_000, concurrency: 16, attempts: 3, retryDelayMs: 100, ...options };
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Numbers the event (per namespace) and queues it; never waits, never throws. */
  publish(namespace: string, keys: string[], action: InvalidationEvent['action'], timestamp: number): void {
    if (this.#closed) return;
    const sequence = (this.#sequences.get(namespace) ?? 0) + 1;
    this.#sequences.set(namespace, sequence);
    this.#queue.push({ namespace, keys, action, timestamp, origin: this.#options.replicaId, sequence });
    if (this.#queue.length > this.#options.maxQueued) {
      this.#queue.shift();
      this.#options.metrics.invalidation('dropped');
    }
    this.#pump();
  }

  /** Stops taking events and waits (up to `timeoutMs`) for the queue to drain. */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    if (this.#queue.length === 0 && this.#inFlight === 0) return;
    await Promise.race([
      new Promise<void>((resolve) => (this.#idle = resolve)),
      new Promise((resolve) => setTimeout(resolve, timeoutMs).unref()),
    ]);
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const event = this.#queue.shift() as InvalidationEvent;
      this.#inFlight += 1;
      void this.#send(event).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) this.#idle?.();
      });
    }
  }

  async #send(event: InvalidationEvent): Promise<void> {
    const { broker, attempts, retryDelayMs, metrics, logger } = this.#options;
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      try {
        await broker.publish(event);
        metrics.invalidation('published');
        return;
      } catch (error) {
        if (attempt === attempts) {
          metrics.invalidation('publish_failed');
          logger.warn(
            { err: (error as Error).message, namespace: event.namespace, sequence: event.sequence },
            'invalidation event not published; receivers will see a gap and drop local entries',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, retryDelayMs * attempt));
      }
    }
  }
}
