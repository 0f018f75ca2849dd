import type Router from '@koa/router';
import { CacheError, ErrorCode } from '../errors.ts';
import { keyedObject } from '../transport/keyed-object.ts';
import type { TransportDeps } from '../transport/transport-deps.ts';
import { requireNamespaceGrant } from './auth-middleware.ts';
import { BatchGetBody, BatchSetBody, GetQuery, SetBody, parseInput } from './body-schemas.ts';
import { jsonBody } from './json-body-middleware.ts';
import { countRequest } from './request-metrics-middleware.ts';
import type {
  BatchGetResponse,
  BatchSetResponse,
  DeleteResponse,
  GetResponse,
  SetResponse,
} from './response-bodies.ts';
import type { RestRouteContext, RestState } from './rest-state.ts';
import { decodeValue, encodeValue, type EncodedValue } from './value-codec.ts';

const NAMESPACE_ROUTE = '/api/v1/cache/:namespace';
/**
 * `*key` (path-to-regexp 8) takes the rest of the path, slashes included. The batch routes are
 * POST only and the key routes never POST, so a GET/PUT/DELETE of key "batch/get" is a key.
 */
const KEY_ROUTE = `${NAMESPACE_ROUTE}/*key`;

/** GET/PUT/DELETE of one key and POST batch get/set, each behind metrics → auth → (body). */
export function addCacheRoutes(router: Router<RestState>, deps: TransportDeps): void {
  const { cache } = deps;
  const authorized = requireNamespaceGrant(deps.verifier, deps.authorizer);
  const body = jsonBody(deps.limits.maxRequestBytes);
  const counted = (operation: Parameters<typeof countRequest>[1]) => countRequest(deps.metrics, operation);

  router.get(KEY_ROUTE, counted('get'), authorized('get'), async (ctx) => {
    const { encoding } = parseInput(GetQuery, ctx.query, 'query string');
    const { entry, degraded } = await cache.get(ctx.state.requestContext, namespaceOf(ctx), keyOf(ctx));
    if (entry === undefined) throw new CacheError(ErrorCode.KeyNotFound, 'no value is stored under this key');
    ctx.body = {
      found: true,
      ...encodeValue(entry.value, encoding),
      source: entry.source,
      degraded: degraded || entry.degraded,
      ...(entry.expiresAt > 0 ? { expiresAt: new Date(entry.expiresAt).toISOString() } : {}),
    } satisfies GetResponse;
  });

  router.put(KEY_ROUTE, counted('set'), authorized('set'), body, async (ctx) => {
    const request = parseInput(SetBody, ctx.request.body, 'request body');
    const value = decodeValue(request.value, request.encoding ?? 'utf8');
    const { degraded } = await cache.set(ctx.state.requestContext, namespaceOf(ctx), keyOf(ctx), value, {
      ttlMs: millis(request.ttlSeconds),
      encrypt: request.encrypt,
    });
    ctx.body = { success: true, degraded } satisfies SetResponse;
  });

  // A DELETE body is never read: the route takes none.
  router.delete(KEY_ROUTE, counted('delete'), authorized('delete'), async (ctx) => {
    const { deleted, degraded } = await cache.delete(ctx.state.requestContext, namespaceOf(ctx), keyOf(ctx));
    ctx.body = { deleted, degraded } satisfies DeleteResponse;
  });

  router.post(
    `${NAMESPACE_ROUTE}/batch/get`,
    counted('batch_get'),
    authorized('batch_get'),
    body,
    async (ctx) => {
      const request = parseInput(BatchGetBody, ctx.request.body, 'request body');
      const result = await cache.batchGet(ctx.state.requestContext, namespaceOf(ctx), request.keys);
      // A key named "__proto__" stays a key (see keyedObject).
      const values = keyedObject(result.values, (bytes): EncodedValue =>
        encodeValue(bytes, request.encoding),
      );
      ctx.body = {
        values,
        missingKeys: result.missingKeys,
        unavailableKeys: result.unavailableKeys,
        degraded: result.degraded,
      } satisfies BatchGetResponse;
    },
  );

  router.post(
    `${NAMESPACE_ROUTE}/batch/set`,
    counted('batch_set'),
    authorized('batch_set'),
    body,
    async (ctx) => {
      const request = parseInput(BatchSetBody, ctx.request.body, 'request body');
      const entries = new Map<string, Buffer>();
      for (const [key, entry] of Object.entries(request.entries)) {
        entries.set(key, decodeValue(entry.value, entry.encoding ?? 'utf8'));
      }
      const { storedCount, degraded } = await cache.batchSet(
        ctx.state.requestContext,
        namespaceOf(ctx),
        entries,
        {
          ttlMs: millis(request.ttlSeconds),
          encrypt: request.encrypt,
        },
      );
      ctx.body = { success: true, storedCount, degraded } satisfies BatchSetResponse;
    },
  );
}

function millis(seconds: number | undefined): number | undefined {
  return seconds === undefined ? undefined : seconds * 1000;
}

/** Set by the auth middleware, which runs before every handler. */
function namespaceOf(ctx: RestRouteContext): string {
  return ctx.state.namespace ?? '';
}

/**
 * The key, percent-decoded exactly once. The router's own decoding passes malformed escapes
 * through verbatim (so "%zz" and "%25zz" would be the same key); the raw capture is decoded here
 * instead, strictly. `*key` is the last capture of KEY_ROUTE.
 */
function keyOf(ctx: RestRouteContext): string {
  const raw = ctx.captures?.at(-1) ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new CacheError(ErrorCode.InvalidKey, 'the key in the URL is not valid percent-encoded UTF-8');
  }
}
