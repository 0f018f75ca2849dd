// The cache service as the data plane builds it (buildCacheStack), against real Redis, for
// service-level tests. Several stacks on one Redis act as several replicas.
import fc from 'fast-check';
import { buildCacheStack, type CacheStack } from '../../src/cache/cache-stack.ts';
import type { RequestContext } from '../../src/cache/types.ts';
import { loadConfig } from '../../src/config/config.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { PrometheusMetrics } from '../../src/observability/metrics.ts';
import type { RedisClusterHandle, RedisServerHandle } from './redis-harness.ts';

export type TestStack = CacheStack & { metrics: PrometheusMetrics };

export const ctx: RequestContext = { correlationId: 'test', logger: createLogger('silent') };

/** Fixed seed and at least 100 runs for every property (SEED-DESIGN "Test Configuration"). */
export const PROPERTY_RUNS = { numRuns: 100, seed: 12345, includeErrorInReport: true } as const;

export function standaloneEnv(server: RedisServerHandle): Record<string, string> {
  return { REDIS_ADDRESSES: server.address };
}

export function clusterEnv(cluster: RedisClusterHandle): Record<string, string> {
  return { REDIS_ADDRESSES: cluster.addresses.join(','), REDIS_CLUSTER_MODE: 'true' };
}

export async function buildTestStack(env: Record<string, string>): Promise<TestStack> {
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    REDIS_READ_TIMEOUT: '500ms',
    REDIS_WRITE_TIMEOUT: '500ms',
    ...env,
  });
  const metrics = new PrometheusMetrics({ defaultMetrics: false });
  const stack = await buildCacheStack(config, metrics, createLogger('silent'));
  return Object.assign(stack, { metrics });
}

let namespaceCounter = 0;
/** A namespace no other run has used, so runs never see each other's keys. */
export function freshNamespace(prefix: string): string {
  namespaceCounter += 1;
  return `${prefix}-${process.pid}-${namespaceCounter}`;
}

/** Keys as users write them, including the characters Redis gives meaning to (`{`, `}`, `:`, `*`). */
export const keyArbitrary = fc.oneof(
  // eslint-disable-next-line no-control-regex
  fc.string({ minLength: 1, maxLength: 40 }).filter((key) => !/[\u0000-\u001f\u007f]/.test(key)),
  fc.constantFrom('{tag}', 'a{b}c', '{}', '%7B', 'x:y', '*', '?', '[a]', 'key with spaces', 'ключ', '🔑'),
);

export const valueArbitrary = fc.uint8Array({ maxLength: 2048 }).map((bytes) => Buffer.from(bytes));

/** The sum of a counter's samples whose labels include `labels`. */
export async function counterValue(
  metrics: PrometheusMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? [])
    .filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels[label] === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}
