import test from 'ava';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { InvalidationEvent } from '../../src/invalidation/invalidation-event.ts';
import { createTopicIfMissing, KafkaBroker } from '../../src/invalidation/kafka-broker.ts';
import type { Delivery } from '../../src/invalidation/message-broker.ts';
import { startKafka, type KafkaHandle } from '../support/kafka-harness.ts';

const CONNECT_TIMEOUT_MS = 2000;
const SESSION_TIMEOUT_MS = 3000;
/** publishTimeoutMs defaults to 3 × connectTimeoutMs; a little slack for a loaded machine. */
const PUBLISH_BOUND_MS = 3 * CONNECT_TIMEOUT_MS + 2000;
const DELIVERY_TIMEOUT_MS = 20_000;
/** After Kafka restarts, a rejoin waits for the old member's session to expire, then backoff. */
const RECOVERY_TIMEOUT_MS = 60_000;

/** Started once for the tests that do not kill Kafka. */
let shared: Promise<KafkaHandle> | undefined;

function sharedKafka(): Promise<KafkaHandle> {
  shared ??= startKafka();
  return shared;
}

test.after.always(async () => {
  if (shared !== undefined) await (await shared).stop();
});

/** Everything a broker delivered, in order. */
class Inbox {
  readonly deliveries: Delivery[] = [];
  readonly handler = (delivery: Delivery): Promise<void> => {
    this.deliveries.push(delivery);
    return Promise.resolve();
  };

  get events(): InvalidationEvent[] {
    return this.deliveries.flatMap((d) => ('event' in d ? [d.event] : []));
  }

  get errors(): Error[] {
    return this.deliveries.flatMap((d) => ('error' in d ? [d.error] : []));
  }

  async waitForEvents(count: number, what: string): Promise<void> {
    await waitUntil(() => this.events.length >= count, DELIVERY_TIMEOUT_MS, `${count} events ${what}`);
  }
}

function newBroker(brokers: string[], topic: string, replicaId: string): KafkaBroker {
  return new KafkaBroker(
    {
      type: 'kafka',
      urls: brokers,
      topic,
      groupId: 'cacheplane-test',
      replicaId,
      connectTimeoutMs: CONNECT_TIMEOUT_MS,
    },
    { sessionTimeoutMs: SESSION_TIMEOUT_MS, minReconnectDelayMs: 100, maxReconnectDelayMs: 2000 },
  );
}

function event(origin: string, namespace: string, sequence: number): InvalidationEvent {
  return { namespace, keys: [`key-${sequence}`], action: 'delete', timestamp: Date.now(), origin, sequence };
}

/** Sequence numbers of one origin's events for one namespace, in arrival order. */
function sequences(events: InvalidationEvent[], origin: string, namespace: string): number[] {
  return events.filter((e) => e.origin === origin && e.namespace === namespace).map((e) => e.sequence ?? 0);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

async function waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (!check()) {
    if (Date.now() - started > timeoutMs)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return Date.now() - started;
}

test('every event published by either replica reaches both, in order per namespace', async (t) => {
  const kafka = await sharedKafka();
  const topic = 'fan-out';
  const a = newBroker(kafka.brokers, topic, 'replica-a');
  const b = newBroker(kafka.brokers, topic, 'replica-b');
  t.teardown(() => Promise.all([a.close(), b.close()]));
  t.is(a.status(), 'connecting');

  const inboxA = new Inbox();
  const inboxB = new Inbox();
  const started = Date.now();
  await Promise.all([a.subscribe(inboxA.handler), b.subscribe(inboxB.handler)]);
  t.log(`both subscribed in ${Date.now() - started} ms`);
  await waitUntil(() => a.status() === 'up' && b.status() === 'up', DELIVERY_TIMEOUT_MS, 'status up');

  // Published right after subscribe() resolved: nothing may be lost to offset resolution.
  const perNamespace = 25;
  await Promise.all([
    (async () => {
      for (let i = 1; i <= perNamespace; i += 1) await a.publish(event('replica-a', 'alpha', i));
    })(),
    (async () => {
      for (let i = 1; i <= perNamespace; i += 1) await b.publish(event('replica-b', 'beta', i));
    })(),
    // Concurrent publishes of one namespace keep their order too (same partition, one connection).
    Promise.all(range(1, perNamespace).map((i) => a.publish(event('replica-a', 'gamma', i)))),
  ]);

  for (const [name, inbox] of [
    ['a', inboxA],
    ['b', inboxB],
  ] as const) {
    await inbox.waitForEvents(3 * perNamespace, `at replica ${name}`);
    t.deepEqual(sequences(inbox.events, 'replica-a', 'alpha'), range(1, perNamespace), `alpha at ${name}`);
    t.deepEqual(sequences(inbox.events, 'replica-b', 'beta'), range(1, perNamespace), `beta at ${name}`);
    t.deepEqual(sequences(inbox.events, 'replica-a', 'gamma'), range(1, perNamespace), `gamma at ${name}`);
    t.is(inbox.errors.length, 0);
  }
});

test('a malformed message arrives as an error and consumption goes on', async (t) => {
  const kafka = await sharedKafka();
  const topic = 'malformed';
  t.true(await createTopicIfMissing(kafka.brokers, topic));
  t.false(await createTopicIfMissing(kafka.brokers, topic));

  const broker = newBroker(kafka.brokers, topic, 'replica-m');
  t.teardown(() => broker.close());
  const inbox = new Inbox();
  await broker.subscribe(inbox.handler);

  const raw = new Kafka({ clientId: 'raw', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await raw.connect();
  t.teardown(() => raw.disconnect());
  await raw.send({
    topic,
    messages: [
      { value: 'not json at all' },
      { value: JSON.stringify({ namespace: 'Not Valid', keys: [] }) },
      { value: null },
    ],
  });
  await broker.publish(event('replica-m', 'after', 1));

  await inbox.waitForEvents(1, 'after the malformed ones');
  t.is(inbox.deliveries.length, 4);
  t.is(inbox.errors.length, 3);
  t.regex(inbox.errors[0]?.message ?? '', /not JSON/);
  t.regex(inbox.errors[1]?.message ?? '', /not an event/);
  t.regex(inbox.errors[2]?.message ?? '', /no value/);
  t.deepEqual(sequences(inbox.events, 'replica-m', 'after'), [1]);
  t.is(broker.status(), 'up');
});

test('Kafka paused or killed: down, publish rejects in bounded time; back: up, resubscribed, fan-out again', async (t) => {
  // Its own Kafka: killing the shared one would break the other tests.
  let started = Date.now();
  const kafka = await startKafka();
  t.teardown(() => kafka.stop());
  t.log(`Kafka started in ${Date.now() - started} ms`);

  const topic = 'outage';
  const a = newBroker(kafka.brokers, topic, 'replica-a');
  const b = newBroker(kafka.brokers, topic, 'replica-b');
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const resubscribed = { a: 0, b: 0 };
  a.onResubscribed(() => (resubscribed.a += 1));
  b.onResubscribed(() => (resubscribed.b += 1));
  const inboxA = new Inbox();
  const inboxB = new Inbox();
  await Promise.all([a.subscribe(inboxA.handler), b.subscribe(inboxB.handler)]);
  await waitUntil(() => a.status() === 'up' && b.status() === 'up', DELIVERY_TIMEOUT_MS, 'status up');
  await a.publish(event('replica-a', 'before', 1));
  await Promise.all([inboxA.waitForEvents(1, 'at a'), inboxB.waitForEvents(1, 'at b')]);

  // Paused (SIGSTOP): sockets stay open but nothing answers, the case where a client could hang.
  kafka.pause();
  started = Date.now();
  await t.throwsAsync(a.publish(event('replica-a', 'paused', 1)), { name: 'PublishTimeoutError' });
  t.log(`publish to a paused Kafka rejected after ${Date.now() - started} ms`);
  t.true(Date.now() - started < PUBLISH_BOUND_MS);
  t.is(a.status(), 'down');
  kafka.resume();
  const resumedAfter = await waitUntil(
    () => a.status() === 'up' && b.status() === 'up',
    RECOVERY_TIMEOUT_MS,
    'status up after resume',
  );
  t.log(`status up again ${resumedAfter} ms after resume`);
  // Both consumers work again (a session may have expired during the pause: they rejoin first).
  await b.publish(event('replica-b', 'resumed', 1));
  await waitUntil(
    () => [inboxA, inboxB].every((inbox) => inbox.events.some((e) => e.namespace === 'resumed')),
    RECOVERY_TIMEOUT_MS,
    'an event published after resume, at both',
  );
  await waitUntil(() => a.status() === 'up' && b.status() === 'up', RECOVERY_TIMEOUT_MS, 'status up');
  const beforeKill = { ...resubscribed };

  await kafka.kill();
  const downAfter = await waitUntil(
    () => a.status() === 'down' && b.status() === 'down',
    DELIVERY_TIMEOUT_MS,
    'status down on both',
  );
  t.log(`status down ${downAfter} ms after the kill`);

  started = Date.now();
  await t.throwsAsync(a.publish(event('replica-a', 'during', 1)));
  const rejectedAfter = Date.now() - started;
  t.log(`publish rejected after ${rejectedAfter} ms`);
  t.true(rejectedAfter < PUBLISH_BOUND_MS, `publish took ${rejectedAfter} ms`);
  t.is(a.status(), 'down');

  started = Date.now();
  await kafka.restart();
  t.log(`Kafka restarted in ${Date.now() - started} ms`);
  const upAfter = await waitUntil(
    () => a.status() === 'up' && b.status() === 'up',
    RECOVERY_TIMEOUT_MS,
    'status up on both',
  );
  t.log(`status up again ${upAfter} ms after Kafka answered`);
  t.true(resubscribed.a > beforeKill.a, 'a resubscribed');
  t.true(resubscribed.b > beforeKill.b, 'b resubscribed');

  // Right after a restart the partition may still be electing its leader; the data plane's
  // publisher retries such failures, and so does this test, within a bound.
  started = Date.now();
  await publishWithin(a, event('replica-a', 'after', 1), RECOVERY_TIMEOUT_MS);
  await publishWithin(b, event('replica-b', 'after', 1), RECOVERY_TIMEOUT_MS);
  t.log(`first publishes after recovery took ${Date.now() - started} ms`);
  for (const [name, inbox] of [
    ['a', inboxA],
    ['b', inboxB],
  ] as const) {
    await waitUntil(
      () => inbox.events.filter((e) => e.namespace === 'after').length === 2,
      DELIVERY_TIMEOUT_MS,
      `both post-recovery events at ${name}`,
    );
    t.deepEqual(sequences(inbox.events, 'replica-a', 'after'), [1]);
    t.deepEqual(sequences(inbox.events, 'replica-b', 'after'), [1]);
    t.deepEqual(sequences(inbox.events, 'replica-a', 'during'), [], 'the rejected event never arrives');
  }
});

async function publishWithin(
  broker: KafkaBroker,
  published: InvalidationEvent,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await broker.publish(published);
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
