// The data plane's own front ends over a constant cache: the REST app (createRestApp: the same Koa
// router and middleware — correlation id, access log, error mapping, request metrics, JWT auth) and
// the gRPC server (createGrpcServer: the same handlers, auth and metrics), wired to an HTTP server
// exactly as data-plane.ts wires it, but with a CacheService that answers at once without storing
// anything. What the data plane adds on top of this is the cache itself.
// Prints {"http": <port>, "grpc": <port>} once both listen. BENCH_VALUE_SIZE: bytes of the answered
// value (default 64); BENCH_SECRET: the JWT secret; METRICS_ENABLED=false turns the metrics off.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { JwtVerifier } from '../dataplane/src/auth/jwt-verifier.ts';
import type {
  BatchGetResult,
  CacheService,
  GetResult,
  HealthReport,
  WriteResult,
} from '../dataplane/src/cache/types.ts';
import { bindGrpcServer, createGrpcServer } from '../dataplane/src/grpc/server.ts';
import { createLogger } from '../dataplane/src/observability/logger.ts';
import { NoopMetrics, PrometheusMetrics } from '../dataplane/src/observability/metrics.ts';
import { createRestApp } from '../dataplane/src/rest/app.ts';
import { exitOnSignals } from './lib/exit-on-signals.ts';

exitOnSignals();
const valueSize = Number(process.env.BENCH_VALUE_SIZE ?? '64');
const value = Buffer.alloc(valueSize, 'v');
const expiresAt = Date.now() + 3_600_000;
const GET: GetResult = { entry: { value, source: 'local', expiresAt, degraded: false }, degraded: false };
const WRITE: WriteResult = { degraded: false };
const HEALTH: HealthReport = {
  healthy: true,
  ready: true,
  mode: 'embedded',
  redisStatus: 'embedded',
  brokerStatus: 'disabled',
  breakerState: 'none',
  pendingWrites: 0,
};

/** Answers every call at once: the value for any key, success for any write. */
const constantCache: CacheService = {
  get: () => Promise.resolve(GET),
  set: () => Promise.resolve(WRITE),
  delete: () => Promise.resolve({ deleted: true, degraded: false }),
  batchGet: (_ctx, _namespace, keys): Promise<BatchGetResult> =>
    Promise.resolve({
      values: new Map(keys.map((key) => [key, value])),
      missingKeys: [],
      unavailableKeys: [],
      degraded: false,
    }),
  batchSet: (_ctx, _namespace, entries) => Promise.resolve({ storedCount: entries.size, degraded: false }),
  health: () => HEALTH,
};

const deps = {
  cache: constantCache,
  verifier: new JwtVerifier({ secret: process.env.BENCH_SECRET ?? '' }),
  metrics: process.env.METRICS_ENABLED === 'false' ? new NoopMetrics() : new PrometheusMetrics(),
  logger: createLogger('warn'),
  limits: { maxRequestBytes: 16 * 1024 * 1024 },
  metricsPath: '/metrics',
};
const handleHttp = createRestApp(deps).callback();
const http = createServer((request, response) => void handleHttp(request, response));
await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
const grpc = createGrpcServer({ ...deps, healthRefreshMs: 0 });
const grpcPort = await bindGrpcServer(grpc.server, '127.0.0.1', 0);
console.log(JSON.stringify({ http: (http.address() as AddressInfo).port, grpc: grpcPort }));
