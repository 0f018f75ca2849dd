import { lazyChild } from '../observability/lazy-child-logger.ts';
import type { Logger } from '../observability/logger.ts';
import { CORRELATION_RESPONSE_HEADER, correlationIdFrom } from '../transport/correlation.ts';
import type { RestMiddleware } from './rest-state.ts';

/**
 * Gives every request its correlation id (the caller's, or a new one) and a logger bound to it,
 * and echoes the id on the response before anything else can fail.
 */
export function correlation(logger: Logger): RestMiddleware {
  return (ctx, next) => {
    const correlationId = correlationIdFrom((name) => ctx.get(name) || undefined);
    ctx.set(CORRELATION_RESPONSE_HEADER, correlationId);
    ctx.state.requestContext = { correlationId, logger: lazyChild(logger, { correlationId }) };
    return next();
  };
}
