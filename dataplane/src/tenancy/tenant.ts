import type { CircuitState } from '../resilience/circuit-breaker.ts';
import { isDeepStrictEqual } from 'node:util';
import { assembleCacheStack, type CacheStack } from '../cache/cache-stack.ts';
import type { CacheLimits } from '../cache/limits.ts';
import type { NamespacedCache } from '../cache/namespaced-cache.ts';
import type { WriteJournalLimits } from '../cache/write-journal.ts';
import type { RedisConfig } from '../config/config.ts';
import type { CacheError } from '../errors.ts';
import type { Invalidation } from '../invalidation/invalidation.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics } from '../observability/metrics.ts';
import { CredentialsRefusal } from './credentials-refusal.ts';
import type { NamespaceEntry } from './namespace-entry.ts';
import type { NamespaceState } from './namespace-registry.ts';
import type { Clock } from './token-bucket.ts';

/** What every namespace's stack shares: the data plane's own configuration and services. */
export interface TenantSettings {
  /** Addresses, cluster, TLS and timeouts; the credentials are each namespace's. Undefined: embedded. */
  redis: RedisConfig | undefined;
  /** CACHE_* limits: a namespace's own can only be stricter; maxBatchSize is always this one. */
  globalLimits: CacheLimits;
  journal: WriteJournalLimits;
  /** `<namespace>/<name>` of the credentials Secret, for messages. */
  credentialsSecret: string;
  invalidation: Invalidation;
  metrics: Metrics;
  logger: Logger;
  /** The clock of the namespaces' rate limits; default: performance.now. */
  now?: Clock | undefined;
  /** What the breaker gauge shows after a namespace's breaker changes state (the router's worst). */
  breakerGauge?: (() => CircuitState) | undefined;
}

/**
 * The stricter of the namespace's limits and the data plane's (operator/README.md); error messages
 * name the CacheNamespace field where the namespace's is the one that applies.
 */
export function effectiveLimits(limits: NamespaceEntry['limits'], global: CacheLimits): CacheLimits {
  const maxTtlMs = Math.min(limits.maxTtlMs, global.maxTtlMs);
  const origins: CacheLimits['origins'] = {};
  if (limits.maxTtlMs < global.maxTtlMs) origins.maxTtlMs = "the CacheNamespace's maxTTL";
  if (limits.maxValueBytes < global.maxValueBytes)
    origins.maxValueBytes = "the CacheNamespace's maxValueBytes";
  if (limits.maxKeyBytes < global.maxKeyBytes) origins.maxKeyBytes = "the CacheNamespace's maxKeyBytes";
  return {
    defaultTtlMs: Math.min(limits.defaultTtlMs, maxTtlMs),
    maxTtlMs,
    maxValueBytes: Math.min(limits.maxValueBytes, global.maxValueBytes),
    maxKeyBytes: Math.min(limits.maxKeyBytes, global.maxKeyBytes),
    maxBatchSize: global.maxBatchSize,
    origins,
  };
}

/** Why no stack can be built for the namespace as it is configured now; undefined when one can. */
export function unservableReason(state: NamespaceState, settings: TenantSettings): string | undefined {
  const { namespace, localCache } = state.entry;
  if (settings.redis === undefined) {
    return localCache.enabled
      ? undefined
      : `namespace "${namespace}" has its local cache disabled and this data plane has no Redis (REDIS_ADDRESSES): there is nowhere to keep its values`;
  }
  if (state.credentials.found) return undefined;
  const keys = state.credentials.missingKeys.map((key) => `"${key}"`).join(' and ');
  return `namespace "${namespace}" has no Redis credentials yet: Secret ${settings.credentialsSecret} lacks ${keys}; calls fail until it has them`;
}

/**
 * One cache namespace's own cache stack (NAMESPACES_SOURCE=kubernetes): its limits, its local store
 * and, with Redis, its own connection authenticated as the namespace's ACL user, behind its own
 * breaker, journal and replayer.
 */
export class Tenant {
  readonly namespace: string;
  readonly #stack: CacheStack;
  readonly #builtFrom: NamespaceState;
  readonly #settings: TenantSettings;
  readonly #refusal: CredentialsRefusal;

  private constructor(
    state: NamespaceState,
    stack: CacheStack,
    settings: TenantSettings,
    refusal: CredentialsRefusal,
  ) {
    this.namespace = state.entry.namespace;
    this.#builtFrom = state;
    this.#stack = stack;
    this.#settings = settings;
    this.#refusal = refusal;
  }

  /** Builds the stack; waits up to REDIS_DIAL_TIMEOUT for Redis, then serves degraded until it answers. */
  static async build(state: NamespaceState, settings: TenantSettings): Promise<Tenant> {
    const reason = unservableReason(state, settings);
    if (reason !== undefined) throw new Error(reason);
    const { entry, credentials } = state;
    const logger = settings.logger.child({ namespace: entry.namespace });
    const redis =
      settings.redis === undefined || !credentials.found
        ? undefined
        : { ...settings.redis, username: credentials.username, password: credentials.password };
    const refusal = new CredentialsRefusal({
      namespace: entry.namespace,
      user: redis?.username ?? '',
      secret: settings.credentialsSecret,
      logger,
    });
    const stack = await assembleCacheStack(
      {
        limits: effectiveLimits(entry.limits, settings.globalLimits),
        localCache: entry.localCache.enabled
          ? {
              maxEntries: entry.localCache.maxEntries,
              maxBytes: entry.localCache.maxMemoryBytes,
              policy: entry.localCache.evictionPolicy,
            }
          : undefined,
        journal: settings.journal,
        redis,
      },
      settings.metrics,
      logger,
      {
        invalidation: settings.invalidation,
        onRedisError: (error) => refusal.notice(error),
        ...(settings.breakerGauge === undefined ? {} : { breakerGauge: settings.breakerGauge }),
      },
    );
    stack.redisClient?.on('ready', () => refusal.clear());
    if (stack.remote?.store.isConnected() === true) refusal.clear();
    return new Tenant(state, stack, settings, refusal);
  }

  get cache(): NamespacedCache {
    return this.#stack.cache;
  }

  get stack(): CacheStack {
    return this.#stack;
  }

  /**
   * Set while Redis refuses the namespace's credentials and the connection is down: every call
   * fails with it, instead of being kept for a replay these credentials could never make.
   */
  get refusal(): CacheError | undefined {
    const error = this.#refusal.error;
    if (error === undefined || this.#stack.remote?.store.isConnected() === true) return undefined;
    return error;
  }

  /**
   * A new connection (credentials) or local store (its settings) needs a new stack; the rest (limits,
   * access list, rate limit) does not.
   */
  needsRebuild(next: NamespaceState): boolean {
    const before = this.#builtFrom;
    if (!isDeepStrictEqual(before.entry.localCache, next.entry.localCache)) return true;
    return this.#settings.redis !== undefined && !isDeepStrictEqual(before.credentials, next.credentials);
  }

  /** Applies what can change in place: the limits. */
  update(next: NamespaceState): void {
    this.#stack.cache.setLimits(effectiveLimits(next.entry.limits, this.#settings.globalLimits));
  }

  /** Replays pending degraded writes once more, then disconnects; resolves with what is still pending. */
  async close(): Promise<number> {
    await this.#stack.close();
    return this.#stack.journal.size;
  }
}
