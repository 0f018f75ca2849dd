// Turning what client-node throws (an ApiException carrying the response, a watch's bare status,
// undici's "fetch failed" with the socket error as its cause) into one readable line.
import { STATUS_CODES } from 'node:http';
import { ApiException } from '@kubernetes/client-node';

/** What the API server says about a failed request (a `Status` object). */
export interface KubeStatus {
  readonly code?: number | undefined;
  readonly reason?: string | undefined;
  readonly message?: string | undefined;
}

/** A read of one of the source's objects failed. */
export class KubeReadError extends Error {
  /** The HTTP status, when the API server answered. */
  readonly status: number | undefined;

  constructor(message: string, status: number | undefined, cause: unknown) {
    super(message, { cause });
    this.name = 'KubeReadError';
    this.status = status;
  }
}

/** The HTTP status of a failed request, when the API server answered. */
export function httpStatusOf(error: unknown): number | undefined {
  if (error instanceof ApiException) return error.code;
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** One line: `HTTP 403 Forbidden: <the server's message>`, or the network error and its cause. */
export function describeKubeError(error: unknown): string {
  if (error instanceof KubeReadError) return error.message;
  const status = httpStatusOf(error);
  if (status !== undefined) {
    const body = error instanceof ApiException ? parseStatus(error.body) : undefined;
    return describeStatus({ code: status, reason: body?.reason, message: body?.message });
  }
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause instanceof Error ? describeCause(error.cause) : undefined;
  const message = firstLine(error.message);
  return cause === undefined || message.includes(cause) ? message : `${message}: ${cause}`;
}

/** `HTTP 410 Expired: too old resource version: 5 (17)` */
export function describeStatus(status: KubeStatus): string {
  const code = status.code === undefined ? 'HTTP error' : `HTTP ${status.code}`;
  const reason = status.reason ?? (status.code === undefined ? undefined : STATUS_CODES[status.code]);
  const head = reason === undefined || reason === '' ? code : `${code} ${reason}`;
  return status.message === undefined || status.message === '' ? head : `${head}: ${status.message}`;
}

/** An error response's body: a `Status` in JSON, usually. */
function parseStatus(body: unknown): KubeStatus | undefined {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      return body === '' ? undefined : { message: firstLine(body) };
    }
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const { reason, message } = parsed as Record<string, unknown>;
  return {
    reason: typeof reason === 'string' ? reason : undefined,
    message: typeof message === 'string' ? message : undefined,
  };
}

function describeCause(cause: Error): string {
  const code = (cause as { code?: unknown }).code;
  const message = firstLine(cause.message);
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
