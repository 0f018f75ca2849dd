import { status as GrpcStatus } from '@grpc/grpc-js';

/** Stable error codes: they appear in REST error bodies and gRPC status details. */
export const ErrorCode = {
  KeyNotFound: 'KEY_NOT_FOUND',
  InvalidKey: 'INVALID_KEY',
  InvalidValue: 'INVALID_VALUE',
  InvalidTTL: 'TTL_INVALID',
  InvalidRequest: 'INVALID_REQUEST',
  NamespaceInvalid: 'NAMESPACE_INVALID',
  BatchTooLarge: 'BATCH_TOO_LARGE',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  Unauthorized: 'UNAUTHORIZED',
  Forbidden: 'FORBIDDEN',
  RateLimited: 'RATE_LIMITED',
  RedisUnavailable: 'REDIS_UNAVAILABLE',
  CircuitOpen: 'CIRCUIT_OPEN',
  DegradedJournalFull: 'DEGRADED_JOURNAL_FULL',
  EncryptionUnavailable: 'ENCRYPTION_UNAVAILABLE',
  Internal: 'INTERNAL',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

interface Mapping {
  http: number;
  grpc: GrpcStatus;
}

/** The one table from domain errors to transport statuses (SEED-DESIGN "Error Handling Strategy"). */
export const ERROR_STATUS: Record<ErrorCode, Mapping> = {
  KEY_NOT_FOUND: { http: 404, grpc: GrpcStatus.NOT_FOUND },
  INVALID_KEY: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_VALUE: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  TTL_INVALID: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  INVALID_REQUEST: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  NAMESPACE_INVALID: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  BATCH_TOO_LARGE: { http: 400, grpc: GrpcStatus.INVALID_ARGUMENT },
  PAYLOAD_TOO_LARGE: { http: 413, grpc: GrpcStatus.INVALID_ARGUMENT },
  UNAUTHORIZED: { http: 401, grpc: GrpcStatus.UNAUTHENTICATED },
  FORBIDDEN: { http: 403, grpc: GrpcStatus.PERMISSION_DENIED },
  RATE_LIMITED: { http: 429, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  REDIS_UNAVAILABLE: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  CIRCUIT_OPEN: { http: 503, grpc: GrpcStatus.UNAVAILABLE },
  DEGRADED_JOURNAL_FULL: { http: 503, grpc: GrpcStatus.RESOURCE_EXHAUSTED },
  ENCRYPTION_UNAVAILABLE: { http: 501, grpc: GrpcStatus.UNIMPLEMENTED },
  INTERNAL: { http: 500, grpc: GrpcStatus.INTERNAL },
};

/** A domain error whose message tells the caller what to change. */
export class CacheError extends Error {
  readonly code: ErrorCode;
  /** When a retry may succeed, in whole seconds (REST `Retry-After`); undefined: not said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; retryAfterSeconds?: number }) {
    super(message, options);
    this.name = 'CacheError';
    this.code = code;
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get httpStatus(): number {
    return ERROR_STATUS[this.code].http;
  }

  get grpcStatus(): GrpcStatus {
    return ERROR_STATUS[this.code].grpc;
  }
}

/** Any thrown value as a CacheError; unknown errors become INTERNAL without leaking details. */
export function toCacheError(err: unknown): CacheError {
  if (err instanceof CacheError) return err;
  return new CacheError(ErrorCode.Internal, 'internal error', { cause: err });
}
