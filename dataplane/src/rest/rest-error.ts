/**
 * Error codes that only exist at the HTTP layer (routing and media types). They share the
 * `{code, message, correlationId}` body with the domain's ErrorCode but are not part of it: gRPC
 * has no equivalent.
 */
export const RestErrorCode = {
  RouteNotFound: 'ROUTE_NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  MethodNotImplemented: 'METHOD_NOT_IMPLEMENTED',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
} as const;
export type RestErrorCode = (typeof RestErrorCode)[keyof typeof RestErrorCode];

const REST_ERROR_STATUS: Record<RestErrorCode, number> = {
  ROUTE_NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  METHOD_NOT_IMPLEMENTED: 501,
  UNSUPPORTED_MEDIA_TYPE: 415,
};

/** An HTTP-layer error, with the response headers it needs (e.g. `Allow` on a 405). */
export class RestError extends Error {
  readonly code: RestErrorCode;
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: RestErrorCode, message: string, headers: Record<string, string> = {}) {
    super(message);
    this.name = 'RestError';
    this.code = code;
    this.headers = headers;
  }

  get httpStatus(): number {
    return REST_ERROR_STATUS[this.code];
  }
}
