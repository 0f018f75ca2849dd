// RabbitMQ transport for invalidation events.
//
// Topology: one durable `fanout` exchange named after the topic, and one queue per replica
// (`<groupId>.<replicaId>`) bound to it. A fanout exchange copies every message into every bound
// queue, so every replica receives every event, its own included (the interface asks for that).
// The queues are exclusive, auto-delete and non-durable: an invalidation is only worth something
// while the replica that would apply it is alive, so a queue lives exactly as long as its replica's
// connection, and a crashed or scaled-down replica leaves nothing behind to fill up. The flip side:
// events published while a replica is disconnected are lost for it, which is what
// `onResubscribed` reports after every reconnect.
//
// Consuming uses manual acks with a prefetch window rather than noAck: with noAck the broker
// pushes messages as fast as the socket takes them, so a slow handler would buffer without bound
// in this process; with a prefetch the backlog stays in the broker's queue, which is capped
// (`maxQueuedMessages`, oldest dropped first: receivers notice the gap in sequence numbers).
// Acks are not about redelivery (the queue dies with the connection anyway).
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import type { Logger } from '../observability/logger.ts';
import { decodeEvent, encodeEvent, type InvalidationEvent } from './invalidation-event.ts';
import type { BrokerConfig, BrokerStatus, Delivery, MessageBroker } from './message-broker.ts';

type Handler = (delivery: Delivery) => Promise<void>;

export interface RabbitMqBrokerOptions {
  logger?: Pick<Logger, 'info' | 'warn'>;
  /** First reconnect delay; doubles per failed attempt up to `maxReconnectDelayMs`. */
  minReconnectDelayMs?: number;
  maxReconnectDelayMs?: number;
  /**
   * AMQP heartbeat in seconds, unless the URL sets `?heartbeat=`: a broker that stops answering
   * (but keeps the socket open) is noticed after about twice this.
   */
  heartbeatSeconds?: number;
  /** Messages handed to this process before they are acked (they are still handled in order). */
  prefetch?: number;
  /** Cap of this replica's queue in the broker; past it the oldest messages are dropped. */
  maxQueuedMessages?: number;
}

/** One connection with its channels; replaced as a whole when anything in it fails. */
interface Session {
  model: ChannelModel;
  publisher: ConfirmChannel;
  /** Set once this session started consuming (at most once per session). */
  consuming: boolean;
}

/** A connection attempt; `abandoned` once it timed out, so that a late connection gets closed. */
interface Attempt {
  abandoned: boolean;
  model: ChannelModel | undefined;
}

export class RabbitMqBroker implements MessageBroker {
  readonly kind = 'rabbitmq';
  readonly #config: BrokerConfig;
  readonly #url: string;
  readonly #queue: string;
  readonly #options: Required<Omit<RabbitMqBrokerOptions, 'logger'>>;
  readonly #logger: Pick<Logger, 'info' | 'warn'> | undefined;
  readonly #resubscribedListeners: (() => void)[] = [];
  #status: 'connecting' | 'up' | 'down' = 'connecting';
  #session: Session | undefined;
  #handler: Handler | undefined;
  /** Set while subscribe() waits: the first session that consumes resolves it instead of notifying. */
  #pendingSubscribe: (() => void) | undefined;
  /** Deliveries are handled one after another, across sessions too. */
  #handling: Promise<void> = Promise.resolve();
  #reconnecting = false;
  #wakeUp: (() => void) | undefined;
  #closed = false;

  /** Starts connecting right away, in the background; `status()` tells how far it got. */
  constructor(config: BrokerConfig, options: RabbitMqBrokerOptions = {}) {
    const [url, ...others] = config.urls;
    if (url === undefined || others.length > 0) {
      throw new Error('RabbitMQ broker takes exactly one amqp:// URL');
    }
    const { logger, ...rest } = options;
    this.#config = config;
    this.#logger = logger;
    this.#options = {
      minReconnectDelayMs: 100,
      maxReconnectDelayMs: 1000,
      heartbeatSeconds: 5,
      prefetch: 32,
      maxQueuedMessages: 100_000,
      ...rest,
    };
    this.#url = withDefaultHeartbeat(url, this.#options.heartbeatSeconds);
    this.#queue = `${config.groupId}.${config.replicaId}`;
    void this.#reconnect();
  }

  status(): BrokerStatus {
    return this.#status;
  }

  onResubscribed(listener: () => void): void {
    this.#resubscribedListeners.push(listener);
  }

  /**
   * Resolves once this replica's queue is consuming. Rejects when that takes longer than
   * `connectTimeoutMs` (broker unreachable); the handler stays registered and consuming starts
   * with the next connection, reported through `onResubscribed` since events were missed.
   */
  async subscribe(handler: Handler): Promise<void> {
    if (this.#closed) throw new Error('RabbitMQ broker is closed');
    if (this.#handler !== undefined) throw new Error('RabbitMQ broker already has a subscriber');
    this.#handler = handler;
    const subscribed = new Promise<void>((resolve) => (this.#pendingSubscribe = resolve));
    if (this.#session !== undefined) void this.#startConsuming(this.#session);
    try {
      await withTimeout(
        subscribed,
        this.#config.connectTimeoutMs,
        `RabbitMQ subscription not in place within ${this.#config.connectTimeoutMs} ms; retrying in the background`,
      );
    } finally {
      this.#pendingSubscribe = undefined;
    }
  }

  /** Resolves once the broker confirmed the event; never queues (rejects unless connected). */
  async publish(event: InvalidationEvent): Promise<void> {
    const session = this.#session;
    if (session === undefined || this.#status !== 'up') {
      throw new Error(`RabbitMQ broker is ${this.#status}: event not published`);
    }
    const content = encodeEvent(event);
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        // Not persistent: an invalidation nobody receives live is worthless later.
        session.publisher.publish(
          this.#config.topic,
          '',
          content,
          { persistent: false, contentType: 'application/json' },
          (error: unknown) => (error ? reject(asError(error, 'RabbitMQ refused the event')) : resolve()),
        );
      }),
      this.#config.connectTimeoutMs,
      `RabbitMQ did not confirm the event within ${this.#config.connectTimeoutMs} ms`,
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#status = 'down';
    this.#wakeUp?.();
    const session = this.#session;
    this.#session = undefined;
    if (session !== undefined) await closeQuietly(session.model, this.#config.connectTimeoutMs);
  }

  // -------------------------------------------------------------------------------------------
  // Connection management

  /** Connects, retrying with capped exponential backoff (with jitter) until it works or close(). */
  async #reconnect(): Promise<void> {
    if (this.#reconnecting) return;
    this.#reconnecting = true;
    let delay = this.#options.minReconnectDelayMs;
    try {
      while (!this.#closed) {
        try {
          const session = await this.#open();
          if (this.#closed) {
            await closeQuietly(session.model, this.#config.connectTimeoutMs);
            return;
          }
          this.#up(session);
          return;
        } catch (error) {
          if (this.#closed) return;
          this.#status = 'down';
          this.#logger?.warn(
            { err: (error as Error).message, retryInMs: delay },
            'RabbitMQ connection failed',
          );
        }
        // Jitter (downwards, so the cap holds): replicas that lost the same broker should not all
        // come back at the same instant.
        await this.#sleep(delay * (1 - Math.random() * 0.2));
        delay = Math.min(delay * 2, this.#options.maxReconnectDelayMs);
      }
    } finally {
      this.#reconnecting = false;
    }
  }

  #up(session: Session): void {
    this.#session = session;
    this.#status = 'up';
    this.#logger?.info({ queue: this.#queue }, 'RabbitMQ connection up');
    if (session.consuming) this.#subscribed();
    // subscribe() was called while this session was being set up.
    else if (this.#handler !== undefined) void this.#startConsuming(session);
  }

  /** Connection, confirm channel, exchange and (when subscribed) the consumer, within the timeout. */
  async #open(): Promise<Session> {
    const attempt: Attempt = { abandoned: false, model: undefined };
    try {
      return await withTimeout(
        this.#setUp(attempt),
        this.#config.connectTimeoutMs,
        `RabbitMQ connection not set up within ${this.#config.connectTimeoutMs} ms`,
      );
    } catch (error) {
      attempt.abandoned = true;
      if (attempt.model !== undefined) void closeQuietly(attempt.model, this.#config.connectTimeoutMs);
      throw error;
    }
  }

  async #setUp(attempt: Attempt): Promise<Session> {
    // noDelay: invalidations are small and latency-bound; Nagle would hold them for a delayed ACK.
    const model = await connect(this.#url, { timeout: this.#config.connectTimeoutMs, noDelay: true });
    attempt.model = model;
    // Without an 'error' listener an emitter's error would crash the process; 'close' follows it.
    model.on('error', (error: Error) =>
      this.#logger?.warn({ err: error.message }, 'RabbitMQ connection error'),
    );
    if (attempt.abandoned) {
      void closeQuietly(model, this.#config.connectTimeoutMs);
      throw new Error('connection attempt abandoned');
    }
    model.on('close', (error?: Error) => this.#lost(model, error ?? new Error('connection closed')));
    model.on('blocked', (reason: string) => this.#logger?.warn({ reason }, 'RabbitMQ blocks publishing'));
    model.on('unblocked', () => this.#logger?.info('RabbitMQ unblocked publishing'));
    const publisher = await model.createConfirmChannel();
    this.#watchChannel(model, publisher);
    await publisher.assertExchange(this.#config.topic, 'fanout', { durable: true });
    const session: Session = { model, publisher, consuming: false };
    if (this.#handler !== undefined) {
      session.consuming = true;
      await this.#consume(model);
    }
    return session;
  }

  /** Starts consuming on a session that is already up; a failure replaces the session. */
  async #startConsuming(session: Session): Promise<void> {
    if (session.consuming) return;
    session.consuming = true;
    try {
      await this.#consume(session.model);
    } catch (error) {
      this.#lost(session.model, error);
      return;
    }
    this.#subscribed();
  }

  async #consume(model: ChannelModel): Promise<void> {
    const channel = await model.createChannel();
    this.#watchChannel(model, channel);
    await channel.assertExchange(this.#config.topic, 'fanout', { durable: true });
    await channel.assertQueue(this.#queue, {
      exclusive: true,
      autoDelete: true,
      durable: false,
      maxLength: this.#options.maxQueuedMessages,
    });
    await channel.bindQueue(this.#queue, this.#config.topic, '');
    await channel.prefetch(this.#options.prefetch);
    await channel.consume(this.#queue, (message) => this.#onMessage(model, channel, message), {
      noAck: false,
    });
  }

  /** The consumer is in place: either subscribe() is waiting for it, or events were missed. */
  #subscribed(): void {
    if (this.#pendingSubscribe !== undefined) {
      this.#pendingSubscribe();
      this.#pendingSubscribe = undefined;
      return;
    }
    for (const listener of this.#resubscribedListeners) {
      try {
        listener();
      } catch (error) {
        this.#logger?.warn({ err: (error as Error).message }, 'onResubscribed listener failed');
      }
    }
  }

  /** A channel closed by the broker (or failing) leaves the session half-working: replace it all. */
  #watchChannel(model: ChannelModel, channel: Channel): void {
    channel.on('error', (error: Error) =>
      this.#logger?.warn({ err: error.message }, 'RabbitMQ channel error'),
    );
    channel.on('close', () => this.#lost(model, new Error('channel closed')));
  }

  #lost(model: ChannelModel, error: unknown): void {
    const session = this.#session;
    if (this.#closed || session?.model !== model) return;
    this.#session = undefined;
    this.#status = 'down';
    this.#logger?.warn(
      { err: (error as Error | undefined)?.message },
      'RabbitMQ connection lost; reconnecting',
    );
    void closeQuietly(model, this.#config.connectTimeoutMs);
    void this.#reconnect();
  }

  // -------------------------------------------------------------------------------------------
  // Consuming

  #onMessage(model: ChannelModel, channel: Channel, message: ConsumeMessage | null): void {
    if (message === null) {
      // The broker cancelled the consumer (queue deleted): resubscribe on a fresh session.
      this.#lost(model, new Error('consumer cancelled by RabbitMQ'));
      return;
    }
    const handler = this.#handler;
    if (handler === undefined) return;
    this.#handling = this.#handling.then(async () => {
      if (this.#closed) return;
      try {
        await handler(toDelivery(message.content));
      } catch (error) {
        this.#logger?.warn({ err: (error as Error).message }, 'invalidation handler failed');
      }
      try {
        channel.ack(message);
      } catch {
        // The channel is gone, and so is the queue: nothing would be redelivered anyway.
      }
    });
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wakeUp = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wakeUp = done;
    });
  }
}

function toDelivery(content: Buffer): Delivery {
  try {
    return { event: decodeEvent(content) };
  } catch (error) {
    return { error: error as Error };
  }
}

function withDefaultHeartbeat(url: string, seconds: number): string {
  const parsed = new URL(url);
  if (parsed.searchParams.has('heartbeat')) return url;
  parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function closeQuietly(model: ChannelModel, timeoutMs: number): Promise<void> {
  try {
    await withTimeout(model.close(), timeoutMs, 'close timed out');
  } catch {
    // already closed, or the broker is gone: either way nothing is left to release
  }
}

function asError(error: unknown, fallback: string): Error {
  return error instanceof Error ? error : new Error(fallback);
}
