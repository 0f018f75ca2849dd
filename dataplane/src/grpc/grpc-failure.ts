import { status as GrpcStatus, type StatusObject } from '@grpc/grpc-js';
import type { RequestContext } from '../cache/types.ts';
import { ErrorCode, toCacheError } from '../errors.ts';
import { correlationMetadata } from './call-context.ts';

/** Trailing metadata entry carrying the stable error code (the REST error body's `code`). */
export const ERROR_CODE_METADATA = 'x-error-code';

export interface GrpcFailure {
  /** What the callback sends: code, details (the error's message) and trailing metadata. */
  status: Pick<StatusObject, 'code' | 'details' | 'metadata'>;
  /** The stable error code, for metrics. */
  code: ErrorCode;
}

/**
 * Statuses that say the server (not the caller) has a problem: worth a warning in the logs. Not
 * RATE_LIMITED: a caller over its namespace's limit would flood the log.
 */
const SERVER_SIDE = new Set<GrpcStatus>([GrpcStatus.UNAVAILABLE, GrpcStatus.RESOURCE_EXHAUSTED]);

/**
 * Maps anything a handler threw to a gRPC status through the one ERROR_STATUS table. Unknown errors
 * become INTERNAL with a generic message; their details only reach the log.
 */
export function toGrpcFailure(error: unknown, ctx: RequestContext, rpc: string): GrpcFailure {
  const cacheError = toCacheError(error);
  const code = cacheError.grpcStatus;
  if (code === GrpcStatus.INTERNAL) {
    ctx.logger.error({ rpc, err: cacheError.cause ?? cacheError }, 'gRPC call failed with an internal error');
  } else if (SERVER_SIDE.has(code) && cacheError.code !== ErrorCode.RateLimited) {
    ctx.logger.warn({ rpc, code: cacheError.code, message: cacheError.message }, 'gRPC call failed');
  } else {
    ctx.logger.debug({ rpc, code: cacheError.code, message: cacheError.message }, 'gRPC call rejected');
  }
  const metadata = correlationMetadata(ctx.correlationId);
  metadata.set(ERROR_CODE_METADATA, cacheError.code);
  return { status: { code, details: cacheError.message, metadata }, code: cacheError.code };
}
