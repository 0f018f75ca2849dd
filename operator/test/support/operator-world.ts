// What the operator's integration tests share: a real API server (kube-env.ts) with the CRD, the
// operator's namespace and team namespaces; real Redis (standalone or a 3+3 cluster) with the
// operator's own least-privilege ACL user; the operator's RBAC applied and a kubeconfig for its
// ServiceAccount (so the operator runs with exactly operator/rbac/); and helpers to create objects
// and wait for them.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import {
  redisCli,
  startRedisCluster,
  startRedisStandalone,
  type RedisClusterHandle,
  type RedisServerHandle,
} from '../../../dataplane/test/support/redis-harness.ts';
import {
  API_VERSION,
  GROUP,
  KIND,
  PLURAL,
  VERSION,
  type CacheNamespaceStatus,
  type Condition,
} from '../../src/api/types.ts';
import type { OperatorConfig } from '../../src/config.ts';
import type { CacheNamespaceObject } from '../../src/controller/cluster-api.ts';
import { DEFAULT_SETTINGS } from '../../src/desired/desired-state.ts';
import { operatorAclRules } from '../../src/redis/acl-admin.ts';
import { parseGetUser, type AclUserState } from '../../src/redis/acl-rules.ts';
import { generatePassword } from '../../src/redis/password.ts';
import { ensureNamespace, startKubeEnv, type KubeEnv } from './kube-env.ts';

const execFileAsync = promisify(execFile);
const RBAC_DIR = fileURLToPath(new URL('../../rbac/', import.meta.url));

export const OPERATOR_NAMESPACE = 'cacheplane-system';
export const OPERATOR_REDIS_USER = 'cacheplane-operator';
export const CONFIGMAP = { namespace: OPERATOR_NAMESPACE, name: 'cacheplane-namespaces' };
/** The data plane's copy of every namespace's credentials. */
export const CREDENTIALS_SECRET = { namespace: OPERATOR_NAMESPACE, name: 'cacheplane-namespace-credentials' };
/** The data plane's ServiceAccount, bound by operator/rbac/data-plane-role.yaml. */
export const DATA_PLANE_ACCOUNT = 'cacheplane-data-plane';
export const SPEC = {
  access: [{ subjects: ['system:serviceaccount:team-a:orders-api'], verbs: ['get', 'set'] }],
};

export interface World {
  kube: KubeEnv;
  mode: 'standalone' | 'cluster';
  standalone: RedisServerHandle | undefined;
  cluster: RedisClusterHandle | undefined;
  /** `host:port` of every Redis node. */
  redisNodes: string[];
  operatorRedisPassword: string;
  /** A kubeconfig file for the operator's ServiceAccount, bound by operator/rbac/. */
  operatorKubeconfig: string;
  stop(): Promise<void>;
}

export async function startWorld(mode: 'standalone' | 'cluster'): Promise<World> {
  const scratch = mkdtempSync(join(tmpdir(), 'cacheplane-operator-world-'));
  let kube: KubeEnv | undefined;
  let standalone: RedisServerHandle | undefined;
  let cluster: RedisClusterHandle | undefined;
  const stop = async (): Promise<void> => {
    await Promise.all([kube?.stop(), standalone?.stop(), cluster?.stop()]);
    rmSync(scratch, { recursive: true, force: true });
  };
  try {
    // In parallel, each kept as soon as it runs, so that a failure of one still stops the others.
    const started = await Promise.allSettled([
      startKubeEnv().then((env) => (kube = env)),
      mode === 'standalone' ? startRedisStandalone().then((server) => (standalone = server)) : undefined,
      mode === 'cluster' ? startRedisCluster().then((handle) => (cluster = handle)) : undefined,
    ]);
    const failed = started.find((outcome) => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    if (kube === undefined) throw new Error('the API server did not start');
    const redisNodes = standalone !== undefined ? [standalone.address] : (cluster?.addresses ?? []);
    const operatorRedisPassword = generatePassword();
    await createOperatorRedisUser(redisNodes, mode, operatorRedisPassword);
    for (const namespace of [OPERATOR_NAMESPACE, 'team-a', 'team-b']) await ensureNamespace(kube, namespace);
    const operatorKubeconfig = await serviceAccountKubeconfig(kube, scratch);
    return { kube, mode, standalone, cluster, redisNodes, operatorRedisPassword, operatorKubeconfig, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** The operator's own Redis user, as an administrator creates it (here: as the default user). */
export async function createOperatorRedisUser(
  nodes: string[],
  mode: 'standalone' | 'cluster',
  password: string,
): Promise<void> {
  for (const node of nodes) {
    await redisCli(
      node,
      'ACL',
      'SETUSER',
      OPERATOR_REDIS_USER,
      'reset',
      'on',
      `>${password}`,
      ...operatorAclRules(mode),
    );
  }
}

/**
 * Applies operator/rbac/ (ServiceAccounts, ClusterRole, Roles and bindings) and writes a kubeconfig
 * that authenticates as the operator's ServiceAccount.
 */
async function serviceAccountKubeconfig(kube: KubeEnv, dir: string): Promise<string> {
  await execFileAsync(kube.kubectl, ['--kubeconfig', kube.kubeconfigPath, 'apply', '-f', RBAC_DIR], {
    timeout: 30_000,
  });
  const config = await serviceAccountKubeConfig(kube, 'cacheplane-operator');
  const path = join(dir, 'operator-kubeconfig');
  writeFileSync(path, config.exportConfig(), { mode: 0o600 });
  return path;
}

/** A client configuration that authenticates as a ServiceAccount of the operator's namespace (a TokenRequest token). */
export async function serviceAccountKubeConfig(kube: KubeEnv, account: string): Promise<KubeConfig> {
  const core = kube.kubeConfig.makeApiClient(CoreV1Api);
  const token = await core.createNamespacedServiceAccountToken({
    name: account,
    namespace: OPERATOR_NAMESPACE,
    body: { spec: { audiences: [], expirationSeconds: 86_400 } },
  });
  const cluster = kube.kubeConfig.getCurrentCluster();
  if (cluster === null || token.status?.token === undefined) throw new Error('no cluster or no token');
  const config = new KubeConfig();
  config.loadFromOptions({
    clusters: [cluster],
    users: [{ name: account, token: token.status.token }],
    contexts: [{ name: account, cluster: cluster.name, user: account }],
    currentContext: account,
  });
  return config;
}

/** An in-process operator's configuration, with test timings. */
export function operatorConfig(world: World, overrides: Partial<OperatorConfig> = {}): OperatorConfig {
  return {
    logLevel: 'warn',
    kubeconfig: world.operatorKubeconfig,
    settings: { ...DEFAULT_SETTINGS, redis: { mode: world.mode, db: 0 } },
    redis: {
      addresses: world.redisNodes.slice(0, 1),
      username: OPERATOR_REDIS_USER,
      password: world.operatorRedisPassword,
      tls: false,
      timeoutMs: 1000,
    },
    lease: {
      namespace: OPERATOR_NAMESPACE,
      name: 'cacheplane-operator',
      durationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 250,
    },
    identity: `test-${Math.random().toString(16).slice(2, 10)}`,
    resyncPeriodMs: 300_000,
    watchTimeoutMs: 60_000,
    workers: 4,
    backoff: { baseMs: 100, maxMs: 2000 },
    http: { host: '127.0.0.1', port: 0 },
    shutdownTimeoutMs: 10_000,
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------------
// Objects

export async function createCacheNamespace(
  kube: KubeEnv,
  namespace: string,
  name: string,
  spec: Record<string, unknown> = SPEC,
): Promise<CacheNamespaceObject> {
  return (await kube.custom.createNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    body: { apiVersion: API_VERSION, kind: KIND, metadata: { name, namespace }, spec },
    // As kubectl does: unknown fields are an error, not a warning.
    fieldValidation: 'Strict',
  })) as CacheNamespaceObject;
}

export async function getCacheNamespace(
  kube: KubeEnv,
  namespace: string,
  name: string,
): Promise<CacheNamespaceObject | undefined> {
  try {
    return (await kube.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace,
      plural: PLURAL,
      name,
    })) as CacheNamespaceObject;
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/** Replaces the spec (a user's `kubectl apply` of a changed spec). */
export async function updateSpec(
  kube: KubeEnv,
  namespace: string,
  name: string,
  change: (spec: Record<string, unknown>) => Record<string, unknown>,
): Promise<CacheNamespaceObject> {
  for (;;) {
    const current = await getCacheNamespace(kube, namespace, name);
    if (current === undefined) throw new Error(`${namespace}/${name} is gone`);
    try {
      return (await kube.custom.replaceNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace,
        plural: PLURAL,
        name,
        body: { ...current, spec: change(current.spec as Record<string, unknown>) },
      })) as CacheNamespaceObject;
    } catch (error) {
      if ((error as { code?: number }).code !== 409) throw error;
    }
  }
}

export async function deleteCacheNamespace(kube: KubeEnv, namespace: string, name: string): Promise<void> {
  await kube.custom.deleteNamespacedCustomObject({
    group: GROUP,
    version: VERSION,
    namespace,
    plural: PLURAL,
    name,
  });
}

export function conditionOf(status: CacheNamespaceStatus | undefined, type: string): Condition | undefined {
  return status?.conditions?.find((condition) => condition.type === type);
}

export function isReady(object: CacheNamespaceObject | undefined): boolean {
  return (
    object !== undefined &&
    conditionOf(object.status, 'Ready')?.status === 'True' &&
    object.status?.observedGeneration === object.metadata.generation
  );
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const result = await check();
      if (result !== undefined && result !== false) return result;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export async function waitReady(kube: KubeEnv, namespace: string, name: string, timeoutMs = 20_000) {
  return waitFor(
    `${namespace}/${name} to be Ready`,
    async () => {
      const object = await getCacheNamespace(kube, namespace, name);
      return isReady(object) ? object : undefined;
    },
    timeoutMs,
  );
}

export async function waitGone(
  kube: KubeEnv,
  namespace: string,
  name: string,
  timeoutMs = 20_000,
): Promise<void> {
  await waitFor(
    `${namespace}/${name} to be gone`,
    async () => (await getCacheNamespace(kube, namespace, name)) === undefined,
    timeoutMs,
  );
}

export async function readConfigMapData(kube: KubeEnv): Promise<Record<string, string> | undefined> {
  try {
    return (await kube.core.readNamespacedConfigMap(CONFIGMAP)).data ?? {};
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

/** The data plane's shared credentials Secret, its values decoded; undefined when missing. */
export async function readSharedCredentials(kube: KubeEnv): Promise<Record<string, string> | undefined> {
  try {
    return decodeSecretData((await kube.core.readNamespacedSecret(CREDENTIALS_SECRET)).data);
  } catch (error) {
    if ((error as { code?: number }).code === 404) return undefined;
    throw error;
  }
}

export function decodeSecretData(data: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(
    Object.entries(data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
}

/** ACL GETUSER on every node, as Redis's default user (not through the operator's connections). */
export async function aclUserOnEveryNode(
  world: World,
  user: string,
): Promise<Map<string, AclUserState | undefined>> {
  const result = new Map<string, AclUserState | undefined>();
  for (const node of world.redisNodes) {
    const [host, port] = node.split(':');
    const client = new Redis({ host, port: Number(port), lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await client.connect();
      result.set(node, parseGetUser(await client.call('ACL', 'GETUSER', user)));
    } finally {
      client.disconnect();
    }
  }
  return result;
}
