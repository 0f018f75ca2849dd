import { startKafka } from '../support/kafka-harness.ts';
import { invalidationScenarios } from './invalidation-scenarios.ts';

invalidationScenarios({
  type: 'kafka',
  start: async () => {
    const kafka = await startKafka();
    return {
      urls: kafka.brokers,
      kill: () => kafka.kill(),
      restart: () => kafka.restart(),
      stop: () => kafka.stop(),
    };
  },
});
