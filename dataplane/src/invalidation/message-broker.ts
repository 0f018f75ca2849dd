import type { InvalidationEvent } from './invalidation-event.ts';

/** `disabled`: no broker configured (single-replica mode). */
export type BrokerStatus = 'disabled' | 'connecting' | 'up' | 'down';

/** What a broker delivers: an event, or a message that did not parse (counted, then ignored). */
export type Delivery = { event: InvalidationEvent } | { error: Error };

/**
 * Fan-out transport for invalidation events (SEED-DESIGN "Message Broker Interface"): every
 * subscribed replica receives every event published on the topic, its own included. Implementations
 * reconnect by themselves and never queue without bound.
 */
export interface MessageBroker {
  readonly kind: 'kafka' | 'rabbitmq';
  /**
   * Starts consuming from now on (not from history). `handler` is awaited per message, in order.
   * Resolves once the subscription is in place.
   */
  subscribe(handler: (delivery: Delivery) => Promise<void>): Promise<void>;
  /** Publishes one event; rejects when the broker cannot take it (the caller decides on retries). */
  publish(event: InvalidationEvent): Promise<void>;
  status(): BrokerStatus;
  /**
   * Called whenever the consuming side lost its connection or subscription and got it back: events
   * published in between may never arrive.
   */
  onResubscribed(listener: () => void): void;
  close(): Promise<void>;
}

export interface BrokerConfig {
  type: 'kafka' | 'rabbitmq';
  /** Kafka: `host:port` brokers; RabbitMQ: one `amqp://` URL. */
  urls: string[];
  topic: string;
  groupId: string;
  /** This replica's id: the origin of its events, and part of its queue / consumer-group name. */
  replicaId: string;
  connectTimeoutMs: number;
}
