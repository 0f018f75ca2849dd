import { randomUUID } from 'node:crypto';

/** Header / metadata names a caller may use to pass its correlation id, in order of preference. */
export const CORRELATION_HEADERS = ['x-correlation-id', 'x-request-id'] as const;

/** The header / metadata name every response carries the correlation id in. */
export const CORRELATION_RESPONSE_HEADER = 'x-correlation-id';

const ACCEPTABLE = /^[\w.:@/+=-]{1,128}$/;

/**
 * The caller's correlation id when it is a reasonable token (≤128 safe characters), else a new
 * UUID: ids end up in logs and headers, so arbitrary input is not echoed back.
 */
export function correlationIdFrom(lookup: (name: string) => string | undefined): string {
  for (const name of CORRELATION_HEADERS) {
    const value = lookup(name);
    if (value !== undefined && ACCEPTABLE.test(value)) return value;
  }
  return randomUUID();
}
