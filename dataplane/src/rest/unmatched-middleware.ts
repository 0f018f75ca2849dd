import { RestError, RestErrorCode } from './rest-error.ts';
import type { RestMiddleware } from './rest-state.ts';

/**
 * Turns the router's bodiless answers (no route, wrong method) into JSON errors. It wraps
 * `router.routes()` and `router.allowedMethods()` (non-throwing mode, which is the one that sets
 * `Allow`), so it sees their final status.
 */
export function unmatchedRequests(): RestMiddleware {
  return async (ctx, next) => {
    await next();
    if (ctx.body !== undefined && ctx.body !== null) return;
    const { method } = ctx;
    switch (ctx.status) {
      case 405: {
        const allow = ctx.response.get('allow');
        throw new RestError(RestErrorCode.MethodNotAllowed, `${method} is not allowed here; use ${allow}`, {
          allow,
        });
      }
      case 501:
        throw new RestError(RestErrorCode.MethodNotImplemented, `the method ${method} is not supported`);
      case 404:
        throw new RestError(
          RestErrorCode.RouteNotFound,
          `no route for ${method} ${ctx.path}; see /openapi.json`,
        );
      default:
    }
  };
}
