// RabbitMqBroker against real RabbitMQ nodes (see test/support/rabbitmq-harness.ts): fan-out to
// every replica, bad payloads, and what a replica sees when the broker dies, hangs and comes back.
import { randomBytes } from 'node:crypto';
import test, { type ExecutionContext } from 'ava';
import { connect } from 'amqplib';
import type { InvalidationEvent } from '../../src/invalidation/invalidation-event.ts';
import type { Delivery } from '../../src/invalidation/message-broker.ts';
import { RabbitMqBroker } from '../../src/invalidation/rabbitmq-broker.ts';
import { startRabbitMq, type RabbitMqHandle } from '../support/rabbitmq-harness.ts';

const CONNECT_TIMEOUT_MS = 3000;
const DELIVERY_TIMEOUT_MS = 10_000;
/** Backoff is capped at 5 s; a restarted node needs a few seconds to boot on top of that. */
const RECOVERY_TIMEOUT_MS = 30_000;

interface Replica {
  broker: RabbitMqBroker;
  deliveries: Delivery[];
  resubscribed: number;
}

function newTopic(): string {
  return `invalidation-${randomBytes(4).toString('hex')}`;
}

/** A subscribed broker that records what it receives; closed when the test ends. */
async function replica(t: ExecutionContext, url: string, topic: string, replicaId: string): Promise<Replica> {
  const broker = new RabbitMqBroker(
    {
      type: 'rabbitmq',
      urls: [url],
      topic,
      // Queues are named <groupId>.<replicaId>: tests sharing a node need their own group.
      groupId: `group-${topic}`,
      replicaId,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    },
    // Warnings (lost connections, failed attempts) in the test log: they explain a timeout.
    { logger: { info: () => {}, warn: (...args: unknown[]) => t.log(`[${replicaId}]`, ...args) } },
  );
  t.teardown(() => broker.close());
  const recorded: Replica = { broker, deliveries: [], resubscribed: 0 };
  broker.onResubscribed(() => (recorded.resubscribed += 1));
  await broker.subscribe((delivery) => {
    recorded.deliveries.push(delivery);
    return Promise.resolve();
  });
  return recorded;
}

function eventsOf(origin: string, count: number, namespace = 'orders'): InvalidationEvent[] {
  return Array.from({ length: count }, (_, i) => ({
    namespace,
    keys: [`key-${i}`],
    action: 'delete' as const,
    timestamp: Date.now(),
    origin,
    sequence: i + 1,
  }));
}

async function publishInOrder(broker: RabbitMqBroker, events: InvalidationEvent[]): Promise<void> {
  for (const event of events) await broker.publish(event);
}

function received(replica: Replica, origin?: string): InvalidationEvent[] {
  return replica.deliveries
    .flatMap((delivery) => ('event' in delivery ? [delivery.event] : []))
    .filter((event) => origin === undefined || event.origin === origin);
}

/** Up again, with (at least) one more resubscription than `before`. */
function recovered(replica: Replica, before: number): boolean {
  return replica.resubscribed > before && replica.broker.status() === 'up';
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A node of the test's own: for tests that kill or pause it. */
async function startedNode(t: ExecutionContext): Promise<RabbitMqHandle> {
  const rabbit = await startRabbitMq();
  t.teardown(() => rabbit.stop());
  t.log(`RabbitMQ ${rabbit.nodeName} started in ${rabbit.startMs} ms`);
  return rabbit;
}

/** One node shared by the tests that leave it alone (each uses its own topic): fewer slow boots. */
let healthy: Promise<RabbitMqHandle> | undefined;
async function healthyNode(t: ExecutionContext): Promise<RabbitMqHandle> {
  healthy ??= startRabbitMq();
  const rabbit = await healthy;
  t.log(`RabbitMQ ${rabbit.nodeName} started in ${rabbit.startMs} ms`);
  return rabbit;
}
test.after.always(async () => {
  await (await healthy?.catch(() => undefined))?.stop();
});

test('every replica receives every event, its own included, in publish order', async (t) => {
  const rabbit = await healthyNode(t);
  const topic = newTopic();
  const [a, b] = await Promise.all([replica(t, rabbit.url, topic, 'a'), replica(t, rabbit.url, topic, 'b')]);
  t.is(a.broker.status(), 'up');
  t.is(b.broker.status(), 'up');
  t.is(a.broker.kind, 'rabbitmq');

  const fromA = eventsOf('a', 50);
  const fromB = eventsOf('b', 50);
  await Promise.all([publishInOrder(a.broker, fromA), publishInOrder(b.broker, fromB)]);

  await waitUntil(
    () => received(a).length === 100 && received(b).length === 100,
    DELIVERY_TIMEOUT_MS,
    'both replicas to receive all 100 events',
  );
  for (const receiver of [a, b]) {
    t.deepEqual(received(receiver, 'a'), fromA);
    t.deepEqual(received(receiver, 'b'), fromB);
  }
  t.is(a.resubscribed + b.resubscribed, 0);
});

test('a malformed message arrives as an error and consumption goes on', async (t) => {
  const rabbit = await healthyNode(t);
  const topic = newTopic();
  const [a, b] = await Promise.all([replica(t, rabbit.url, topic, 'a'), replica(t, rabbit.url, topic, 'b')]);

  // Another service publishing garbage straight to the exchange.
  const raw = await connect(rabbit.url);
  t.teardown(() => raw.close().catch(() => {}));
  const channel = await raw.createConfirmChannel();
  channel.publish(topic, '', Buffer.from('not json'));
  channel.publish(topic, '', Buffer.from(JSON.stringify({ namespace: 'orders', keys: [] })));
  await channel.waitForConfirms();
  const [after] = eventsOf('a', 1);
  await a.broker.publish(after as InvalidationEvent);

  await waitUntil(
    () => a.deliveries.length === 3 && b.deliveries.length === 3,
    DELIVERY_TIMEOUT_MS,
    'three deliveries on both replicas',
  );
  for (const receiver of [a, b]) {
    const [notJson, notEvent, event] = receiver.deliveries;
    t.true(notJson !== undefined && 'error' in notJson && /not JSON/.test(notJson.error.message));
    t.true(notEvent !== undefined && 'error' in notEvent && /keys/.test(notEvent.error.message));
    t.deepEqual(event, { event: after });
    t.is(receiver.broker.status(), 'up');
  }
});

test('killed broker: down and publish rejects quickly; restarted: up, resubscribed, fan-out again', async (t) => {
  const rabbit = await startedNode(t);
  const topic = newTopic();
  const [a, b] = await Promise.all([replica(t, rabbit.url, topic, 'a'), replica(t, rabbit.url, topic, 'b')]);

  const [beforeA, beforeB] = [a.resubscribed, b.resubscribed];
  await rabbit.kill();
  await waitUntil(
    () => a.broker.status() === 'down' && b.broker.status() === 'down',
    5000,
    'both replicas to report the broker down',
  );
  const started = Date.now();
  await t.throwsAsync(a.broker.publish(eventsOf('a', 1)[0] as InvalidationEvent));
  t.true(
    Date.now() - started <= CONNECT_TIMEOUT_MS + 500,
    `publish took ${Date.now() - started} ms to reject`,
  );

  const restartedAt = Date.now();
  await rabbit.restart();
  t.log(`RabbitMQ restarted in ${rabbit.startMs} ms`);
  await waitUntil(
    () => recovered(a, beforeA) && recovered(b, beforeB),
    RECOVERY_TIMEOUT_MS,
    'both replicas to resubscribe',
  );
  t.log(`replicas resubscribed ${Date.now() - restartedAt} ms after the restart began`);

  const fromA = eventsOf('a', 5, 'after-restart');
  const fromB = eventsOf('b', 5, 'after-restart');
  await Promise.all([publishInOrder(a.broker, fromA), publishInOrder(b.broker, fromB)]);
  await waitUntil(
    () => received(a).length === 10 && received(b).length === 10,
    DELIVERY_TIMEOUT_MS,
    'both replicas to receive the events published after recovery',
  );
  for (const receiver of [a, b]) {
    t.deepEqual(received(receiver, 'a'), fromA);
    t.deepEqual(received(receiver, 'b'), fromB);
  }
});

test('hung broker: publish rejects after the timeout, heartbeats mark it down, resume recovers', async (t) => {
  const rabbit = await startedNode(t);
  const topic = newTopic();
  // Two-second heartbeats: a silent broker is noticed within 4-6 s instead of 10-15 s.
  const url = `${rabbit.url}?heartbeat=2`;
  const a = await replica(t, url, topic, 'a');

  const before = a.resubscribed;
  await rabbit.pause();
  t.teardown(() => rabbit.resume());
  const started = Date.now();
  await t.throwsAsync(a.broker.publish(eventsOf('a', 1)[0] as InvalidationEvent));
  const elapsed = Date.now() - started;
  t.true(elapsed <= CONNECT_TIMEOUT_MS + 1000, `publish took ${elapsed} ms to reject`);
  await waitUntil(() => a.broker.status() === 'down', 15_000, 'the replica to notice the silent broker');
  t.log(`down ${Date.now() - started} ms after the pause`);

  rabbit.resume();
  await waitUntil(() => recovered(a, before), RECOVERY_TIMEOUT_MS, 'the replica to resubscribe');
  const [event] = eventsOf('a', 1, 'after-resume');
  await a.broker.publish(event as InvalidationEvent);
  await waitUntil(
    () => received(a, 'a').length === 1,
    DELIVERY_TIMEOUT_MS,
    'the event published after resume',
  );
  t.deepEqual(received(a, 'a'), [event]);
});
