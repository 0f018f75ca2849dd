import type { Logger } from '../observability/logger.ts';

/** Where a value was found. */
export type CacheSource = 'redis' | 'local';

/** A value read from the cache. */
export interface CacheEntry {
  value: Buffer;
  source: CacheSource;
  /** Absolute expiry in ms since the epoch; 0 when unknown. */
  expiresAt: number;
  /** True when Redis could not be reached and the local cache answered. */
  degraded: boolean;
}

export interface GetResult {
  entry: CacheEntry | undefined;
  /** True when Redis was unreachable while answering (a miss while degraded is an error instead). */
  degraded: boolean;
}

export interface SetOptions {
  /**
   * Time to live in milliseconds (a duration, as in the seed's interface); undefined means the
   * configured default TTL. The transports take whole seconds and convert.
   */
  ttlMs?: number | undefined;
  encrypt?: boolean | undefined;
}

export interface WriteResult {
  /** True when the write was kept locally and waits to be replayed to Redis. */
  degraded: boolean;
}

export interface DeleteResult extends WriteResult {
  deleted: boolean;
}

export interface BatchGetResult {
  values: Map<string, Buffer>;
  missingKeys: string[];
  /** Keys whose presence could not be determined because Redis was unreachable. */
  unavailableKeys: string[];
  degraded: boolean;
}

export interface BatchSetResult extends WriteResult {
  storedCount: number;
}

/** What both transports know of the call, for logs. */
export interface RequestContext {
  correlationId: string;
  /** A child logger whose every line carries the correlation id. */
  logger: Logger;
}

/**
 * The one cache API both transports call. Every method validates its arguments and throws a
 * CacheError (see errors.ts) for bad input, before anything changes.
 */
export interface CacheService {
  get(ctx: RequestContext, namespace: string, key: string): Promise<GetResult>;
  set(
    ctx: RequestContext,
    namespace: string,
    key: string,
    value: Buffer,
    opts?: SetOptions,
  ): Promise<WriteResult>;
  delete(ctx: RequestContext, namespace: string, key: string): Promise<DeleteResult>;
  batchGet(ctx: RequestContext, namespace: string, keys: readonly string[]): Promise<BatchGetResult>;
  batchSet(
    ctx: RequestContext,
    namespace: string,
    entries: ReadonlyMap<string, Buffer>,
    opts?: SetOptions,
  ): Promise<BatchSetResult>;
  health(): HealthReport;
}

export type RedisStatus = 'up' | 'down' | 'degraded' | 'embedded';

export interface HealthReport {
  healthy: boolean;
  /** Ready to take traffic: embedded, or Redis reachable (or local fallback usable). */
  ready: boolean;
  mode: 'embedded' | 'standalone' | 'cluster';
  redisStatus: RedisStatus;
  brokerStatus: string;
  breakerState: 'closed' | 'open' | 'half-open' | 'none';
  pendingWrites: number;
}
