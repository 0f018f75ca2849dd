import type { Logger } from '../observability/logger.ts';
import { KafkaBroker } from './kafka-broker.ts';
import type { BrokerConfig, MessageBroker } from './message-broker.ts';
import { RabbitMqBroker } from './rabbitmq-broker.ts';

/** The MessageBroker for BROKER_TYPE. */
export function createBroker(config: BrokerConfig, logger: Logger): MessageBroker {
  const brokerLogger = logger.child({ broker: config.type });
  return config.type === 'kafka'
    ? new KafkaBroker(config, { logger: brokerLogger })
    : new RabbitMqBroker(config, { logger: brokerLogger });
}
