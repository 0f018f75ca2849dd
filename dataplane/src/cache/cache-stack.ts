import type { CircuitState } from '../resilience/circuit-breaker.ts';
import type { Config, RedisConfig } from '../config/config.ts';
import { createLocalStore } from '../local/create-local-store.ts';
import type { LocalStore } from '../local/local-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { createRedisClient, waitUntilReady, type RedisClient } from '../redis/connect.ts';
import { GuardedRemote, isAvailabilityFailure } from '../redis/guarded-remote.ts';
import { RedisStore } from '../redis/redis-store.ts';
import { OpossumBreaker } from '../resilience/opossum-breaker.ts';
import { NO_INVALIDATION, type Invalidation } from '../invalidation/invalidation.ts';
import { DegradedReplayer } from './degraded-replayer.ts';
import type { CacheLimits } from './limits.ts';
import { NamespacedCache } from './namespaced-cache.ts';
import { WriteJournal, type WriteJournalLimits } from './write-journal.ts';

/** The cache service and the parts it is made of, for wiring, health and tests. */
export interface CacheStack {
  cache: NamespacedCache;
  local: LocalStore | undefined;
  remote: GuardedRemote | undefined;
  /** The ioredis client behind `remote`. */
  redisClient: RedisClient | undefined;
  journal: WriteJournal;
  replayer: DegradedReplayer | undefined;
  /** Stops the replayer (after a last replay attempt) and disconnects from Redis. */
  close(): Promise<void>;
}

/** What one cache stack is made of: the data plane's (static) or one namespace's (kubernetes). */
export interface CacheStackSettings {
  limits: CacheLimits;
  /** Undefined: no local cache (then `redis` is required). */
  localCache: { maxEntries: number; maxBytes: number; policy: 'lru' | 'lfu' } | undefined;
  journal: WriteJournalLimits;
  /** Undefined: no Redis, the local cache is the store (embedded). */
  redis: RedisConfig | undefined;
}

export interface CacheStackHooks {
  invalidation?: Invalidation;
  /** Told of every Redis connection error, besides the warning logged. */
  onRedisError?: (error: Error) => void;
  /** What the breaker gauge shows after a transition of this stack's breaker; default: its state. */
  breakerGauge?: () => CircuitState;
}

/** Builds the cache service from configuration: local store, Redis behind its breaker, replay. */
export async function buildCacheStack(
  config: Config,
  metrics: Metrics,
  logger: Logger,
  invalidation: Invalidation = NO_INVALIDATION,
): Promise<CacheStack> {
  const stack = await assembleCacheStack(
    {
      limits: config.cache,
      localCache: config.cache.localEnabled
        ? {
            maxEntries: config.cache.localMaxEntries,
            maxBytes: config.cache.maxMemoryBytes,
            policy: config.cache.evictionPolicy,
          }
        : undefined,
      journal: {
        maxEntries: config.cache.degradedMaxPending,
        maxBytes: config.cache.degradedMaxPendingBytes,
      },
      redis: config.redis,
    },
    metrics,
    logger,
    { invalidation },
  );
  const { local, journal } = stack;
  metrics.trackGauges({
    localEntries: () => local?.size ?? 0,
    localBytes: () => local?.bytes ?? 0,
    pendingWrites: () => journal.size,
  });
  return stack;
}

/**
 * Builds one cache stack: local store, Redis behind its own breaker, journal and replayer. Waits up
 * to the dial timeout for Redis, then serves degraded until it is reachable. Registers no gauges:
 * whoever owns the stacks reports them.
 */
export async function assembleCacheStack(
  settings: CacheStackSettings,
  metrics: Metrics,
  logger: Logger,
  hooks: CacheStackHooks = {},
): Promise<CacheStack> {
  const invalidation = hooks.invalidation ?? NO_INVALIDATION;
  const journal = new WriteJournal(settings.journal);
  const local =
    settings.localCache === undefined
      ? undefined
      : createLocalStore({ ...settings.localCache, onEvict: (reason) => metrics.localEviction(reason) });

  const redisConfig = settings.redis;
  const redis =
    redisConfig === undefined ? undefined : await connectRedis(redisConfig, metrics, logger, hooks);
  const remote = redis?.remote;
  const cache = new NamespacedCache({
    limits: settings.limits,
    local,
    remote,
    journal,
    metrics,
    brokerStatus: () => invalidation.status(),
    onChange: invalidation.onChange,
    nearCacheTrusted: invalidation.nearCacheTrusted,
  });
  const replayer =
    remote === undefined || redisConfig === undefined
      ? undefined
      : new DegradedReplayer({
          journal,
          remote,
          local,
          metrics,
          logger,
          intervalMs: redisConfig.replayIntervalMs,
        });
  replayer?.start();

  return {
    cache,
    local,
    remote,
    redisClient: redis?.client,
    journal,
    replayer,
    close: async () => {
      replayer?.stop();
      await replayer?.runOnce();
      remote?.breaker.shutdown();
      await remote?.store.close();
    },
  };
}

async function connectRedis(
  config: RedisConfig,
  metrics: Metrics,
  logger: Logger,
  { onRedisError, breakerGauge }: CacheStackHooks,
): Promise<{ client: RedisClient; remote: GuardedRemote }> {
  const client = createRedisClient(config, {
    onError: (error) => {
      logger.warn({ err: error.message }, 'redis connection error');
      onRedisError?.(error);
    },
  });
  try {
    await waitUntilReady(client, config.dialTimeoutMs);
  } catch (error) {
    // Start anyway: the breaker and the local fallback serve until Redis is reachable.
    logger.error(
      { err: (error as Error).message },
      'redis not reachable at start; serving degraded until it is',
    );
  }
  const breaker = new OpossumBreaker(config.breaker, isAvailabilityFailure);
  breaker.onStateChange((state) => {
    metrics.breakerState(state, breakerGauge?.() ?? state);
    logger.warn({ breakerState: state }, `redis circuit breaker ${state}`);
  });
  return { client, remote: new GuardedRemote(new RedisStore(client), breaker, metrics) };
}
