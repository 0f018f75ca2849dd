import { startRabbitMq } from '../support/rabbitmq-harness.ts';
import { invalidationScenarios } from './invalidation-scenarios.ts';

invalidationScenarios({
  type: 'rabbitmq',
  start: async () => {
    const rabbit = await startRabbitMq();
    return {
      urls: [rabbit.url],
      kill: () => rabbit.kill(),
      restart: () => rabbit.restart(),
      stop: () => rabbit.stop(),
    };
  },
});
