import type { Middleware } from 'koa';
import type { RestState } from './rest-state.ts';

/** What @koa/router leaves on the context: the route template, not the URL (which holds the key). */
interface MatchedRoute {
  _matchedRoute?: string | RegExp;
}

/**
 * One info line per request once the response is decided. Only the route template is logged:
 * keys, values and headers (Authorization included) never reach the log.
 */
export function accessLog(): Middleware<RestState, MatchedRoute> {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      const route = ctx._matchedRoute;
      ctx.state.requestContext.logger.info(
        {
          method: ctx.method,
          route: typeof route === 'string' ? route : '(unmatched)',
          status: ctx.status,
          durationMs: Math.round((performance.now() - started) * 1000) / 1000,
          ...(ctx.state.errorCode === undefined ? {} : { code: ctx.state.errorCode }),
        },
        'request',
      );
    }
  };
}
