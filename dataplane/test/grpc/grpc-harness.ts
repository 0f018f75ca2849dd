// The gRPC adapter on a real loopback socket, over the fake CacheService, with a real grpc-js client
// made from the same .proto, captured log lines and recorded request metrics.
import { Writable } from 'node:stream';
import {
  credentials,
  Metadata,
  type ClientUnaryCall,
  type requestCallback,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';
import type { ExecutionContext } from 'ava';
import { JwtVerifier, signToken } from '../../src/auth/jwt-verifier.ts';
import type { CacheServiceClient } from '../../src/generated/cache/v1/CacheService.ts';
import { loadCacheProto } from '../../src/grpc/proto.ts';
import {
  bindGrpcServer,
  createGrpcServer,
  type GrpcServer,
  type GrpcServerDeps,
} from '../../src/grpc/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  NoopMetrics,
  type Metrics,
  type Operation,
  type Transport,
} from '../../src/observability/metrics.ts';
import { FakeCacheService, type FakeCacheLimits } from '../support/fake-cache-service.ts';

export const SECRET = 'grpc-adapter-test-secret-at-least-32-characters';
export const NAMESPACE = 'team-a';

export interface RecordedRequest {
  transport: Transport;
  operation: Operation;
  namespace: string;
  result: string;
  seconds: number;
}

// NoopMetrics for everything but request(), whatever else the Metrics interface grows.
const NoopExceptRequests: new () => Omit<Metrics, 'request'> = NoopMetrics;

/** Metrics that remember every finished request (and ignore the rest). */
export class RecordingMetrics extends NoopExceptRequests implements Metrics {
  readonly requests: RecordedRequest[] = [];

  request(
    transport: Transport,
    operation: Operation,
    namespace: string,
    result: string,
    seconds: number,
  ): void {
    this.requests.push({ transport, operation, namespace, result, seconds });
  }
}

export interface HarnessOptions {
  limits?: Partial<FakeCacheLimits>;
  maxRequestBytes?: number;
  healthStatus?: () => boolean;
}

export interface GrpcHarness {
  address: string;
  client: CacheServiceClient;
  cache: FakeCacheService;
  metrics: RecordingMetrics;
  grpc: GrpcServer;
  /** Every JSON log line written so far. */
  logs: Array<Record<string, unknown>>;
  /** `authorization: Bearer <token>` metadata for a valid token granting `namespaces`. */
  auth(namespaces?: string[], extra?: Record<string, string>): Metadata;
}

/** Starts a server on 127.0.0.1:0 and a client; both are closed when the test ends. */
export async function startGrpcHarness(
  t: ExecutionContext,
  options: HarnessOptions = {},
): Promise<GrpcHarness> {
  const cache = new FakeCacheService(options.limits === undefined ? {} : { limits: options.limits });
  const metrics = new RecordingMetrics();
  const logs: Array<Record<string, unknown>> = [];
  const deps: GrpcServerDeps = {
    cache,
    verifier: new JwtVerifier({ secret: SECRET }),
    metrics,
    logger: createLogger('debug', captureLines(logs)),
    limits: { maxRequestBytes: options.maxRequestBytes ?? 4 * 1024 * 1024 },
    metricsPath: '/metrics',
    healthRefreshMs: 0,
    ...(options.healthStatus === undefined ? {} : { healthStatus: options.healthStatus }),
  };
  const grpc = createGrpcServer(deps);
  const port = await bindGrpcServer(grpc.server, '127.0.0.1', 0);
  const address = `127.0.0.1:${port}`;
  const client = cacheClient(address);
  t.teardown(async () => {
    client.close();
    await grpc.shutdown(1000);
  });
  return {
    address,
    client,
    cache,
    metrics,
    grpc,
    logs,
    auth: (namespaces = [NAMESPACE], extra = {}) => bearer(token(namespaces), extra),
  };
}

export function cacheClient(address: string): CacheServiceClient {
  const { grpcType } = loadCacheProto();
  return new grpcType.cache.v1.CacheService(address, credentials.createInsecure());
}

export function token(namespaces: string[], secret = SECRET): string {
  return signToken(secret, { subject: 'test-service', namespaces, ttlSeconds: 600 });
}

export function bearer(jwt: string, extra: Record<string, string> = {}): Metadata {
  return metadataOf({ authorization: `Bearer ${jwt}`, ...extra });
}

export function metadataOf(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [name, value] of Object.entries(entries)) metadata.set(name, value);
  return metadata;
}

export interface UnaryResult<Res> {
  response: Res | undefined;
  error: ServiceError | undefined;
  /** The response's initial metadata (headers), when the server sent any. */
  initial: Metadata | undefined;
  status: StatusObject;
}

/** Runs one unary call and collects everything the server sent back. */
export function invoke<Res>(
  start: (callback: requestCallback<Res>) => ClientUnaryCall,
): Promise<UnaryResult<Res>> {
  return new Promise((resolve) => {
    let initial: Metadata | undefined;
    let answer: { response: Res | undefined; error: ServiceError | undefined } | undefined;
    let status: StatusObject | undefined;
    const finish = (): void => {
      if (answer !== undefined && status !== undefined) resolve({ ...answer, initial, status });
    };
    const call = start((error, response) => {
      answer = { response, error: error ?? undefined };
      finish();
    });
    call.on('metadata', (metadata: Metadata) => (initial = metadata));
    call.on('status', (received: StatusObject) => {
      status = received;
      finish();
    });
  });
}

/** The first text value of a metadata entry. */
export function text(metadata: Metadata | undefined, name: string): string | undefined {
  const value = metadata?.get(name)[0];
  return typeof value === 'string' ? value : undefined;
}

function captureLines(lines: Array<Record<string, unknown>>): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
}
