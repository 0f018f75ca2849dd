import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { z } from 'zod';
import type { BrokerConfig } from '../invalidation/message-broker.ts';
import { bool, duration, integer, list, port, positiveDuration } from './env-types.ts';

/** Raised when the environment does not describe a valid configuration; one line per bad value. */
export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const MiB = 1024 * 1024;

const DNS_LABEL = '[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?';
const DNS_SUBDOMAIN = `${DNS_LABEL}(\\.${DNS_LABEL})*`;

/** A Kubernetes object as `<namespace>/<name>`: a DNS label, then a DNS subdomain. */
const objectReference = z
  .string()
  .trim()
  .regex(
    new RegExp(`^${DNS_LABEL}/${DNS_SUBDOMAIN}$`),
    'expected <namespace>/<name> of a Kubernetes object, such as cacheplane-system/cacheplane-namespaces',
  )
  .refine((text) => text.length - text.indexOf('/') - 1 <= 253, 'the name is longer than 253 characters')
  .transform((text): ObjectReference => {
    const [namespace = '', name = ''] = text.split('/');
    return { namespace, name };
  });

/**
 * Every environment variable the data plane reads, with its default. The README's configuration
 * table mirrors this schema.
 */
const EnvSchema = z.object({
  NODE_ENV: z.string().default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  SERVER_HOST: z.string().min(1).default('0.0.0.0'),
  SERVER_GRPC_PORT: port.default(50051),
  SERVER_HTTP_PORT: port.default(8080),
  SERVER_GRACEFUL_TIMEOUT: duration.default(30_000),
  SERVER_MAX_REQUEST_BYTES: integer(1024, 1024 * MiB).default(16 * MiB),

  REDIS_ADDRESSES: list.default([]),
  REDIS_USERNAME: z.string().optional(),
  REDIS_PASSWORD: z.string().optional(),
  REDIS_DB: integer(0, 15).default(0),
  REDIS_CLUSTER_MODE: bool.default(false),
  REDIS_TLS_ENABLED: bool.default(false),
  REDIS_DIAL_TIMEOUT: positiveDuration.default(5000),
  REDIS_READ_TIMEOUT: positiveDuration.default(3000),
  REDIS_WRITE_TIMEOUT: positiveDuration.default(3000),
  REDIS_AUTO_PIPELINING: bool.default(true),
  REDIS_BREAKER_MAX_FAILURES: integer(1, 1_000_000).default(5),
  REDIS_BREAKER_TIMEOUT: positiveDuration.default(10_000),
  REDIS_BREAKER_HALF_OPEN_MAX_REQS: integer(1, 1).default(1),
  REDIS_REPLAY_INTERVAL: positiveDuration.default(1000),

  BROKER_TYPE: z.enum(['kafka', 'rabbitmq'], 'expected kafka or rabbitmq').default('rabbitmq'),
  BROKER_URL: list.default([]),
  BROKER_TOPIC: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected letters, digits, ".", "_" or "-"')
    .default('cache-invalidation'),
  BROKER_GROUP_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected letters, digits, ".", "_" or "-"')
    .default('cache-service'),
  BROKER_REPLICA_ID: z
    .string()
    .regex(/^[A-Za-z0-9._-]{1,200}$/, 'expected letters, digits, ".", "_" or "-"')
    .optional(),
  BROKER_CONNECT_TIMEOUT: positiveDuration.default(5000),

  AUTH_JWT_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  AUTH_JWT_ISSUER: z.string().min(1).optional(),
  AUTH_JWT_AUDIENCE: z.string().min(1).optional(),

  CACHE_DEFAULT_TTL: positiveDuration.default(3_600_000),
  CACHE_MAX_TTL: positiveDuration.default(30 * 24 * 3_600_000),
  CACHE_MAX_MEMORY_MB: integer(1, 1024 * 1024).default(512),
  CACHE_EVICTION_POLICY: z.enum(['lru', 'lfu'], 'expected lru or lfu').default('lru'),
  CACHE_LOCAL_CACHE_ENABLED: bool.default(true),
  CACHE_LOCAL_CACHE_SIZE: integer(1, 10_000_000).default(10_000),
  CACHE_MAX_VALUE_BYTES: integer(1, 512 * MiB).default(MiB),
  CACHE_MAX_KEY_BYTES: integer(1, 64 * 1024).default(1024),
  CACHE_MAX_BATCH_SIZE: integer(1, 100_000).default(1000),
  CACHE_DEGRADED_MAX_PENDING: integer(0, 10_000_000).default(100_000),
  CACHE_DEGRADED_MAX_PENDING_MB: integer(1, 1024 * 1024).default(64),

  NAMESPACES_SOURCE: z.enum(['static', 'kubernetes'], 'expected static or kubernetes').default('static'),
  NAMESPACES_CONFIGMAP: objectReference.default({
    namespace: 'cacheplane-system',
    name: 'cacheplane-namespaces',
  }),
  NAMESPACES_CREDENTIALS_SECRET: objectReference.default({
    namespace: 'cacheplane-system',
    name: 'cacheplane-namespace-credentials',
  }),

  METRICS_ENABLED: bool.default(true),
  METRICS_PATH: z
    .string()
    .regex(/^\/[\w\-/]*$/, 'expected a path such as /metrics')
    .default('/metrics'),
});

type Env = z.infer<typeof EnvSchema>;

export interface RedisConfig {
  addresses: string[];
  username: string | undefined;
  password: string | undefined;
  db: number;
  clusterMode: boolean;
  tlsEnabled: boolean;
  dialTimeoutMs: number;
  /** ioredis has one command timeout: the larger of the read and write timeouts. */
  commandTimeoutMs: number;
  autoPipelining: boolean;
  breaker: {
    maxFailures: number;
    openTimeoutMs: number;
    halfOpenMaxRequests: number;
  };
  replayIntervalMs: number;
}

/** A Kubernetes object, `<namespace>/<name>` in the environment. */
export interface ObjectReference {
  namespace: string;
  name: string;
}

/**
 * Where the served cache namespaces and their settings come from. `static`: any namespace a
 * token's `namespaces` claim grants, with the CACHE_* limits. `kubernetes`: the namespaces the
 * operator publishes, each with its own limits, local cache, access list and Redis ACL user.
 */
export type NamespacesConfig =
  | { source: 'static' }
  | { source: 'kubernetes'; configMap: ObjectReference; credentialsSecret: ObjectReference };

export interface Config {
  production: boolean;
  logLevel: Env['LOG_LEVEL'];
  server: {
    host: string;
    grpcPort: number;
    httpPort: number;
    gracefulTimeoutMs: number;
    maxRequestBytes: number;
  };
  /** Undefined in the embedded default: no Redis, local cache only. */
  redis: RedisConfig | undefined;
  /** Undefined without BROKER_URL: single-replica mode, no invalidation fan-out. */
  broker: BrokerConfig | undefined;
  auth: {
    jwtSecret: string | undefined;
    issuer: string | undefined;
    audience: string | undefined;
  };
  cache: {
    defaultTtlMs: number;
    maxTtlMs: number;
    maxMemoryBytes: number;
    evictionPolicy: 'lru' | 'lfu';
    localEnabled: boolean;
    localMaxEntries: number;
    maxValueBytes: number;
    maxKeyBytes: number;
    maxBatchSize: number;
    degradedMaxPending: number;
    degradedMaxPendingBytes: number;
  };
  namespaces: NamespacesConfig;
  metrics: { enabled: boolean; path: string };
}

/**
 * Reads and validates the configuration once, at start. Unset and empty variables take their
 * defaults; every bad value is reported, each on its own line, in one ConfigError.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.keys(EnvSchema.shape)
      .map((name) => [name, environment[name]] as const)
      .filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = issue.path.join('.');
        return `${name}=${JSON.stringify(present[name] ?? '')}: ${issue.message}`;
      }),
    );
  }
  const env = parsed.data;
  const problems = crossFieldProblems(env);
  if (problems.length > 0) throw new ConfigError(problems);
  return toConfig(env);
}

function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  if (env.REDIS_ADDRESSES.length === 0 && !env.CACHE_LOCAL_CACHE_ENABLED) {
    problems.push(
      'CACHE_LOCAL_CACHE_ENABLED=false: with no REDIS_ADDRESSES the local cache is the only store; enable it or set REDIS_ADDRESSES',
    );
  }
  if (env.REDIS_CLUSTER_MODE && env.REDIS_DB !== 0) {
    problems.push(`REDIS_DB=${env.REDIS_DB}: Redis Cluster has only database 0`);
  }
  if (env.CACHE_DEFAULT_TTL > env.CACHE_MAX_TTL) {
    problems.push('CACHE_DEFAULT_TTL: must not exceed CACHE_MAX_TTL');
  }
  if (env.NODE_ENV === 'production' && env.AUTH_JWT_SECRET === undefined) {
    problems.push(
      'AUTH_JWT_SECRET: required when NODE_ENV=production (a generated secret is for development only)',
    );
  }
  if (env.BROKER_TYPE === 'rabbitmq' && env.BROKER_URL.length > 1) {
    problems.push('BROKER_URL: RabbitMQ takes one amqp:// URL');
  }
  for (const url of env.BROKER_URL) {
    const valid =
      env.BROKER_TYPE === 'rabbitmq' ? /^amqps?:\/\/\S+$/.test(url) : /^[^:\s/]+:\d{1,5}$/.test(url);
    if (!valid) {
      problems.push(
        `BROKER_URL: "${url}" is not ${env.BROKER_TYPE === 'rabbitmq' ? 'an amqp:// URL' : 'a host:port Kafka broker'}`,
      );
    }
  }
  const { NAMESPACES_CONFIGMAP: configMap, NAMESPACES_CREDENTIALS_SECRET: secret } = env;
  if (env.NAMESPACES_SOURCE === 'kubernetes' && configMap.namespace !== secret.namespace) {
    problems.push(
      `NAMESPACES_CREDENTIALS_SECRET: must be in the ConfigMap's namespace "${configMap.namespace}" (NAMESPACES_CONFIGMAP), not "${secret.namespace}"`,
    );
  }
  for (const address of env.REDIS_ADDRESSES) {
    if (!/^(rediss?:\/\/.+|[^:\s/]+:\d{1,5})$/.test(address)) {
      problems.push(`REDIS_ADDRESSES: "${address}" is neither host:port nor a redis:// URL`);
    }
  }
  return problems;
}

function toConfig(env: Env): Config {
  return {
    production: env.NODE_ENV === 'production',
    logLevel: env.LOG_LEVEL,
    server: {
      host: env.SERVER_HOST,
      grpcPort: env.SERVER_GRPC_PORT,
      httpPort: env.SERVER_HTTP_PORT,
      gracefulTimeoutMs: env.SERVER_GRACEFUL_TIMEOUT,
      maxRequestBytes: env.SERVER_MAX_REQUEST_BYTES,
    },
    redis:
      env.REDIS_ADDRESSES.length === 0
        ? undefined
        : {
            addresses: env.REDIS_ADDRESSES,
            username: env.REDIS_USERNAME,
            password: env.REDIS_PASSWORD,
            db: env.REDIS_DB,
            clusterMode: env.REDIS_CLUSTER_MODE,
            tlsEnabled: env.REDIS_TLS_ENABLED,
            dialTimeoutMs: env.REDIS_DIAL_TIMEOUT,
            commandTimeoutMs: Math.max(env.REDIS_READ_TIMEOUT, env.REDIS_WRITE_TIMEOUT),
            autoPipelining: env.REDIS_AUTO_PIPELINING,
            breaker: {
              maxFailures: env.REDIS_BREAKER_MAX_FAILURES,
              openTimeoutMs: env.REDIS_BREAKER_TIMEOUT,
              halfOpenMaxRequests: env.REDIS_BREAKER_HALF_OPEN_MAX_REQS,
            },
            replayIntervalMs: env.REDIS_REPLAY_INTERVAL,
          },
    broker:
      env.BROKER_URL.length === 0
        ? undefined
        : {
            type: env.BROKER_TYPE,
            urls: env.BROKER_URL,
            topic: env.BROKER_TOPIC,
            groupId: env.BROKER_GROUP_ID,
            replicaId: env.BROKER_REPLICA_ID ?? `${hostname()}-${randomUUID().slice(0, 8)}`,
            connectTimeoutMs: env.BROKER_CONNECT_TIMEOUT,
          },
    auth: { jwtSecret: env.AUTH_JWT_SECRET, issuer: env.AUTH_JWT_ISSUER, audience: env.AUTH_JWT_AUDIENCE },
    cache: {
      defaultTtlMs: env.CACHE_DEFAULT_TTL,
      maxTtlMs: env.CACHE_MAX_TTL,
      maxMemoryBytes: env.CACHE_MAX_MEMORY_MB * MiB,
      evictionPolicy: env.CACHE_EVICTION_POLICY,
      localEnabled: env.CACHE_LOCAL_CACHE_ENABLED,
      localMaxEntries: env.CACHE_LOCAL_CACHE_SIZE,
      maxValueBytes: env.CACHE_MAX_VALUE_BYTES,
      maxKeyBytes: env.CACHE_MAX_KEY_BYTES,
      maxBatchSize: env.CACHE_MAX_BATCH_SIZE,
      degradedMaxPending: env.CACHE_DEGRADED_MAX_PENDING,
      degradedMaxPendingBytes: env.CACHE_DEGRADED_MAX_PENDING_MB * MiB,
    },
    namespaces:
      env.NAMESPACES_SOURCE === 'static'
        ? { source: 'static' }
        : {
            source: 'kubernetes',
            configMap: env.NAMESPACES_CONFIGMAP,
            credentialsSecret: env.NAMESPACES_CREDENTIALS_SECRET,
          },
    metrics: { enabled: env.METRICS_ENABLED, path: env.METRICS_PATH },
  };
}
