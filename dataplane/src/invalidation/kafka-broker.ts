// Kafka transport for invalidation events, over kafkajs.
//
// Fan-out: every replica consumes with its own consumer group, `<groupId>.<replicaId>`. Kafka hands
// each partition to one member of a group, so replicas sharing a group would split the events
// between them; a group per replica gives every replica every event, its own included. A group
// starts at the end of the topic when subscribe() is called (`fromBeginning: false`, pinned by a
// seek): a replica cares about changes from now on, not about history its fresh local cache never
// saw. After that it resumes from its committed offsets, so a consumer that lost Kafka and came
// back still gets what was published in between, as long as it is in the log. The cost: a replica
// that goes away for good leaves its group behind. Kafka drops an empty group's offsets after
// `offsets.retention.minutes` (7 days by default), so orphans are cleaned up, only not at once.
//
// Producing: key = namespace, so one namespace's events land in one partition. kafkajs does not keep
// concurrent send() calls in order (nor a retried request before a later one), and a receiver takes
// a reordered namespace for a gap and drops it: so one produce request is in flight at a time, and
// it carries every publish that arrived meanwhile, in call order (batching keeps the throughput).
// acks = -1 (all in-sync replicas): an invalidation lost with a failing leader leaves stale entries
// in the other replicas' caches, which costs more than a few ms of replication. Retries are few,
// every request has a timeout, publish() has a deadline on top, and the publishes waiting for the
// request in flight are capped: publish fails fast and the caller (InvalidationPublisher) decides.
//
// Health: 'up' while the producer is connected and the consumer is in its group; 'down' as soon as
// a publish fails for lack of a connection (until a publish, a fetch or a join works again), or
// when kafkajs crashes the consumer, which is how it reports a lost broker once its (bounded)
// retries are spent. kafkajs may restart a
// crashed consumer itself, but not after every error (`restart: false`) and without backoff; here
// it never does (`restartOnFailure` says no) and the adapter replaces the consumer itself, with
// capped exponential backoff. The first join of a replacement is reported through onResubscribed.
import { setTimeout as sleep } from 'node:timers/promises';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type LogEntry,
  type Producer,
  type RetryOptions,
} from 'kafkajs';
import type { Logger } from '../observability/logger.ts';
import { decodeEvent, encodeEvent, type InvalidationEvent } from './invalidation-event.ts';
import type { BrokerConfig, BrokerStatus, Delivery, MessageBroker } from './message-broker.ts';

type Handler = (delivery: Delivery) => Promise<void>;
type BrokerLogger = Pick<Logger, 'info' | 'warn'>;

export interface KafkaBrokerOptions {
  /** Gets state changes, and kafkajs' own errors (but not every failed connection attempt). */
  logger?: BrokerLogger;
  /**
   * Consumer-group session: a member that stops heartbeating is dropped after this. It also bounds
   * how long a rejoin waits after Kafka restarts (the group still lists the old member until its
   * session expires). Kafka's `group.min.session.timeout.ms` (6 s by default) is the floor.
   */
  sessionTimeoutMs?: number;
  /** kafkajs retries per operation before giving up (publish rejects, the consumer crashes). */
  retries?: number;
  /**
   * First delay before connecting the producer again or replacing a crashed consumer; doubles per
   * failed attempt up to the max.
   */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /** Hard deadline of one publish, whatever kafkajs is doing; default 3 × connectTimeoutMs. */
  publishTimeoutMs?: number;
  /** Publishes waiting for the produce request in flight; past this, publish rejects at once. */
  maxPendingPublishes?: number;
}

/** A publish waiting for its produce request. */
interface Outgoing {
  message: { key: string; value: Buffer };
  settle: (error?: Error) => void;
}

/**
 * How long an idle fetch waits on Kafka. Data is returned as soon as there is some, so this only
 * sets the pace of empty polls, and how long a consumer takes to stop (close waits for the fetch).
 */
const FETCH_MAX_WAIT_MS = 1000;

/** Kafka refuses record batches over `message.max.bytes` (1 MiB by default): stay well below. */
const MAX_BATCH_BYTES = 256 * 1024;

interface PartitionOffset {
  partition: number;
  offset: string;
}

/** kafkajs error names that mean "no usable connection", as opposed to a refused message. */
const CONNECTIVITY_ERRORS = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSLockTimeout',
  'KafkaJSMetadataNotLoaded',
  'PublishTimeoutError',
]);

/** kafkajs loggers that report single connection attempts. */
const SOCKET_LOG_NAMESPACES = new Set(['Connection', 'BrokerPool']);

export class KafkaBroker implements MessageBroker {
  readonly kind = 'kafka';
  readonly #config: BrokerConfig;
  readonly #options: Required<Omit<KafkaBrokerOptions, 'logger'>>;
  readonly #logger: BrokerLogger | undefined;
  readonly #kafka: Kafka;
  readonly #producer: Producer;
  readonly #retry: RetryOptions;
  readonly #resubscribedListeners: (() => void)[] = [];
  /** Cancels the producer's connect loop on close(). */
  readonly #closing = new AbortController();
  #producerConnected = false;
  readonly #outgoing: Outgoing[] = [];
  #sending = false;
  /** A publish failed for lack of a connection; cleared by a later success, a join or a fetch. */
  #producerFailing = false;
  #handler: Handler | undefined;
  /** The current consumer; events of replaced ones are ignored. */
  #consumer: Consumer | undefined;
  #consumerUp = false;
  /** End offsets taken for the first join: where this replica's group starts. */
  #seekOnJoin: PartitionOffset[] | undefined;
  #joinedOnce = false;
  #lostSinceJoin = false;
  /** Set while subscribe() waits: the first join resolves it instead of notifying. */
  #pendingSubscribe: (() => void) | undefined;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartDelayMs: number;
  /** Something failed once (connect, consumer, publish): not being up from then on means down. */
  #failedOnce = false;
  #closed = false;

  /** Starts connecting the producer right away, in the background; `status()` tells how far. */
  constructor(config: BrokerConfig, options: KafkaBrokerOptions = {}) {
    if (config.urls.length === 0) throw new Error('Kafka broker needs at least one host:port');
    const { logger, ...rest } = options;
    this.#config = config;
    this.#logger = logger;
    this.#options = {
      sessionTimeoutMs: 10_000,
      retries: 2,
      minReconnectDelayMs: 250,
      maxReconnectDelayMs: 2000,
      publishTimeoutMs: 3 * config.connectTimeoutMs,
      maxPendingPublishes: 1000,
      ...rest,
    };
    this.#restartDelayMs = this.#options.minReconnectDelayMs;
    this.#retry = { retries: this.#options.retries, initialRetryTime: 100, maxRetryTime: 1000 };
    this.#kafka = new Kafka({
      clientId: `cacheplane-${config.replicaId}`,
      brokers: config.urls,
      connectionTimeout: config.connectTimeoutMs,
      requestTimeout: config.connectTimeoutMs,
      retry: this.#retry,
      logLevel: logLevel.ERROR,
      logCreator: () => (entry) => this.#kafkaLog(entry),
    });
    this.#producer = this.#kafka.producer({
      allowAutoTopicCreation: true,
      retry: this.#retry,
      // The v2 default partitioner, named so kafkajs does not warn about the v1 → v2 change.
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    void this.#connectProducer();
  }

  status(): BrokerStatus {
    if (this.#closed) return 'down';
    if (this.#isUp()) return 'up';
    // Not up yet without anything having failed: still setting up (first connect, first join).
    return this.#failedOnce ? 'down' : 'connecting';
  }

  onResubscribed(listener: () => void): void {
    this.#resubscribedListeners.push(listener);
  }

  /**
   * Resolves once this replica's consumer is in its group, positioned at the current end of the
   * topic. Rejects when that takes longer than connectTimeoutMs + sessionTimeoutMs; the handler
   * stays registered and consuming starts later, reported through `onResubscribed`.
   */
  async subscribe(handler: Handler): Promise<void> {
    if (this.#closed) throw new Error('Kafka broker is closed');
    if (this.#handler !== undefined) throw new Error('Kafka broker already has a subscriber');
    this.#update(() => (this.#handler = handler));
    const subscribed = new Promise<void>((resolve) => (this.#pendingSubscribe = resolve));
    void this.#startConsumer();
    const timeoutMs = this.#config.connectTimeoutMs + this.#options.sessionTimeoutMs;
    try {
      await withTimeout(
        subscribed,
        timeoutMs,
        () => new Error(`Kafka subscription not in place within ${timeoutMs} ms; retrying in the background`),
      );
    } finally {
      this.#pendingSubscribe = undefined;
    }
  }

  /** Resolves once Kafka acknowledged the event; rejects within publishTimeoutMs otherwise. */
  async publish(event: InvalidationEvent): Promise<void> {
    if (this.#closed) throw new Error('Kafka broker is closed');
    if (!this.#producerConnected) throw new Error(`Kafka broker is ${this.status()}: event not published`);
    if (this.#outgoing.length >= this.#options.maxPendingPublishes) {
      throw new Error(`Kafka broker has ${this.#outgoing.length} publishes pending: event not published`);
    }
    const { publishTimeoutMs } = this.#options;
    let settle: Outgoing['settle'] = () => {};
    const sent = new Promise<void>((resolve, reject) => {
      settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    const outgoing: Outgoing = { message: { key: event.namespace, value: encodeEvent(event) }, settle };
    this.#outgoing.push(outgoing);
    void this.#flush();
    try {
      await withTimeout(sent, publishTimeoutMs, () => publishTimeout(publishTimeoutMs));
    } catch (error) {
      // Timed out still waiting: it must not go out later, after the caller gave it up.
      const index = this.#outgoing.indexOf(outgoing);
      if (index >= 0) this.#outgoing.splice(index, 1);
      if (isConnectivityError(error)) {
        this.#update(() => {
          this.#producerFailing = true;
          this.#failedOnce = true;
        });
      }
      throw error;
    }
    if (this.#producerFailing) this.#update(() => (this.#producerFailing = false));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#closing.abort();
    clearTimeout(this.#restartTimer);
    for (const outgoing of this.#outgoing.splice(0)) outgoing.settle(new Error('Kafka broker is closed'));
    const consumer = this.#consumer;
    this.#consumer = undefined;
    const timeoutMs = this.#config.connectTimeoutMs;
    await Promise.all([
      // Stopping waits for the fetch in flight and the handler, then leaves the group.
      consumer === undefined ? undefined : quietly(consumer.disconnect(), 2 * timeoutMs + FETCH_MAX_WAIT_MS),
      quietly(this.#producer.disconnect(), timeoutMs),
    ]);
  }

  // -------------------------------------------------------------------------------------------
  // Producer

  /** Connects, retrying with capped exponential backoff until it works or close(). */
  async #connectProducer(): Promise<void> {
    let delayMs = this.#options.minReconnectDelayMs;
    while (!this.#closed) {
      try {
        await this.#producer.connect();
        if (this.#closed) return;
        this.#update(() => (this.#producerConnected = true));
        return;
      } catch (error) {
        if (this.#closed) return;
        this.#update(() => (this.#failedOnce = true));
        this.#logger?.warn(
          { err: (error as Error).message, retryInMs: delayMs },
          'Kafka producer cannot connect',
        );
      }
      try {
        await sleep(jitter(delayMs), undefined, { signal: this.#closing.signal });
      } catch {
        return; // closed
      }
      delayMs = Math.min(delayMs * 2, this.#options.maxReconnectDelayMs);
    }
  }

  /** Sends what is waiting, one produce request at a time, in publish order. */
  async #flush(): Promise<void> {
    if (this.#sending) return;
    this.#sending = true;
    try {
      while (this.#outgoing.length > 0) {
        const batch = takeBatch(this.#outgoing);
        try {
          const { topic, connectTimeoutMs } = this.#config;
          const { publishTimeoutMs } = this.#options;
          await withTimeout(
            this.#producer.send({
              topic,
              acks: -1,
              // How long Kafka may wait for the in-sync replicas: answer before the request times out.
              timeout: connectTimeoutMs,
              messages: batch.map((outgoing) => outgoing.message),
            }),
            publishTimeoutMs,
            () => publishTimeout(publishTimeoutMs),
          );
          for (const outgoing of batch) outgoing.settle();
        } catch (error) {
          // A send past its deadline is abandoned, not cancelled: kafkajs' own retries end it, and
          // its events may still arrive (a duplicate invalidation is harmless).
          for (const outgoing of batch) outgoing.settle(error as Error);
        }
      }
    } finally {
      this.#sending = false;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Consumer

  /** A fresh consumer, from its committed offsets (or the start offsets before the first join). */
  async #startConsumer(): Promise<void> {
    this.#restartTimer = undefined;
    if (this.#closed || this.#handler === undefined) return;
    const consumer = this.#kafka.consumer({
      groupId: `${this.#config.groupId}.${this.#config.replicaId}`,
      sessionTimeout: this.#options.sessionTimeoutMs,
      heartbeatInterval: Math.floor(this.#options.sessionTimeoutMs / 3),
      maxWaitTimeInMs: FETCH_MAX_WAIT_MS,
      retry: { ...this.#retry, restartOnFailure: () => Promise.resolve(false) },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, () => this.#joined(consumer));
    consumer.on(consumer.events.CRASH, (event) => this.#crashed(consumer, event.payload.error));
    // A fetch that came back proves Kafka answers again, after a publish failed for lack of it.
    consumer.on(consumer.events.FETCH, () => {
      if (consumer === this.#consumer && this.#producerFailing)
        this.#update(() => (this.#producerFailing = false));
    });
    try {
      if (!this.#joinedOnce && this.#seekOnJoin === undefined) this.#seekOnJoin = await this.#endOffsets();
      await consumer.connect();
      await consumer.subscribe({ topic: this.#config.topic, fromBeginning: false });
      // Resolves after the first join; a failure in there arrives as a CRASH event instead.
      if (!this.#closed) await consumer.run({ eachMessage: (payload) => this.#onMessage(payload) });
      // close() came while this consumer was starting: it may have connected after close() ran.
      if (this.#closed) await quietly(consumer.disconnect(), this.#config.connectTimeoutMs);
    } catch (error) {
      this.#crashed(consumer, error);
    }
  }

  /** The topic's current end, per partition; creates the topic when it does not exist yet. */
  async #endOffsets(): Promise<PartitionOffset[]> {
    const admin = this.#kafka.admin({ retry: this.#retry });
    try {
      await admin.connect();
      await ensureTopic(admin, this.#config.topic, this.#config.connectTimeoutMs);
      const offsets = await admin.fetchTopicOffsets(this.#config.topic);
      return offsets.map(({ partition, offset }) => ({ partition, offset }));
    } finally {
      await quietly(admin.disconnect(), this.#config.connectTimeoutMs);
    }
  }

  /** Runs synchronously inside kafkajs' join, before the first fetch: the seek takes effect there. */
  #joined(consumer: Consumer): void {
    if (consumer !== this.#consumer || this.#closed) return;
    for (const { partition, offset } of this.#seekOnJoin ?? []) {
      consumer.seek({ topic: this.#config.topic, partition, offset });
    }
    this.#seekOnJoin = undefined;
    this.#restartDelayMs = this.#options.minReconnectDelayMs;
    const missedEvents = this.#lostSinceJoin || !this.#joinedOnce;
    this.#joinedOnce = true;
    this.#lostSinceJoin = false;
    this.#update(() => {
      this.#consumerUp = true;
      // Joining proves Kafka is reachable again; the producer reconnects on its next send.
      this.#producerFailing = false;
    });
    if (this.#pendingSubscribe !== undefined) {
      this.#pendingSubscribe();
      this.#pendingSubscribe = undefined;
    } else if (missedEvents) {
      this.#notifyResubscribed();
    }
  }

  #crashed(consumer: Consumer, error: unknown): void {
    if (consumer !== this.#consumer || this.#closed || this.#restartTimer !== undefined) return;
    this.#lostSinceJoin = true;
    this.#update(() => {
      this.#consumerUp = false;
      this.#failedOnce = true;
    });
    // kafkajs disconnects a crashed consumer itself; this also releases a half-done connect().
    void quietly(consumer.disconnect(), this.#config.connectTimeoutMs);
    const delayMs = jitter(this.#restartDelayMs);
    this.#restartDelayMs = Math.min(this.#restartDelayMs * 2, this.#options.maxReconnectDelayMs);
    this.#restartTimer = setTimeout(() => void this.#startConsumer(), delayMs);
    this.#logger?.warn(
      { err: (error as Error).message, restartInMs: delayMs },
      'Kafka consumer stopped; replacing it',
    );
  }

  /** Awaited by kafkajs per message, in order; never throws (that would stall the partition). */
  async #onMessage({ message }: EachMessagePayload): Promise<void> {
    const handler = this.#handler;
    if (handler === undefined) return;
    try {
      await handler(toDelivery(message.value));
    } catch (error) {
      this.#logger?.warn({ err: (error as Error).message }, 'invalidation handler failed');
    }
  }

  #notifyResubscribed(): void {
    for (const listener of this.#resubscribedListeners) {
      try {
        listener();
      } catch (error) {
        this.#logger?.warn({ err: (error as Error).message }, 'onResubscribed listener failed');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Status and logs

  #isUp(): boolean {
    const consumerOk = this.#handler === undefined || this.#consumerUp;
    return this.#producerConnected && !this.#producerFailing && consumerOk;
  }

  /** Applies a state change and logs the status it leads to, if that changed. */
  #update(change: () => void): void {
    const before = this.status();
    change();
    const after = this.status();
    if (before === after || this.#closed) return;
    if (after === 'down') this.#logger?.warn({ topic: this.#config.topic }, 'Kafka broker down');
    else this.#logger?.info({ topic: this.#config.topic }, `Kafka broker ${after}`);
  }

  /**
   * kafkajs' errors (logLevel ERROR filters the rest) go to our logger, as warnings, except the
   * socket-level ones: kafkajs logs every failed connection attempt, and what they amount to is
   * already logged here as down / up and as the consumer's crash reason.
   */
  #kafkaLog({ namespace, log }: LogEntry): void {
    if (SOCKET_LOG_NAMESPACES.has(namespace)) return;
    // Our logger stamps its own time; `logger` is always 'kafkajs'.
    const fields = Object.fromEntries(
      Object.entries(log).filter(([key]) => !['message', 'timestamp', 'logger'].includes(key)),
    );
    this.#logger?.warn({ kafkajs: namespace, ...fields }, log.message);
  }
}

/** Creates the topic (broker defaults for partitions and replicas) unless it exists; true if created. */
export async function createTopicIfMissing(
  brokers: string[],
  topic: string,
  connectTimeoutMs = 5000,
): Promise<boolean> {
  const admin = new Kafka({
    clientId: 'cacheplane-topic-setup',
    brokers,
    connectionTimeout: connectTimeoutMs,
    requestTimeout: connectTimeoutMs,
    logLevel: logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    return await ensureTopic(admin, topic, connectTimeoutMs);
  } finally {
    await quietly(admin.disconnect(), connectTimeoutMs);
  }
}

async function ensureTopic(admin: Admin, topic: string, timeoutMs: number): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic)) return false;
  // Another replica may create it at the same time: kafkajs then answers false, not an error.
  return admin.createTopics({ topics: [{ topic }], waitForLeaders: true, timeout: timeoutMs });
}

function toDelivery(value: Buffer | null): Delivery {
  if (value === null) return { error: new Error('invalidation message has no value') };
  try {
    return { event: decodeEvent(value) };
  } catch (error) {
    return { error: error as Error };
  }
}

function isConnectivityError(error: unknown): boolean {
  for (let cause = error; cause instanceof Error; cause = cause.cause) {
    if (CONNECTIVITY_ERRORS.has(cause.name)) return true;
  }
  return false;
}

/** The oldest waiting publishes, up to MAX_BATCH_BYTES (at least one), removed from `queue`. */
function takeBatch(queue: Outgoing[]): Outgoing[] {
  let bytes = 0;
  let count = 0;
  for (const outgoing of queue) {
    bytes += outgoing.message.value.length + outgoing.message.key.length;
    if (count > 0 && bytes > MAX_BATCH_BYTES) break;
    count += 1;
  }
  return queue.splice(0, count);
}

function publishTimeout(ms: number): Error {
  const error = new Error(`Kafka did not acknowledge the event within ${ms} ms`);
  error.name = 'PublishTimeoutError';
  return error;
}

/** ±20 %: replicas that lost the same broker should not all come back at the same instant. */
function jitter(ms: number): number {
  return Math.round(ms * (0.8 + Math.random() * 0.4));
}

async function withTimeout<T>(promise: Promise<T>, ms: number, timeoutError: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** For shutdown paths: waits at most `ms`, and a failure is as good as done. */
async function quietly(promise: Promise<unknown>, ms: number): Promise<void> {
  try {
    await withTimeout(promise, ms, () => new Error('timed out'));
  } catch {
    // already disconnected, or Kafka is gone: nothing left to release either way
  }
}
