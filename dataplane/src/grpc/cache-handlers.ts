import type { CacheService, CacheSource as DomainSource, SetOptions } from '../cache/types.ts';
import type { CacheServiceHandlers } from '../generated/cache/v1/CacheService.ts';
import type { CacheSource } from '../generated/cache/v1/CacheSource.ts';
import type { GetResponse } from '../generated/cache/v1/GetResponse.ts';
import type { HealthResponse } from '../generated/cache/v1/HealthResponse.ts';
import { keyedObject } from '../transport/keyed-object.ts';
import { namespacedUnary, publicUnary, type UnaryDeps, type UnaryOutcome } from './unary-call.ts';

export interface CacheHandlerDeps extends UnaryDeps {
  cache: CacheService;
}

const PROTO_SOURCE: Record<DomainSource, CacheSource> = {
  redis: 'CACHE_SOURCE_REDIS',
  local: 'CACHE_SOURCE_LOCAL',
};

/**
 * cache.v1.CacheService over the one CacheService. A Get miss is `found: false` with status OK (see
 * docs/grpc.md): a miss is an answer, not a failure.
 */
export function createCacheHandlers(deps: CacheHandlerDeps): CacheServiceHandlers {
  const { cache } = deps;
  return {
    Get: namespacedUnary(deps, 'Get', 'get', async (request, ctx): Promise<UnaryOutcome<GetResponse>> => {
      const { entry, degraded } = await cache.get(ctx, request.namespace, request.key);
      if (entry === undefined) return { response: { found: false, degraded }, result: 'miss' };
      return {
        response: {
          found: true,
          value: entry.value,
          source: PROTO_SOURCE[entry.source],
          degraded: entry.degraded,
          expiresAtUnixMs: entry.expiresAt,
        },
        result: 'ok',
      };
    }),

    Set: namespacedUnary(deps, 'Set', 'set', async (request, ctx) => {
      const options = setOptions(request.ttlSeconds, request.encrypt);
      const { degraded } = await cache.set(ctx, request.namespace, request.key, request.value, options);
      return { response: { success: true, degraded }, result: 'ok' };
    }),

    Delete: namespacedUnary(deps, 'Delete', 'delete', async (request, ctx) => {
      const { deleted, degraded } = await cache.delete(ctx, request.namespace, request.key);
      return { response: { deleted, degraded }, result: 'ok' };
    }),

    BatchGet: namespacedUnary(deps, 'BatchGet', 'batch_get', async (request, ctx) => {
      const result = await cache.batchGet(ctx, request.namespace, request.keys);
      return {
        response: {
          values: keyedObject(result.values),
          missingKeys: result.missingKeys,
          degraded: result.degraded,
          unavailableKeys: result.unavailableKeys,
        },
        result: 'ok',
      };
    }),

    BatchSet: namespacedUnary(deps, 'BatchSet', 'batch_set', async (request, ctx) => {
      const entries = new Map(Object.entries(request.entries));
      const options = setOptions(request.ttlSeconds, false);
      const { storedCount, degraded } = await cache.batchSet(ctx, request.namespace, entries, options);
      return { response: { success: true, storedCount, degraded }, result: 'ok' };
    }),

    Health: publicUnary(deps, 'Health', (): Promise<HealthResponse> => {
      const report = cache.health();
      return Promise.resolve({
        healthy: report.healthy,
        redisStatus: report.redisStatus,
        brokerStatus: report.brokerStatus,
        breakerState: report.breakerState,
        pendingWrites: report.pendingWrites,
      });
    }),
  };
}

/** proto3 cannot tell an unset ttl_seconds from 0: 0 means the server default; negatives reach validation. */
function setOptions(ttlSeconds: number, encrypt: boolean): SetOptions {
  return { ttlMs: ttlSeconds === 0 ? undefined : ttlSeconds * 1000, encrypt };
}
