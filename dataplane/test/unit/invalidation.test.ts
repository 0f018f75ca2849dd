// The publisher's queueing and numbering, and the receiver's rules, with small fakes of our own
// MessageBroker and InvalidationTarget interfaces. Real brokers: test/integration, test/replicas.
import test from 'ava';
import type { InvalidationEvent } from '../../src/invalidation/invalidation-event.ts';
import { InvalidationPublisher } from '../../src/invalidation/invalidation-publisher.ts';
import {
  InvalidationReceiver,
  type InvalidationTarget,
} from '../../src/invalidation/invalidation-receiver.ts';
import type { BrokerStatus, Delivery, MessageBroker } from '../../src/invalidation/message-broker.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import { counterValue } from '../support/cache-fixture.ts';

class ScriptedBroker implements MessageBroker {
  readonly kind = 'kafka' as const;
  readonly published: InvalidationEvent[] = [];
  failuresLeft = 0;
  publishDelayMs = 0;
  subscribe(): Promise<void> {
    return Promise.resolve();
  }
  async publish(event: InvalidationEvent): Promise<void> {
    if (this.publishDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.publishDelayMs));
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error('broker unavailable');
    }
    this.published.push(event);
  }
  status(): BrokerStatus {
    return 'up';
  }
  onResubscribed(): void {}
  close(): Promise<void> {
    return Promise.resolve();
  }
}

class RecordingTarget implements InvalidationTarget {
  readonly calls: string[] = [];
  invalidateLocal(namespace: string, keys: readonly string[], timestamp: number): void {
    this.calls.push(`invalidate ${namespace} ${keys.join(',')} @${timestamp}`);
  }
  clearLocalNamespace(namespace: string): void {
    this.calls.push(`clear ${namespace}`);
  }
  clearLocal(): void {
    this.calls.push('clear all');
  }
  deleteShared(namespace: string, keys: readonly string[], timestamp: number): Promise<void> {
    this.calls.push(`delete-shared ${namespace} ${keys.join(',')} @${timestamp}`);
    return Promise.resolve();
  }
}

const logger = createLogger('silent');
const event = (overrides: Partial<InvalidationEvent>): Delivery => ({
  event: { namespace: 'ns', keys: ['k'], action: 'update', timestamp: 1000, ...overrides },
});

test('the publisher numbers events per namespace, in order, without waiting for the broker', async (t) => {
  const broker = new ScriptedBroker();
  broker.publishDelayMs = 5;
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const publisher = new InvalidationPublisher({ broker, replicaId: 'r1', metrics, logger, concurrency: 1 });
  const started = performance.now();
  publisher.publish('a', ['x'], 'update', 1);
  publisher.publish('b', ['y'], 'delete', 2);
  publisher.publish('a', ['z'], 'update', 3);
  t.true(performance.now() - started < 5, 'publish returned before the broker answered');
  await publisher.close(1000);
  t.deepEqual(
    broker.published.map((e) => `${e.namespace}#${e.sequence} ${e.keys[0]} ${e.origin}`),
    ['a#1 x r1', 'b#1 y r1', 'a#2 z r1'],
  );
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'published' }), 3);
});

test('the publisher retries with backoff while the broker is away, then gives up and counts it', async (t) => {
  const broker = new ScriptedBroker();
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const options = { broker, replicaId: 'r1', metrics, logger, retryDelayMs: 1, maxRetryDelayMs: 4 };
  const publisher = new InvalidationPublisher({ ...options, maxRetryMs: 1000 });
  broker.failuresLeft = 5;
  publisher.publish('a', ['x'], 'update', 1);
  await publisher.close(2000);
  t.is(broker.published.length, 1, 'delivered once the broker took it');
  broker.failuresLeft = 1_000_000;
  const second = new InvalidationPublisher({ ...options, maxRetryMs: 50 });
  second.publish('a', ['y'], 'update', 2);
  await new Promise((resolve) => setTimeout(resolve, 120));
  const attempts = 1_000_000 - broker.failuresLeft;
  t.true(attempts > 3 && attempts < 60, `${attempts} bounded attempts within 50 ms`);
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'publish_failed' }), 1);
});

test('a full publish queue drops the oldest changes, and their numbers, so receivers see a gap', async (t) => {
  const broker = new ScriptedBroker();
  broker.publishDelayMs = 20;
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const publisher = new InvalidationPublisher({
    broker,
    replicaId: 'r1',
    metrics,
    logger,
    maxQueued: 2,
    concurrency: 1,
  });
  for (let i = 1; i <= 5; i += 1) publisher.publish('a', [`k${i}`], 'update', i);
  await publisher.close(2000);
  // k1 went out at once; k2 and k3 were dropped (numbers 2 and 3 burnt); k4 and k5 went out merged.
  t.deepEqual(
    broker.published.map((e) => [e.sequence, e.keys.join(',')]),
    [
      [1, 'k1'],
      [4, 'k4,k5'],
    ],
  );
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'dropped' }), 2);
});

test('a backlog is sent as merged events of one namespace and action, bounded in keys', async (t) => {
  const broker = new ScriptedBroker();
  broker.publishDelayMs = 20;
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const publisher = new InvalidationPublisher({
    broker,
    replicaId: 'r1',
    metrics,
    logger,
    concurrency: 1,
    maxKeysPerEvent: 3,
  });
  publisher.publish('a', ['first'], 'update', 1);
  for (const [namespace, key, action] of [
    ['a', 'x', 'update'],
    ['a', 'y', 'update'],
    ['a', 'x', 'update'],
    ['a', 'z', 'update'],
    ['a', 'w', 'update'],
    ['a', 'gone', 'delete'],
    ['b', 'q', 'update'],
  ] as const) {
    publisher.publish(namespace, [key], action, 2);
  }
  await publisher.close(2000);
  t.deepEqual(
    broker.published.map((e) => `${e.namespace}#${e.sequence} ${e.action} ${e.keys.join(',')}`),
    ['a#1 update first', 'a#2 update x,y,z', 'a#3 update w', 'a#4 delete gone', 'b#1 update q'],
  );
});

test('the receiver ignores its own events and applies the others', async (t) => {
  const target = new RecordingTarget();
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const receiver = new InvalidationReceiver({ replicaId: 'me', target, metrics, logger, now: () => 1500 });
  await receiver.handle(event({ origin: 'me', sequence: 1 }));
  await receiver.handle(event({ origin: 'other', sequence: 1, keys: ['a', 'b'] }));
  t.deepEqual(target.calls, ['invalidate ns a,b @1000']);
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'ignored_own' }), 1);
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'applied' }), 1);
});

test('a sequence gap drops the namespace locally; duplicates and the first event seen do not', async (t) => {
  const target = new RecordingTarget();
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const receiver = new InvalidationReceiver({ replicaId: 'me', target, metrics, logger });
  await receiver.handle(event({ origin: 'o', sequence: 7 }));
  await receiver.handle(event({ origin: 'o', sequence: 8 }));
  await receiver.handle(event({ origin: 'o', sequence: 8 }));
  await receiver.handle(event({ origin: 'o', sequence: 1, namespace: 'other' }));
  t.false(target.calls.some((call) => call.startsWith('clear')));
  await receiver.handle(event({ origin: 'o', sequence: 10 }));
  t.true(target.calls.includes('clear ns'));
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'gap' }), 1);
});

test('external deletes delete from Redis, then locally; external updates only drop locally', async (t) => {
  const target = new RecordingTarget();
  const receiver = new InvalidationReceiver({
    replicaId: 'me',
    target,
    metrics: new PrometheusMetrics({ defaultMetrics: false }),
    logger,
  });
  await receiver.handle(event({ action: 'update', keys: ['u'] }));
  await receiver.handle(event({ action: 'delete', keys: ['d'] }));
  await receiver.handle(event({ action: 'delete', keys: ['r'], origin: 'replica', sequence: 1 }));
  t.deepEqual(target.calls, [
    'invalidate ns u @1000',
    'delete-shared ns d @1000',
    'invalidate ns d @1000',
    'invalidate ns r @1000',
  ]);
});

test('malformed messages are counted; a resubscription drops the whole local cache', async (t) => {
  const target = new RecordingTarget();
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const receiver = new InvalidationReceiver({ replicaId: 'me', target, metrics, logger });
  await receiver.handle({ error: new Error('not JSON') });
  receiver.resubscribed();
  t.deepEqual(target.calls, ['clear all']);
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'invalid' }), 1);
  t.is(await counterValue(metrics, 'cacheplane_invalidation_events_total', { outcome: 'resync' }), 1);
});

test('queued changes of a namespace merge across other namespaces’ changes', async (t) => {
  const broker = new ScriptedBroker();
  broker.publishDelayMs = 20;
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const publisher = new InvalidationPublisher({ broker, replicaId: 'r1', metrics, logger, concurrency: 1 });
  publisher.publish('a', ['first'], 'update', 1);
  publisher.publish('a', ['x'], 'update', 2);
  publisher.publish('b', ['q'], 'update', 3);
  publisher.publish('a', ['y'], 'update', 4);
  await publisher.close(2000);
  t.deepEqual(
    broker.published.map((e) => `${e.namespace}#${e.sequence} ${e.keys.join(',')} @${e.timestamp}`),
    ['a#1 first @1', 'a#2 x,y @2', 'b#1 q @3'],
  );
});
