// A real Kubernetes API for the data plane's tests: etcd + kube-apiserver started by
// scripts/kube-test-env.sh in a temp directory of its own (the script's header says what runs:
// the API server alone, with RBAC, static-token admin and service-account tokens). The operator's
// harness (operator/test/support/kube-env.ts) builds on this one and applies its CRD (the operator
// workspace references the data plane's, not the other way round).
// On top: restarting kube-apiserver on the same port and etcd, and kubeconfigs for
// service accounts, whose rights a test grants with RBAC.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CoreV1Api, Health, KubeConfig, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { waitFor } from './child-process-server.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/kube-test-env.sh');
const START_TIMEOUT_MS = 150_000;
const STOP_TIMEOUT_MS = 60_000;
const RESTART_READY_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5000;

export interface KubeApi {
  /** The admin kubeconfig file (system:masters). */
  readonly kubeconfigPath: string;
  /** `https://127.0.0.1:<port>` */
  readonly server: string;
  /** The kubectl binary built with the API server. */
  readonly kubectl: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly rbac: RbacAuthorizationV1Api;
  /**
   * Stops kube-apiserver (SIGTERM, SIGKILL after 5 s) and runs the same command again (same port,
   * same etcd); resolves once it is ready.
   */
  restartApiServer(): Promise<void>;
  /** Stops etcd and kube-apiserver and removes the directory. */
  stop(): Promise<void>;
}

/** Starts a fresh API server (about 5 s). */
export async function startKubeApi(): Promise<KubeApi> {
  const parent = mkdtempSync(join(tmpdir(), 'cacheplane-dataplane-kube-'));
  const dir = join(parent, 'env');
  const env = { ...process.env, CACHEPLANE_KUBE_ENV_DIR: dir };
  const stopNow = (): void => {
    // The servers run in sessions of their own: they would outlive a test process that dies.
    try {
      execFileSync('bash', [SCRIPT, 'stop'], { env, timeout: 30_000, stdio: 'ignore' });
    } catch {
      // best effort
    }
    rmSync(parent, { recursive: true, force: true });
  };
  live.add(stopNow);
  registerExitCleanup();
  const stop = async (): Promise<void> => {
    live.delete(stopNow);
    await execFileAsync('bash', [SCRIPT, 'stop'], { env, timeout: STOP_TIMEOUT_MS }).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    const { stdout } = await execFileAsync('bash', [SCRIPT, 'start'], { env, timeout: START_TIMEOUT_MS });
    const exported = parseExports(stdout);
    const kubeconfigPath = exported.get('KUBECONFIG');
    const server = exported.get('CACHEPLANE_KUBE_SERVER');
    if (kubeconfigPath === undefined || server === undefined) {
      throw new Error(`kube-test-env.sh printed no KUBECONFIG:\n${stdout}`);
    }
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    return {
      kubeconfigPath,
      server,
      kubectl: exported.get('CACHEPLANE_KUBECTL') ?? 'kubectl',
      kubeConfig,
      core: kubeConfig.makeApiClient(CoreV1Api),
      rbac: kubeConfig.makeApiClient(RbacAuthorizationV1Api),
      restartApiServer: () => restartApiServer(dir, kubeConfig),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** `export NAME=value` lines, `%q`-quoted by bash's printf (plain paths and URLs here). */
function parseExports(stdout: string): Map<string, string> {
  return new Map(
    [...stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map(([, name, value]) => [
      name ?? '',
      (value ?? '').replace(/\\(.)/g, '$1'),
    ]),
  );
}

/**
 * Restarts kube-apiserver with the command line it runs with now (read from /proc), in a session
 * of its own as the script starts it, and records the new pid where the script's `stop` finds it.
 */
async function restartApiServer(dir: string, kubeConfig: KubeConfig): Promise<void> {
  const pidFile = join(dir, 'kube-apiserver.pid');
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  const [command, ...args] = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
  if (command === undefined) throw new Error(`cannot read the command line of kube-apiserver (pid ${pid})`);
  // Its graceful shutdown waits up to a minute for open watches: SIGKILL after a few seconds.
  process.kill(pid, 'SIGTERM');
  const exited = (): Promise<boolean> => Promise.resolve(!isRunning(pid));
  await waitFor(exited, STOP_GRACE_MS, 'kube-apiserver to exit').catch(() => process.kill(pid, 'SIGKILL'));
  await waitFor(exited, 10_000, `kube-apiserver (pid ${pid}) to exit`);
  const log = openSync(join(dir, 'kube-apiserver.log'), 'a');
  try {
    const child = spawn(command, args, { detached: true, stdio: ['ignore', log, log] });
    child.unref();
    if (child.pid === undefined) throw new Error(`cannot start ${command} again`);
    writeFileSync(pidFile, `${child.pid}\n`);
  } finally {
    closeSync(log);
  }
  const health = new Health(kubeConfig);
  await waitFor(() => health.readyz({}), RESTART_READY_TIMEOUT_MS, 'kube-apiserver to be ready again', {
    intervalMs: 200,
  });
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const live = new Set<() => void>();
let exitCleanupRegistered = false;

/** Stops every env still running when the test process exits (a timed-out ava worker included). */
function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  const stopAll = (): void => {
    for (const stopNow of live) stopNow();
    live.clear();
  };
  process.on('exit', stopAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      stopAll();
      process.kill(process.pid, signal);
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Namespaces, service accounts and their rights

/** Creates a namespace (idempotent). */
export async function ensureNamespace(api: KubeApi, name: string): Promise<void> {
  try {
    await api.core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}

export interface ServiceAccountRef {
  readonly namespace: string;
  readonly name: string;
}

/**
 * Creates the service account and returns a kubeconfig that authenticates as it with a token
 * from the TokenRequest API; `server` replaces the API server's address (e.g. a proxy's).
 */
export async function serviceAccountKubeConfig(
  api: KubeApi,
  account: ServiceAccountRef,
  server: string = api.server,
): Promise<KubeConfig> {
  await api.core.createNamespacedServiceAccount({
    namespace: account.namespace,
    body: { metadata: { name: account.name } },
  });
  const request = await api.core.createNamespacedServiceAccountToken({
    namespace: account.namespace,
    name: account.name,
    body: { spec: { audiences: [], expirationSeconds: 3600 } },
  });
  const token = request.status?.token;
  if (token === undefined)
    throw new Error(`no token for service account ${account.namespace}/${account.name}`);
  return tokenKubeConfig(api, token, server);
}

/** A kubeconfig for the API (or `server`) that sends `token`. */
export function tokenKubeConfig(api: KubeApi, token: string, server: string = api.server): KubeConfig {
  const caData = api.kubeConfig.getCurrentCluster()?.caData;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'test', server, caData, skipTLSVerify: false }],
    users: [{ name: 'test', token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'test' }],
    currentContext: 'test',
  });
  return kubeConfig;
}

export interface NamedRead {
  readonly resource: 'configmaps' | 'secrets';
  readonly name: string;
}

/**
 * A Role allowing get/list/watch on just the named objects (as the data plane's own Role does)
 * and its binding to the service account.
 */
export async function grantRead(
  api: KubeApi,
  account: ServiceAccountRef,
  reads: readonly NamedRead[],
): Promise<void> {
  const name = `${account.name}-read`;
  await api.rbac.createNamespacedRole({
    namespace: account.namespace,
    body: {
      metadata: { name },
      rules: reads.map((read) => ({
        apiGroups: [''],
        resources: [read.resource],
        resourceNames: [read.name],
        verbs: ['get', 'list', 'watch'],
      })),
    },
  });
  await api.rbac.createNamespacedRoleBinding({
    namespace: account.namespace,
    body: {
      metadata: { name },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects: [{ kind: 'ServiceAccount', name: account.name, namespace: account.namespace }],
    },
  });
}
