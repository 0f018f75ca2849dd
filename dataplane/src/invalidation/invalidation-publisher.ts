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
  /** Most keys in one event when queued events of a namespace are merged. */
  maxKeysPerEvent?: number;
  /** Publishes in flight at once. */
  concurrency?: number;
  /**
   * How long an event is retried while the broker is unreachable before it is given up (and
   * counted as failed): the other replicas learn of the write when the broker is back.
   */
  maxRetryMs?: number;
  /** First retry delay; doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  now?: () => number;
}

/**
 * Publishes this replica's invalidation events off the request path: `publish` only numbers the
 * event and queues it; a background pump sends queued events in order, a few at a time, retrying
 * each with capped backoff for at most `maxRetryMs` (so an outage of the broker delays other
 * replicas' invalidations rather than losing them). An event that is dropped (queue full, or retried
 * for too long) leaves a gap in its sequence, which makes every receiver drop its local entries of
 * that namespace. When writes outpace the broker, the queued changes of one namespace and action
 * are merged into one event (with the earliest timestamp, which receivers may only under-use), so a
 * backlog costs fewer, larger messages rather than a growing delay.
 */
/** A write to announce, before it is numbered (and perhaps merged with others). */
interface Change {
  namespace: string;
  keys: string[];
  action: InvalidationEvent['action'];
  timestamp: number;
}

export class InvalidationPublisher {
  readonly #options: Required<InvalidationPublisherOptions>;
  readonly #queue: Change[] = [];
  readonly #sequences = new Map<string, number>();
  #inFlight = 0;
  #idle: (() => void) | undefined;
  #closed = false;
  #abandoned = false;

  constructor(options: InvalidationPublisherOptions) {
    this.#options = {
      maxQueued: 10_000,
      maxKeysPerEvent: 1000,
      concurrency: 4,
      maxRetryMs: 30_000,
      retryDelayMs: 50,
      maxRetryDelayMs: 1000,
      now: Date.now,
      ...options,
    };
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** Queues a change to announce; never waits, never throws. */
  publish(namespace: string, keys: string[], action: InvalidationEvent['action'], timestamp: number): void {
    if (this.#closed) return;
    this.#queue.push({ namespace, keys, action, timestamp });
    if (this.#queue.length > this.#options.maxQueued) {
      const dropped = this.#queue.shift() as Change;
      this.#nextSequence(dropped.namespace); // a burnt number: receivers see the gap
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
    this.#abandoned = true;
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const event = this.#takeEvent();
      this.#inFlight += 1;
      void this.#send(event).finally(() => {
        this.#inFlight -= 1;
        this.#pump();
        if (this.#inFlight === 0 && this.#queue.length === 0) this.#idle?.();
      });
    }
  }

  /**
   * The next event: the head of the queue, merged with the queued changes of the same namespace and
   * action (order across namespaces does not matter: sequences are per namespace).
   */
  #takeEvent(): InvalidationEvent {
    const first = this.#queue.shift() as Change;
    const keys = new Set(first.keys);
    let kept = 0;
    for (const next of this.#queue) {
      const merges =
        next.namespace === first.namespace &&
        next.action === first.action &&
        keys.size + next.keys.length <= this.#options.maxKeysPerEvent;
      if (merges) for (const key of next.keys) keys.add(key);
      else this.#queue[kept++] = next;
    }
    this.#queue.length = kept;
    return {
      namespace: first.namespace,
      keys: [...keys],
      action: first.action,
      timestamp: first.timestamp,
      origin: this.#options.replicaId,
      sequence: this.#nextSequence(first.namespace),
    };
  }

  #nextSequence(namespace: string): number {
    const sequence = (this.#sequences.get(namespace) ?? 0) + 1;
    this.#sequences.set(namespace, sequence);
    return sequence;
  }

  async #send(event: InvalidationEvent): Promise<void> {
    const { broker, maxRetryMs, retryDelayMs, maxRetryDelayMs, metrics, logger, now } = this.#options;
    const deadline = now() + maxRetryMs;
    for (let delay = retryDelayMs; ; delay = Math.min(delay * 2, maxRetryDelayMs)) {
      try {
        await broker.publish(event);
        metrics.invalidation('published');
        return;
      } catch (error) {
        if (this.#abandoned || now() + delay > deadline) {
          metrics.invalidation('publish_failed');
          logger.warn(
            { err: (error as Error).message, namespace: event.namespace, sequence: event.sequence },
            'invalidation event not published; receivers will see a gap and drop local entries',
          );
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
