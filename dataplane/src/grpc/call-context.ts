import { Metadata, type ServerUnaryCall } from '@grpc/grpc-js';
import type { RequestContext } from '../cache/types.ts';
import { lazyChild } from '../observability/lazy-child-logger.ts';
import type { Logger } from '../observability/logger.ts';
import { CORRELATION_RESPONSE_HEADER, correlationIdFrom } from '../transport/correlation.ts';

/** The first text value of a metadata entry (binary `-bin` entries are never text). */
export function metadataText(metadata: Metadata, name: string): string | undefined {
  const value = metadata.get(name)[0];
  return typeof value === 'string' ? value : undefined;
}

/** Metadata carrying the call's correlation id, for the initial or the trailing metadata. */
export function correlationMetadata(correlationId: string): Metadata {
  const metadata = new Metadata();
  metadata.set(CORRELATION_RESPONSE_HEADER, correlationId);
  return metadata;
}

/** The RequestContext of a call: the caller's correlation id (or a new one) and a logger bound to it. */
export function callContext(call: ServerUnaryCall<unknown, unknown>, logger: Logger): RequestContext {
  const correlationId = correlationIdFrom((name) => metadataText(call.metadata, name));
  return { correlationId, logger: lazyChild(logger, { correlationId }) };
}
