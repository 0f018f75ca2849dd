import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateDevCredentials } from './auth/dev-credentials.ts';
import { JwtVerifier } from './auth/jwt-verifier.ts';
import { buildCacheStack } from './cache/cache-stack.ts';
import type { CacheService } from './cache/types.ts';
import type { Config } from './config/config.ts';
import { bindGrpcServer, createGrpcServer, shutdownGrpcServer } from './grpc/server.ts';
import type { LocalStore } from './local/local-store.ts';
import type { Logger } from './observability/logger.ts';
import { NoopMetrics, PrometheusMetrics, type Metrics } from './observability/metrics.ts';
import { createBroker } from './invalidation/create-broker.ts';
import { NO_INVALIDATION, brokerInvalidation } from './invalidation/invalidation.ts';
import { createRestApp } from './rest/app.ts';

export interface DataPlane {
  cache: CacheService;
  metrics: Metrics;
  httpPort: number;
  grpcPort: number;
  /** Set when no AUTH_JWT_SECRET was configured: a token for the `default` namespace. */
  devToken: string | undefined;
  /** Stops taking calls, drains both transports (up to the graceful timeout) and disconnects. */
  close(): Promise<void>;
}

/** Builds and starts the whole data plane from a validated configuration. */
export async function startDataPlane(config: Config, logger: Logger): Promise<DataPlane> {
  const metrics: Metrics = config.metrics.enabled ? new PrometheusMetrics() : new NoopMetrics();
  const invalidation =
    config.broker === undefined
      ? NO_INVALIDATION
      : brokerInvalidation(createBroker(config.broker, logger), config.broker.replicaId, metrics, logger);
  const stack = await buildCacheStack(config, metrics, logger, invalidation);
  const { cache, local } = stack;
  await invalidation.start(cache, config.broker?.connectTimeoutMs ?? 0);

  const dev =
    config.auth.jwtSecret === undefined
      ? generateDevCredentials(config.auth.issuer, config.auth.audience)
      : undefined;
  const verifier = new JwtVerifier({
    secret: config.auth.jwtSecret ?? (dev?.secret as string),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
  });

  const deps = {
    cache,
    verifier,
    metrics,
    logger,
    limits: { maxRequestBytes: config.server.maxRequestBytes },
    metricsPath: config.metrics.path,
  };
  const handleHttp = createRestApp(deps).callback();
  const http = createServer((request, response) => void handleHttp(request, response));
  await listen(http, config.server.host, config.server.httpPort);
  const grpc = createGrpcServer(deps);
  const grpcPort = await bindGrpcServer(grpc.server, config.server.host, config.server.grpcPort);

  describeMode(logger, config, local);
  return {
    cache,
    metrics,
    httpPort: (http.address() as AddressInfo).port,
    grpcPort,
    devToken: dev?.token,
    close: async () => {
      grpc.setNotServing();
      await Promise.all([
        shutdownGrpcServer(grpc.server, config.server.gracefulTimeoutMs),
        closeHttp(http, config.server.gracefulTimeoutMs),
      ]);
      await invalidation.close(2000);
      await stack.close();
      logger.info({ pendingWrites: stack.journal.size }, 'data plane stopped');
    },
  };
}

function describeMode(logger: Logger, config: Config, local: LocalStore | undefined): void {
  const localCache =
    local === undefined
      ? 'disabled'
      : `${config.cache.evictionPolicy}, ${config.cache.localMaxEntries} entries`;
  if (config.redis === undefined) {
    logger.info(
      { mode: 'embedded', localCache },
      'embedded mode: no REDIS_ADDRESSES, serving from the local cache only (data is per process and lost on restart)',
    );
  } else {
    logger.info(
      {
        mode: config.redis.clusterMode ? 'cluster' : 'standalone',
        redis: config.redis.addresses,
        localCache,
      },
      'serving from Redis with the local cache in front',
    );
  }
  if (config.broker === undefined) {
    logger.info(
      { brokerStatus: 'disabled' },
      'no message broker configured: single-replica mode, no invalidation fan-out',
    );
  } else {
    logger.info(
      { broker: config.broker.type, topic: config.broker.topic, replicaId: config.broker.replicaId },
      'invalidation events fanned out through the broker',
    );
  }
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closeHttp(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), graceMs);
    force.unref();
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
