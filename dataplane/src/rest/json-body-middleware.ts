import { bodyParser } from '@koa/bodyparser';
import { CacheError, ErrorCode } from '../errors.ts';
import { RestError, RestErrorCode } from './rest-error.ts';
import type { RestRouteMiddleware } from './rest-state.ts';

/**
 * Reads a JSON request body into `ctx.request.body`, at most `maxBytes` of it (after any
 * Content-Encoding is undone). A body sent as anything but `application/json` is a 415; a
 * missing body, malformed JSON or a top-level scalar is a 400; too large a body is a 413.
 * Used on body routes only, after authentication, so nobody unauthenticated makes us read a body.
 */
export function jsonBody(maxBytes: number): RestRouteMiddleware {
  const parse = bodyParser({ enableTypes: ['json'], jsonLimit: maxBytes, jsonStrict: true });
  const noop = (): Promise<void> => Promise.resolve();
  return async (ctx, next) => {
    const empty = !(ctx.request.length > 0) && ctx.get('transfer-encoding') === '';
    if (empty) {
      throw new CacheError(
        ErrorCode.InvalidRequest,
        'a JSON body is required (Content-Type: application/json)',
      );
    }
    if (ctx.request.is('application/json') === false) {
      throw new RestError(
        RestErrorCode.UnsupportedMediaType,
        'the request body must be sent as application/json',
      );
    }
    try {
      await parse(ctx, noop);
    } catch (error) {
      throw bodyError(error, maxBytes);
    }
    await next();
  };
}

/** raw-body / co-body errors carry an HTTP status; map them to our codes and say what to change. */
function bodyError(error: unknown, maxBytes: number): unknown {
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || status >= 500) return error;
  const reason = (error as Error).message;
  if (status === 413) {
    return new CacheError(
      ErrorCode.PayloadTooLarge,
      `the request body is larger than ${maxBytes} bytes (SERVER_MAX_REQUEST_BYTES)`,
    );
  }
  if (status === 415) return new RestError(RestErrorCode.UnsupportedMediaType, reason);
  if (error instanceof SyntaxError) {
    return new CacheError(ErrorCode.InvalidRequest, `malformed JSON body: ${reason}`);
  }
  return new CacheError(ErrorCode.InvalidRequest, `unreadable request body: ${reason}`);
}
