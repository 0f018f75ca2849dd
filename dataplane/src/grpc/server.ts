import { Server, ServerCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath, type HealthImplementation } from 'grpc-health-check';
import type { TransportDeps } from '../transport/transport-deps.ts';
import { createCacheHandlers } from './cache-handlers.ts';
import { HealthReporter } from './health-reporter.ts';
import { loadCacheProto } from './proto.ts';

export interface GrpcServerDeps extends TransportDeps {
  /** What grpc.health.v1 reports; defaults to `cache.health().healthy`. */
  healthStatus?: () => boolean;
  /** How often grpc.health.v1 re-reads it, in ms; 0 refreshes only on `refreshHealth()`. @default 5000 */
  healthRefreshMs?: number;
}

export interface GrpcServer {
  server: Server;
  /** The standard grpc.health.v1 service, with statuses for '' and 'cache.v1.CacheService'. */
  health: HealthImplementation;
  /** Re-reads the data plane's health into grpc.health.v1 now. */
  refreshHealth(): void;
  /** NOT_SERVING on grpc.health.v1 from now on (call it when shutdown begins). */
  setNotServing(): void;
  /** NOT_SERVING on grpc.health.v1, then a graceful shutdown of at most `graceMs`. */
  shutdown(graceMs: number): Promise<void>;
}

const DEFAULT_HEALTH_REFRESH_MS = 5000;

/**
 * Keepalive for a service mesh: server pings find dead peers behind a sidecar within ~1.5 min, and
 * connections are recycled every 5 min (with 30 s for in-flight calls) so that clients spread over
 * new replicas after a scale-up instead of pinning the old ones.
 */
const MESH_KEEPALIVE: ChannelOptions = {
  'grpc.keepalive_time_ms': 60_000,
  'grpc.keepalive_timeout_ms': 20_000,
  'grpc.max_connection_age_ms': 300_000,
  'grpc.max_connection_age_grace_ms': 30_000,
};

/**
 * The data plane's gRPC server: cache.v1.CacheService, grpc.health.v1 and server reflection. Not yet
 * listening: see bindGrpcServer.
 */
export function createGrpcServer(deps: GrpcServerDeps): GrpcServer {
  const { grpcType, reflectionDefinition } = loadCacheProto();
  const server = new Server({
    ...MESH_KEEPALIVE,
    // Larger messages are refused with RESOURCE_EXHAUSTED before they reach a handler.
    'grpc.max_receive_message_length': deps.limits.maxRequestBytes,
  });
  server.addService(grpcType.cache.v1.CacheService.service, createCacheHandlers(deps));

  const reporter = new HealthReporter(deps.healthStatus ?? (() => deps.cache.health().healthy));
  reporter.health.addToServer(server);
  const refreshMs = deps.healthRefreshMs ?? DEFAULT_HEALTH_REFRESH_MS;
  if (refreshMs > 0) reporter.startRefreshing(refreshMs);

  // Reflection describes every service a client can call here (but itself, as grpc-node does).
  const healthDefinition = loadSync(healthProtoPath, { keepCase: true });
  new ReflectionService({ ...reflectionDefinition, ...healthDefinition }).addToServer(server);

  return {
    server,
    health: reporter.health,
    refreshHealth: () => {
      reporter.refresh();
    },
    setNotServing: () => reporter.markShuttingDown(),
    shutdown: (graceMs) => {
      reporter.markShuttingDown();
      return shutdownGrpcServer(server, graceMs);
    },
  };
}

/** Starts listening (insecure: the mesh terminates mTLS); resolves with the port actually bound. */
export function bindGrpcServer(server: Server, host: string, port: number): Promise<number> {
  const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise((resolve, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, boundPort) => {
      if (error === null) resolve(boundPort);
      else reject(new Error(`cannot listen for gRPC on ${address}: ${error.message}`, { cause: error }));
    });
  });
}

/**
 * Stops taking new calls and waits for in-flight ones; after `graceMs` the remaining calls are
 * cancelled and their connections closed.
 */
export function shutdownGrpcServer(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const deadline = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(deadline);
      resolve();
    });
  });
}
