import type { CircuitState } from '../resilience/circuit-breaker.ts';
import type { NamespacedCache } from '../cache/namespaced-cache.ts';
import type {
  BatchGetResult,
  BatchSetResult,
  CacheService,
  DeleteResult,
  GetResult,
  HealthReport,
  RedisStatus,
  RequestContext,
  SetOptions,
  WriteResult,
} from '../cache/types.ts';
import { CacheError, ErrorCode } from '../errors.ts';
import type { InvalidationTarget } from '../invalidation/invalidation-receiver.ts';
import type { NamespaceChange, NamespaceState } from './namespace-registry.ts';
import { NamespaceRateLimiter } from './rate-limiter.ts';
import { Tenant, unservableReason, type TenantSettings } from './tenant.ts';

type Slot = { kind: 'serving'; tenant: Tenant } | { kind: 'unavailable'; error: CacheError };

const REDIS_STATUS_RANK: Record<RedisStatus, number> = { embedded: 0, up: 0, degraded: 1, down: 2 };
const BREAKER_RANK: Record<HealthReport['breakerState'], number> = {
  none: 0,
  closed: 0,
  'half-open': 1,
  open: 2,
};

/**
 * The CacheService of NAMESPACES_SOURCE=kubernetes: every call goes to its namespace's Tenant.
 * Changes from the registry are applied in order per namespace, in the background: a namespace
 * being added is waited for; one being rebuilt (new credentials, new local cache settings) serves
 * from its old stack until the new one is ready, and the old one is then closed after a last replay
 * of its pending writes; limit changes apply in place.
 *
 * Rate limits are checked first, before the call waits for or reaches its namespace's stack: each
 * call takes one token of its namespace's bucket per key (a batch of n keys takes n, any call at
 * least one). A rate limit change applies at once, as the change is taken.
 */
export class TenantRouter implements CacheService, InvalidationTarget {
  readonly #settings: TenantSettings;
  readonly #slots = new Map<string, Slot>();
  /** The latest state asked for per namespace; absent: not served. */
  readonly #desired = new Map<string, NamespaceState>();
  /** Per namespace, the last piece of work queued (each waits for the one before). */
  readonly #work = new Map<string, Promise<void>>();
  readonly #rateLimits: NamespaceRateLimiter;
  #ready = false;
  #closed = false;

  constructor(settings: TenantSettings) {
    // The one breaker gauge shows the worst of the namespaces' breakers.
    this.#settings = { ...settings, breakerGauge: () => this.#worstBreaker() };
    this.#rateLimits = new NamespaceRateLimiter(settings.now ?? (() => performance.now()));
    const sum = (read: (tenant: Tenant) => number) => () =>
      this.#tenants().reduce((total, tenant) => total + read(tenant), 0);
    settings.metrics.trackGauges({
      localEntries: sum((tenant) => tenant.stack.local?.size ?? 0),
      localBytes: sum((tenant) => tenant.stack.local?.bytes ?? 0),
      pendingWrites: sum((tenant) => tenant.stack.journal.size),
    });
  }

  /** Takes the registry's changes; the work happens in the background (see `settled`). */
  apply(changes: readonly NamespaceChange[]): void {
    if (this.#closed) return;
    for (const change of changes) {
      if (change.kind === 'removed') this.#desired.delete(change.namespace);
      else this.#desired.set(change.namespace, change.state);
      this.#rateLimits.configure(
        change.namespace,
        change.kind === 'removed' ? null : change.state.entry.rateLimit,
      );
      this.#schedule(change.namespace);
    }
  }

  /** Resolves once every change applied so far is in effect. */
  async settled(): Promise<void> {
    while (this.#work.size > 0) await Promise.all(this.#work.values());
  }

  /** From now on health() may report ready: the first snapshot is in effect. */
  markReady(): void {
    this.#ready = true;
  }

  async get(ctx: RequestContext, namespace: string, key: string): Promise<GetResult> {
    this.#rateLimits.admit(namespace, 1);
    return (await this.#cacheFor(namespace)).get(ctx, namespace, key);
  }

  async set(
    ctx: RequestContext,
    namespace: string,
    key: string,
    value: Buffer,
    opts?: SetOptions,
  ): Promise<WriteResult> {
    this.#rateLimits.admit(namespace, 1);
    return (await this.#cacheFor(namespace)).set(ctx, namespace, key, value, opts);
  }

  async delete(ctx: RequestContext, namespace: string, key: string): Promise<DeleteResult> {
    this.#rateLimits.admit(namespace, 1);
    return (await this.#cacheFor(namespace)).delete(ctx, namespace, key);
  }

  async batchGet(ctx: RequestContext, namespace: string, keys: readonly string[]): Promise<BatchGetResult> {
    this.#rateLimits.admit(namespace, Math.max(1, keys.length));
    return (await this.#cacheFor(namespace)).batchGet(ctx, namespace, keys);
  }

  async batchSet(
    ctx: RequestContext,
    namespace: string,
    entries: ReadonlyMap<string, Buffer>,
    opts?: SetOptions,
  ): Promise<BatchSetResult> {
    this.#rateLimits.admit(namespace, Math.max(1, entries.size));
    return (await this.#cacheFor(namespace)).batchSet(ctx, namespace, entries, opts);
  }

  /**
   * The worst over the namespaces: Redis status and breaker state; pending writes summed. Ready
   * once the first snapshot is in effect and every namespace is healthy, not counting namespaces
   * whose credentials Redis refuses (their calls fail on their own; the others are served).
   */
  health(): HealthReport {
    const brokerStatus = this.#settings.invalidation.status();
    const reports = this.#tenants().map((tenant) => ({ tenant, report: tenant.cache.health() }));
    const pendingWrites = reports.reduce((total, { report }) => total + report.pendingWrites, 0);
    const healthy = reports.every(({ tenant, report }) => report.healthy || tenant.refusal !== undefined);
    const redis = this.#settings.redis;
    if (redis === undefined) {
      return {
        healthy,
        ready: this.#ready && healthy,
        mode: 'embedded',
        redisStatus: 'embedded',
        brokerStatus,
        breakerState: 'none',
        pendingWrites,
      };
    }
    const redisStatus = worst<RedisStatus>(
      reports.map(({ report }) => report.redisStatus),
      REDIS_STATUS_RANK,
      'up',
    );
    const breakerState = worst(
      reports.map(({ report }) => report.breakerState),
      BREAKER_RANK,
      'closed',
    );
    return {
      healthy,
      ready: this.#ready && healthy,
      mode: redis.clusterMode ? 'cluster' : 'standalone',
      redisStatus,
      brokerStatus,
      breakerState,
      pendingWrites,
    };
  }

  #worstBreaker(): CircuitState {
    const states = this.#tenants().map((tenant) => tenant.stack.remote?.breaker.state() ?? 'closed');
    return worst<CircuitState>(states, BREAKER_RANK, 'closed');
  }

  invalidateLocal(namespace: string, keys: readonly string[], timestamp: number): void {
    this.#servingCache(namespace)?.invalidateLocal(namespace, keys, timestamp);
  }

  clearLocalNamespace(namespace: string): void {
    this.#servingCache(namespace)?.clearLocalNamespace(namespace);
  }

  clearLocal(): void {
    for (const tenant of this.#tenants()) tenant.cache.clearLocal();
  }

  async deleteShared(namespace: string, keys: readonly string[], timestamp: number): Promise<void> {
    await this.#servingCache(namespace)?.deleteShared(namespace, keys, timestamp);
  }

  /**
   * Stops taking changes, lets the work under way finish, then closes every namespace's stack;
   * resolves with the degraded writes still pending after their last replay.
   */
  async close(): Promise<number> {
    this.#closed = true;
    await this.settled();
    const tenants = this.#tenants();
    this.#slots.clear();
    const pending = await Promise.all(
      tenants.map((tenant) => this.#retire(tenant, 'the data plane is stopping')),
    );
    return pending.reduce((total, count) => total + count, 0);
  }

  #cacheFor(namespace: string): NamespacedCache | Promise<NamespacedCache> {
    const slot = this.#slots.get(namespace);
    if (slot !== undefined) {
      if (slot.kind === 'unavailable') throw slot.error;
      const refusal = slot.tenant.refusal;
      if (refusal !== undefined) throw refusal;
      return slot.tenant.cache;
    }
    // Being added: wait for its stack rather than refuse a namespace the authorizer let through.
    const pending = this.#work.get(namespace);
    if (pending !== undefined && this.#desired.has(namespace)) {
      return pending.then(() => this.#cacheFor(namespace));
    }
    throw new CacheError(ErrorCode.Forbidden, `namespace "${namespace}" is not configured`);
  }

  #servingCache(namespace: string): NamespacedCache | undefined {
    const slot = this.#slots.get(namespace);
    return slot?.kind === 'serving' ? slot.tenant.cache : undefined;
  }

  #tenants(): Tenant[] {
    const tenants: Tenant[] = [];
    for (const slot of this.#slots.values()) if (slot.kind === 'serving') tenants.push(slot.tenant);
    return tenants;
  }

  #schedule(namespace: string): void {
    const previous = this.#work.get(namespace);
    const next = (async () => {
      await previous;
      try {
        await this.#reconcile(namespace);
      } catch (error) {
        this.#settings.logger.error({ namespace, err: error }, 'applying a namespace change failed');
      }
    })();
    this.#work.set(namespace, next);
    void next.then(() => {
      if (this.#work.get(namespace) === next) this.#work.delete(namespace);
    });
  }

  /** Brings the namespace to its latest desired state (level-based: earlier states are skipped). */
  async #reconcile(namespace: string): Promise<void> {
    if (this.#closed) return;
    const logger = this.#settings.logger;
    const desired = this.#desired.get(namespace);
    const slot = this.#slots.get(namespace);
    if (desired === undefined) {
      if (slot === undefined) return;
      this.#slots.delete(namespace);
      logger.info({ namespace }, 'namespace removed: no longer served');
      if (slot.kind === 'serving') await this.#retire(slot.tenant, 'the namespace was removed');
      return;
    }
    const reason = unservableReason(desired, this.#settings);
    if (reason !== undefined) {
      this.#slots.set(namespace, { kind: 'unavailable', error: unavailable(reason) });
      logger.error({ namespace }, reason);
      if (slot?.kind === 'serving')
        await this.#retire(slot.tenant, 'the namespace cannot be served any more');
      return;
    }
    if (slot?.kind === 'serving' && !slot.tenant.needsRebuild(desired)) {
      slot.tenant.update(desired);
      const { limits, rateLimit } = desired.entry;
      logger.info({ namespace, limits, rateLimit }, 'namespace limits applied');
      return;
    }
    let tenant: Tenant;
    try {
      tenant = await Tenant.build(desired, this.#settings);
    } catch (error) {
      const message = `namespace "${namespace}" could not be set up: ${(error as Error).message}`;
      logger.error({ namespace, err: error }, message);
      // A namespace that serves keeps serving from its old stack.
      if (slot?.kind !== 'serving')
        this.#slots.set(namespace, { kind: 'unavailable', error: unavailable(message) });
      return;
    }
    if (this.#closed) {
      await tenant.close();
      return;
    }
    this.#slots.set(namespace, { kind: 'serving', tenant });
    const { entry } = desired;
    logger.info(
      {
        namespace,
        owner: entry.owner,
        aclUser: entry.redis.aclUser,
        localCache: entry.localCache,
        limits: entry.limits,
        rateLimit: entry.rateLimit,
      },
      slot?.kind === 'serving' ? 'namespace reconnected with its new settings' : 'namespace served',
    );
    if (slot?.kind === 'serving')
      await this.#retire(slot.tenant, 'replaced by a stack with the new settings');
  }

  /** Closes a stack no longer served; resolves with its writes that could not be replayed. */
  async #retire(tenant: Tenant, why: string): Promise<number> {
    const pendingWrites = await tenant.close();
    if (pendingWrites > 0) {
      this.#settings.logger.warn(
        { namespace: tenant.namespace, pendingWrites },
        `namespace stack closed (${why}) with degraded writes that could not be replayed: they are lost`,
      );
    }
    return pendingWrites;
  }
}

function unavailable(message: string): CacheError {
  return new CacheError(ErrorCode.RedisUnavailable, message);
}

function worst<T extends string>(values: readonly T[], rank: Record<T, number>, fallback: T): T {
  return values.reduce((current, value) => (rank[value] > rank[current] ? value : current), fallback);
}
