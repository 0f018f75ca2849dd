import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKEN_GRANT_AUTHORIZER, type Authorizer } from './auth/authorizer.ts';
import { generateDevCredentials } from './auth/dev-credentials.ts';
import { JwtVerifier } from './auth/jwt-verifier.ts';
import { buildCacheStack } from './cache/cache-stack.ts';
import type { CacheService } from './cache/types.ts';
import type { Config, NamespacesConfig } from './config/config.ts';
import { bindGrpcServer, createGrpcServer, shutdownGrpcServer } from './grpc/server.ts';
import type { InvalidationTarget } from './invalidation/invalidation-receiver.ts';
import type { LocalStore } from './local/local-store.ts';
import type { Logger } from './observability/logger.ts';
import { NoopMetrics, PrometheusMetrics, type Metrics } from './observability/metrics.ts';
import { createBroker } from './invalidation/create-broker.ts';
import { NO_INVALIDATION, brokerInvalidation, type Invalidation } from './invalidation/invalidation.ts';
import { createRestApp } from './rest/app.ts';
import { startKubernetesTenancy } from './tenancy/kubernetes-tenancy.ts';
import type { NamespaceConfigSource } from './tenancy/namespace-source.ts';

export interface DataPlane {
  cache: CacheService;
  metrics: Metrics;
  httpPort: number;
  grpcPort: number;
  /**
   * Set when no AUTH_JWT_SECRET was configured: a token of subject `dev`, for the `default`
   * namespace (static) or wherever access lists allow `dev` (kubernetes).
   */
  devToken: string | undefined;
  /** Stops taking calls, drains both transports (up to the graceful timeout) and disconnects. */
  close(): Promise<void>;
}

export interface DataPlaneOptions {
  /**
   * Where NAMESPACES_SOURCE=kubernetes reads namespaces from; default: the ConfigMap and Secret
   * of NAMESPACES_CONFIGMAP / NAMESPACES_CREDENTIALS_SECRET, through the Kubernetes API.
   */
  namespaceSource?: NamespaceConfigSource;
}

/** What serves the cache calls, in either NAMESPACES_SOURCE mode. */
interface Serving {
  cache: CacheService & InvalidationTarget;
  authorizer: Authorizer;
  /** The static mode's local store, for the start-up log line. */
  local: LocalStore | undefined;
  /** Resolves with the degraded writes still pending after a last replay. */
  close(): Promise<number>;
}

/** Builds and starts the whole data plane from a validated configuration. */
export async function startDataPlane(
  config: Config,
  logger: Logger,
  options: DataPlaneOptions = {},
): Promise<DataPlane> {
  const metrics: Metrics = config.metrics.enabled ? new PrometheusMetrics() : new NoopMetrics();
  const invalidation =
    config.broker === undefined
      ? NO_INVALIDATION
      : brokerInvalidation(createBroker(config.broker, logger), config.broker.replicaId, metrics, logger);
  const serving =
    config.namespaces.source === 'kubernetes'
      ? await serveConfiguredNamespaces(config, config.namespaces, metrics, logger, invalidation, options)
      : await serveStatic(config, metrics, logger, invalidation);
  const { cache, local } = serving;
  await invalidation.start(cache, config.broker?.connectTimeoutMs ?? 0);

  const authorization = config.namespaces.source === 'kubernetes' ? 'access-lists' : 'token-grants';
  const dev =
    config.auth.jwtSecret === undefined
      ? generateDevCredentials(config.auth.issuer, config.auth.audience, authorization)
      : undefined;
  const verifier = new JwtVerifier({
    secret: config.auth.jwtSecret ?? (dev?.secret as string),
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    authorization,
  });

  const deps = {
    cache,
    verifier,
    authorizer: serving.authorizer,
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
      const pendingWrites = await serving.close();
      logger.info({ pendingWrites }, 'data plane stopped');
    },
  };
}

async function serveStatic(
  config: Config,
  metrics: Metrics,
  logger: Logger,
  invalidation: Invalidation,
): Promise<Serving> {
  const stack = await buildCacheStack(config, metrics, logger, invalidation);
  return {
    cache: stack.cache,
    authorizer: TOKEN_GRANT_AUTHORIZER,
    local: stack.local,
    close: async () => {
      await stack.close();
      return stack.journal.size;
    },
  };
}

async function serveConfiguredNamespaces(
  config: Config,
  namespaces: Extract<NamespacesConfig, { source: 'kubernetes' }>,
  metrics: Metrics,
  logger: Logger,
  invalidation: Invalidation,
  options: DataPlaneOptions,
): Promise<Serving> {
  const { configMap, credentialsSecret } = namespaces;
  const secret = `${credentialsSecret.namespace}/${credentialsSecret.name}`;
  const sourceDescription = `ConfigMap ${configMap.namespace}/${configMap.name} and Secret ${secret}`;
  let source = options.namespaceSource;
  try {
    // Loaded only here: the Kubernetes client is of no use to the static mode.
    source ??= (await import('./tenancy/kube-namespace-source.ts')).createKubeNamespaceSource({
      namespace: configMap.namespace,
      configMapName: configMap.name,
      secretName: credentialsSecret.name,
      logger,
    });
  } catch (error) {
    throw new Error(
      `cannot read the namespace configuration (${sourceDescription}): ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
  // Until the watch is back, changes to the namespaces go unnoticed: the gauge says so.
  const watched = source;
  metrics.trackGauges({ namespaceConfigUp: () => (watched.healthy() ? 1 : 0) });
  const tenancy = await startKubernetesTenancy({
    source,
    sourceDescription,
    settings: {
      redis: config.redis,
      globalLimits: config.cache,
      journal: {
        maxEntries: config.cache.degradedMaxPending,
        maxBytes: config.cache.degradedMaxPendingBytes,
      },
      credentialsSecret: secret,
      invalidation,
      metrics,
      logger,
    },
  });
  return {
    cache: tenancy.router,
    authorizer: tenancy.authorizer,
    local: undefined,
    close: () => tenancy.close(),
  };
}

function describeMode(logger: Logger, config: Config, local: LocalStore | undefined): void {
  if (config.namespaces.source === 'kubernetes') {
    const { configMap, credentialsSecret } = config.namespaces;
    logger.info(
      {
        namespacesSource: 'kubernetes',
        configMap: `${configMap.namespace}/${configMap.name}`,
        credentialsSecret: `${credentialsSecret.namespace}/${credentialsSecret.name}`,
        mode: config.redis === undefined ? 'embedded' : config.redis.clusterMode ? 'cluster' : 'standalone',
      },
      config.redis === undefined
        ? 'serving the namespaces published in Kubernetes, each from its own local cache only (no REDIS_ADDRESSES)'
        : 'serving the namespaces published in Kubernetes, each with its own limits, local cache and Redis ACL user',
    );
  } else {
    describeStaticMode(logger, config, local);
  }
  describeBroker(logger, config);
}

function describeStaticMode(logger: Logger, config: Config, local: LocalStore | undefined): void {
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
}

function describeBroker(logger: Logger, config: Config): void {
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
