import { CacheError, ErrorCode, toCacheError } from '../errors.ts';
import { RestError } from './rest-error.ts';
import type { RestMiddleware } from './rest-state.ts';

/** The JSON body of every error response. */
export interface ErrorBody {
  code: string;
  message: string;
  correlationId: string;
}

/** A thrown value as the error the caller sees: unknown errors become a generic INTERNAL. */
export function toRestError(error: unknown): CacheError | RestError {
  return error instanceof RestError ? error : toCacheError(error);
}

/**
 * Turns anything thrown further down into `{code, message, correlationId}` with the status of the
 * ERROR_STATUS table. Unknown errors are logged with their stack; their details stay in the log.
 */
export function errorResponses(): RestMiddleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (thrown) {
      const error = toRestError(thrown);
      const { correlationId, logger } = ctx.state.requestContext;
      if (error instanceof CacheError && error.code === ErrorCode.Internal) {
        logger.error(
          { err: thrown instanceof CacheError ? (thrown.cause ?? thrown) : thrown },
          'unhandled error',
        );
      } else if (error.httpStatus >= 500) {
        logger.warn({ code: error.code, reason: error.message }, 'request failed');
      }
      if (error instanceof RestError) ctx.set(error.headers);
      else if (error.retryAfterSeconds !== undefined) ctx.set('Retry-After', String(error.retryAfterSeconds));
      ctx.state.errorCode = error.code;
      ctx.status = error.httpStatus;
      ctx.body = { code: error.code, message: error.message, correlationId } satisfies ErrorBody;
    }
  };
}
