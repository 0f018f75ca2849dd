import type { ChangeListener } from '../cache/namespaced-cache.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { InvalidationPublisher } from './invalidation-publisher.ts';
import { InvalidationReceiver, type InvalidationTarget } from './invalidation-receiver.ts';
import type { BrokerStatus, MessageBroker } from './message-broker.ts';

/** Invalidation fan-out for one replica: what the cache calls, and how it is started and stopped. */
export interface Invalidation {
  status(): BrokerStatus;
  /** Hooks for NamespacedCache. */
  onChange: ChangeListener;
  nearCacheTrusted: () => boolean;
  /** Subscribes, applying events to `target`; waits at most `timeoutMs` for the subscription. */
  start(target: InvalidationTarget, timeoutMs: number): Promise<void>;
  close(timeoutMs: number): Promise<void>;
}

/** Without a broker (single-replica mode): nothing is published, and local entries are trusted. */
export const NO_INVALIDATION: Invalidation = {
  status: () => 'disabled',
  onChange: () => {},
  nearCacheTrusted: () => true,
  start: () => Promise.resolve(),
  close: () => Promise.resolve(),
};

export function brokerInvalidation(
  broker: MessageBroker,
  replicaId: string,
  metrics: Metrics,
  logger: Logger,
): Invalidation {
  const publisher = new InvalidationPublisher({ broker, replicaId, metrics, logger });
  metrics.trackGauges({
    brokerUp: () => (broker.status() === 'up' ? 1 : 0),
    invalidationQueue: () => publisher.queued,
  });
  return {
    status: () => broker.status(),
    onChange: (namespace, keys, action, timestamp) => publisher.publish(namespace, keys, action, timestamp),
    // Another replica's write is only noticed through the feed: no feed, no near-cache hits.
    nearCacheTrusted: () => broker.status() === 'up',
    start: async (target, timeoutMs) => {
      const receiver = new InvalidationReceiver({ replicaId, target, metrics, logger });
      broker.onResubscribed(() => receiver.resubscribed());
      const subscribed = broker.subscribe((delivery) => receiver.handle(delivery));
      const timedOut = new Promise<'timeout'>((resolve) =>
        setTimeout(() => resolve('timeout'), timeoutMs).unref(),
      );
      if ((await Promise.race([subscribed.then(() => 'ok' as const), timedOut])) === 'timeout') {
        logger.error({ broker: broker.kind }, 'broker not reachable at start; near-cache off until it is');
      }
      subscribed.catch((error: unknown) =>
        logger.error({ err: (error as Error).message, broker: broker.kind }, 'broker subscription failed'),
      );
    },
    close: async (timeoutMs) => {
      await publisher.close(timeoutMs);
      await broker.close();
    },
  };
}
