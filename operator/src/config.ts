// The operator process's configuration: every environment variable it reads, with its default,
// validated once at start. Every bad value is reported on its own line, in one ConfigError.
// operator/README.md's configuration table mirrors this schema.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { z } from 'zod';
import { bool, integer, list, port, positiveDuration } from '../../dataplane/src/config/env-types.ts';
import {
  ACL_USER_PREFIX_PATTERN,
  assertValidSettings,
  type OperatorSettings,
} from './desired/desired-state.ts';

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`invalid operator configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;
const DEFAULT_CREDENTIALS_SECRET = 'cacheplane-namespace-credentials';
/** Where Kubernetes mounts the pod's namespace. */
const IN_CLUSTER_NAMESPACE_FILE = '/var/run/secrets/kubernetes.io/serviceaccount/namespace';

const EnvSchema = z.object({
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Absent: in-cluster (the pod's service account). */
  KUBECONFIG: z.string().optional(),

  OPERATOR_REDIS_ADDRESSES: list.pipe(
    z.array(z.string()).min(1, 'required: host:port or redis:// URLs, comma-separated'),
  ),
  OPERATOR_REDIS_CLUSTER_MODE: bool.default(false),
  OPERATOR_REDIS_USERNAME: z.string().min(1).default('cacheplane-operator'),
  OPERATOR_REDIS_PASSWORD: z.string().min(1).optional(),
  OPERATOR_REDIS_TLS: bool.default(false),
  OPERATOR_REDIS_TIMEOUT: positiveDuration.default(2000),
  /** The data plane's REDIS_DB: its users then need SELECT. */
  OPERATOR_DATAPLANE_REDIS_DB: integer(0, 15).default(0),
  OPERATOR_ACL_USER_PREFIX: z
    .string()
    .regex(ACL_USER_PREFIX_PATTERN, 'expected 1-20 of a-z, 0-9 and "-"')
    .default('cacheplane'),

  OPERATOR_DATAPLANE_CONFIGMAP: z
    .string()
    .regex(/^[^/]+\/[^/]+$/, 'expected namespace/name')
    .default('cacheplane-system/cacheplane-namespaces'),
  /** Absent: `<the ConfigMap's namespace>/cacheplane-namespace-credentials`. */
  OPERATOR_DATAPLANE_SECRET: z
    .string()
    .regex(/^[^/]+\/[^/]+$/, 'expected namespace/name')
    .optional(),

  OPERATOR_LEASE_NAMESPACE: z.string().regex(DNS_LABEL, 'expected a namespace name').optional(),
  OPERATOR_LEASE_NAME: z
    .string()
    .regex(DNS_SUBDOMAIN, 'expected a Lease name')
    .default('cacheplane-operator'),
  OPERATOR_LEASE_DURATION: positiveDuration.default(15_000),
  OPERATOR_LEASE_RENEW_DEADLINE: positiveDuration.default(10_000),
  OPERATOR_LEASE_RETRY_PERIOD: positiveDuration.default(2_000),
  OPERATOR_IDENTITY: z.string().min(1).max(128).optional(),

  OPERATOR_RESYNC_PERIOD: positiveDuration.default(300_000),
  OPERATOR_WATCH_TIMEOUT: positiveDuration.default(60_000),
  OPERATOR_WORKERS: integer(1, 64).default(4),
  OPERATOR_BACKOFF_BASE: positiveDuration.default(100),
  OPERATOR_BACKOFF_MAX: positiveDuration.default(60_000),

  OPERATOR_HTTP_HOST: z.string().min(1).default('0.0.0.0'),
  OPERATOR_HTTP_PORT: port.default(8080),
  OPERATOR_SHUTDOWN_TIMEOUT: positiveDuration.default(20_000),
});

type Env = z.infer<typeof EnvSchema>;

export interface OperatorConfig {
  logLevel: Env['LOG_LEVEL'];
  /** Undefined: in-cluster configuration. */
  kubeconfig: string | undefined;
  settings: OperatorSettings;
  redis: {
    addresses: string[];
    username: string;
    password: string | undefined;
    tls: boolean;
    timeoutMs: number;
  };
  lease: {
    namespace: string;
    name: string;
    durationMs: number;
    renewDeadlineMs: number;
    retryPeriodMs: number;
  };
  identity: string;
  resyncPeriodMs: number;
  watchTimeoutMs: number;
  workers: number;
  backoff: { baseMs: number; maxMs: number };
  http: { host: string; port: number };
  shutdownTimeoutMs: number;
}

/** Reads the environment; unset and empty variables take their defaults. */
export function loadConfig(
  environment: NodeJS.ProcessEnv = process.env,
  podNamespace: () => string | undefined = readPodNamespace,
): OperatorConfig {
  const present = Object.fromEntries(
    Object.keys(EnvSchema.shape)
      .map((name) => [name, environment[name]] as const)
      .filter(([, value]) => value !== undefined && value.trim() !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0] ?? '');
        const shown = name.endsWith('PASSWORD') ? '(hidden)' : JSON.stringify(present[name] ?? '');
        return `${name}=${shown}: ${issue.message}`;
      }),
    );
  }
  const env = parsed.data;
  const problems = crossFieldProblems(env);
  const dataPlaneConfig = namespacedName(env.OPERATOR_DATAPLANE_CONFIGMAP);
  const credentialsSecret =
    env.OPERATOR_DATAPLANE_SECRET ?? `${dataPlaneConfig.namespace}/${DEFAULT_CREDENTIALS_SECRET}`;
  const dataPlaneCredentials = namespacedName(credentialsSecret);
  const settings: OperatorSettings = {
    aclUserPrefix: env.OPERATOR_ACL_USER_PREFIX,
    redis: {
      mode: env.OPERATOR_REDIS_CLUSTER_MODE ? 'cluster' : 'standalone',
      db: env.OPERATOR_DATAPLANE_REDIS_DB,
    },
    dataPlaneConfig,
    dataPlaneCredentials,
  };
  const locationProblems = [
    ...badLocation('OPERATOR_DATAPLANE_CONFIGMAP', env.OPERATOR_DATAPLANE_CONFIGMAP, 'a ConfigMap'),
    // Unset, it is the ConfigMap's namespace and a valid name: nothing more to check.
    ...(env.OPERATOR_DATAPLANE_SECRET === undefined
      ? []
      : badLocation('OPERATOR_DATAPLANE_SECRET', env.OPERATOR_DATAPLANE_SECRET, 'a Secret')),
  ];
  if (locationProblems.length === 0 && dataPlaneCredentials.namespace !== dataPlaneConfig.namespace) {
    locationProblems.push(
      `OPERATOR_DATAPLANE_SECRET=${JSON.stringify(credentialsSecret)}: must be in the namespace of ` +
        'OPERATOR_DATAPLANE_CONFIGMAP (the data plane reads both from its own namespace)',
    );
  }
  problems.push(...locationProblems);
  if (problems.length === 0) {
    // Already covered by the checks above; kept as the settings' own guard.
    try {
      assertValidSettings(settings);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
    }
  }
  const leaseNamespace = env.OPERATOR_LEASE_NAMESPACE ?? podNamespace() ?? dataPlaneConfig.namespace;
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    logLevel: env.LOG_LEVEL,
    kubeconfig: env.KUBECONFIG,
    settings,
    redis: {
      addresses: env.OPERATOR_REDIS_ADDRESSES,
      username: env.OPERATOR_REDIS_USERNAME,
      password: env.OPERATOR_REDIS_PASSWORD,
      tls: env.OPERATOR_REDIS_TLS,
      timeoutMs: env.OPERATOR_REDIS_TIMEOUT,
    },
    lease: {
      namespace: leaseNamespace,
      name: env.OPERATOR_LEASE_NAME,
      durationMs: env.OPERATOR_LEASE_DURATION,
      renewDeadlineMs: env.OPERATOR_LEASE_RENEW_DEADLINE,
      retryPeriodMs: env.OPERATOR_LEASE_RETRY_PERIOD,
    },
    identity: env.OPERATOR_IDENTITY ?? `${hostname()}_${randomUUID().slice(0, 8)}`,
    resyncPeriodMs: env.OPERATOR_RESYNC_PERIOD,
    watchTimeoutMs: env.OPERATOR_WATCH_TIMEOUT,
    workers: env.OPERATOR_WORKERS,
    backoff: { baseMs: env.OPERATOR_BACKOFF_BASE, maxMs: env.OPERATOR_BACKOFF_MAX },
    http: { host: env.OPERATOR_HTTP_HOST, port: env.OPERATOR_HTTP_PORT },
    shutdownTimeoutMs: env.OPERATOR_SHUTDOWN_TIMEOUT,
  };
}

function namespacedName(value: string): { namespace: string; name: string } {
  const [namespace = '', name = ''] = value.split('/');
  return { namespace, name };
}

/** A problem when `value` is not `namespace/name` of a valid object name. */
function badLocation(variable: string, value: string, what: string): string[] {
  const { namespace, name } = namespacedName(value);
  if (DNS_LABEL.test(namespace) && DNS_SUBDOMAIN.test(name)) return [];
  return [`${variable}=${JSON.stringify(value)}: expected namespace/name of ${what}`];
}

function crossFieldProblems(env: Env): string[] {
  const problems: string[] = [];
  for (const address of env.OPERATOR_REDIS_ADDRESSES) {
    if (!/^(rediss?:\/\/.+|[^:\s/]+:\d{1,5})$/.test(address)) {
      problems.push(`OPERATOR_REDIS_ADDRESSES: "${address}" is neither host:port nor a redis:// URL`);
    }
  }
  if (env.OPERATOR_REDIS_CLUSTER_MODE && env.OPERATOR_DATAPLANE_REDIS_DB !== 0) {
    problems.push(
      `OPERATOR_DATAPLANE_REDIS_DB=${env.OPERATOR_DATAPLANE_REDIS_DB}: Redis Cluster has only database 0`,
    );
  }
  if (env.OPERATOR_LEASE_RENEW_DEADLINE >= env.OPERATOR_LEASE_DURATION) {
    problems.push(
      'OPERATOR_LEASE_RENEW_DEADLINE: must be shorter than OPERATOR_LEASE_DURATION (a leader must stop before its Lease can be taken)',
    );
  }
  if (env.OPERATOR_LEASE_RETRY_PERIOD >= env.OPERATOR_LEASE_RENEW_DEADLINE) {
    problems.push('OPERATOR_LEASE_RETRY_PERIOD: must be shorter than OPERATOR_LEASE_RENEW_DEADLINE');
  }
  if (env.OPERATOR_LEASE_DURATION % 1000 !== 0) {
    problems.push('OPERATOR_LEASE_DURATION: must be whole seconds (a Lease counts in seconds)');
  }
  if (env.OPERATOR_BACKOFF_BASE > env.OPERATOR_BACKOFF_MAX) {
    problems.push('OPERATOR_BACKOFF_BASE: must not exceed OPERATOR_BACKOFF_MAX');
  }
  return problems;
}

function readPodNamespace(): string | undefined {
  try {
    return readFileSync(IN_CLUSTER_NAMESPACE_FILE, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
