import {
  status as GrpcStatus,
  type handleUnaryCall,
  type sendUnaryData,
  type ServerUnaryCall,
} from '@grpc/grpc-js';
import { TOKEN_GRANT_AUTHORIZER, verbOf, type Authorizer } from '../auth/authorizer.ts';
import type { JwtVerifier } from '../auth/jwt-verifier.ts';
import type { RequestContext } from '../cache/types.ts';
import type { Logger } from '../observability/logger.ts';
import type { Metrics, Operation } from '../observability/metrics.ts';
import { callContext, correlationMetadata, metadataText } from './call-context.ts';
import { toGrpcFailure } from './grpc-failure.ts';

/** What a handler answers, and how the call counts in `cacheplane_requests_total`. */
export interface UnaryOutcome<Res> {
  response: Res;
  result: 'ok' | 'miss';
}

export interface UnaryDeps {
  verifier: JwtVerifier;
  /** Default: the token's `namespaces` claim decides (NAMESPACES_SOURCE=static). */
  authorizer?: Authorizer | undefined;
  metrics: Metrics;
  logger: Logger;
}

/**
 * The namespace label of a call that was not authorized for the namespace it named: that name is
 * the caller's to choose, and must not grow the metrics' label sets.
 */
export const UNAUTHORIZED_NAMESPACE_LABEL = '-';

/**
 * A cache RPC: authenticated (`authorization: Bearer <JWT>`), authorized for the request's
 * namespace and the operation's verb, counted once in the request metrics.
 */
export function namespacedUnary<Req extends { namespace: string }, Res>(
  deps: UnaryDeps,
  rpc: string,
  operation: Operation,
  handle: (request: Req, ctx: RequestContext) => Promise<UnaryOutcome<Res>>,
): handleUnaryCall<Req, Res> {
  const authorizer = deps.authorizer ?? TOKEN_GRANT_AUTHORIZER;
  const verb = verbOf(operation);
  return (call, callback) => {
    let namespaceLabel = UNAUTHORIZED_NAMESPACE_LABEL;
    serveUnary(call, callback, deps.logger, rpc, {
      work: (ctx) => {
        const principal = deps.verifier.verify(metadataText(call.metadata, 'authorization'));
        authorizer.authorize(principal, call.request.namespace, verb);
        namespaceLabel = call.request.namespace;
        return handle(call.request, ctx);
      },
      record: (result, seconds) => deps.metrics.request('grpc', operation, namespaceLabel, result, seconds),
    });
  };
}

/** An RPC anyone may call (Health): no token, not counted in the request metrics. */
export function publicUnary<Req, Res>(
  deps: Pick<UnaryDeps, 'logger'>,
  rpc: string,
  handle: (request: Req, ctx: RequestContext) => Promise<Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    serveUnary(call, callback, deps.logger, rpc, {
      work: async (ctx) => ({ response: await handle(call.request, ctx), result: 'ok' }),
      record: () => {},
    });
  };
}

interface CallSteps<Res> {
  /** May throw synchronously or reject; either way the caller gets exactly one answer. */
  work: (ctx: RequestContext) => Promise<UnaryOutcome<Res>>;
  /** `result` is `ok`, `miss` or the error code. */
  record: (result: string, seconds: number) => void;
}

function serveUnary<Req, Res>(
  call: ServerUnaryCall<Req, Res>,
  callback: sendUnaryData<Res>,
  logger: Logger,
  rpc: string,
  steps: CallSteps<Res>,
): void {
  let answered = false;
  const answerOnce: sendUnaryData<Res> = (...args) => {
    if (answered) return;
    answered = true;
    callback(...args);
  };
  settle(call, answerOnce, logger, rpc, steps).catch((error: unknown) => {
    // Only reached when the plumbing itself failed (a metric, a log line, the callback).
    logger.error({ rpc, err: error }, 'gRPC call handling failed');
    answerOnce({ code: GrpcStatus.INTERNAL, details: 'internal error' });
  });
}

async function settle<Req, Res>(
  call: ServerUnaryCall<Req, Res>,
  answer: sendUnaryData<Res>,
  logger: Logger,
  rpc: string,
  steps: CallSteps<Res>,
): Promise<void> {
  const started = performance.now();
  const ctx = callContext(call, logger);
  let result: string;
  // Every answer carries the correlation id in its initial metadata. It is sent with the answer, not
  // ahead of the work: headers, message and status then leave in one write instead of two.
  const sendCorrelationId = (): void => call.sendMetadata(correlationMetadata(ctx.correlationId));
  try {
    const outcome = await steps.work(ctx);
    result = outcome.result;
    sendCorrelationId();
    answer(null, outcome.response);
  } catch (error) {
    const failure = toGrpcFailure(error, ctx, rpc);
    result = failure.code;
    sendCorrelationId(); // a no-op when already sent
    answer(failure.status);
  }
  const seconds = (performance.now() - started) / 1000;
  steps.record(result, seconds);
  ctx.logger.debug({ rpc, result, ms: Math.round(seconds * 1e4) / 10 }, 'gRPC call finished');
}
