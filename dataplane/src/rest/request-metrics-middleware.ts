import { ErrorCode } from '../errors.ts';
import { UNAUTHORIZED_NAMESPACE_LABEL } from '../grpc/unary-call.ts';
import type { Metrics, Operation } from '../observability/metrics.ts';
import { toRestError } from './errors-middleware.ts';
import type { RestRouteMiddleware } from './rest-state.ts';

/**
 * Counts one cache request: result `ok`, `miss` for a key not found, or the error code. The
 * namespace label is only the URL's when the caller was authorized for it, so unauthenticated
 * requests cannot mint label values; otherwise it is "-", as for gRPC.
 */
export function countRequest(metrics: Metrics, operation: Operation): RestRouteMiddleware {
  return async (ctx, next) => {
    const started = performance.now();
    let result = 'ok';
    try {
      await next();
    } catch (error) {
      const { code } = toRestError(error);
      result = code === ErrorCode.KeyNotFound ? 'miss' : code;
      throw error;
    } finally {
      metrics.request(
        'rest',
        operation,
        ctx.state.namespace ?? UNAUTHORIZED_NAMESPACE_LABEL,
        result,
        (performance.now() - started) / 1000,
      );
    }
  };
}
