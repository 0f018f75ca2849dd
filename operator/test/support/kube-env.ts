// A real Kubernetes API for integration tests: etcd + kube-apiserver started by
// scripts/kube-test-env.sh in a temp directory of its own (so test files running at once do not
// share one), with the CacheNamespace CRD applied and established. There is no controller-manager:
// no garbage collector and no namespace controller (see the script's header).
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SCRIPT = join(ROOT, 'scripts/kube-test-env.sh');
const CRD_FILE = join(ROOT, 'crds/cacheplane.dev_cachenamespaces.yaml');

export interface KubeEnv {
  /** The admin kubeconfig file (system:masters). */
  readonly kubeconfigPath: string;
  readonly server: string;
  /** The kubectl binary built with the API server. */
  readonly kubectl: string;
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly custom: CustomObjectsApi;
  /** Stops etcd and kube-apiserver and removes the directory. */
  stop(): Promise<void>;
}

/** Starts a fresh API server (about 5 s) and applies the CRD. */
export async function startKubeEnv(): Promise<KubeEnv> {
  const parent = mkdtempSync(join(tmpdir(), 'cacheplane-operator-kube-'));
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
    await execFileAsync('bash', [SCRIPT, 'stop'], { env, timeout: 60_000 }).catch(() => undefined);
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    const { stdout } = await execFileAsync('bash', [SCRIPT, 'start'], { env, timeout: 150_000 });
    const exported: Record<string, string> = Object.fromEntries(
      [...stdout.matchAll(/^export ([A-Z_]+)=(.*)$/gm)].map(([, name, value]) => [
        name ?? '',
        unquote(value ?? ''),
      ]),
    );
    const kubeconfigPath = exported['KUBECONFIG'];
    const server = exported['CACHEPLANE_KUBE_SERVER'];
    if (kubeconfigPath === undefined || server === undefined) {
      throw new Error(`kube-test-env.sh printed no KUBECONFIG:\n${stdout}`);
    }
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(kubeconfigPath);
    const kubectl = exported['CACHEPLANE_KUBECTL'] ?? 'kubectl';
    await applyCrd(kubeConfig, kubectl, kubeconfigPath);
    return {
      kubeconfigPath,
      server,
      kubectl,
      kubeConfig,
      core: kubeConfig.makeApiClient(CoreV1Api),
      custom: kubeConfig.makeApiClient(CustomObjectsApi),
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
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

/** `%q`-quoted by bash's printf: plain paths and URLs here, possibly with backslash escapes. */
function unquote(value: string): string {
  return value.replace(/\\(.)/g, '$1');
}

/**
 * With kubectl, as a user would: client-node's typed serializer would silently drop the schema's
 * `default` and `x-kubernetes-validations` keys of a CRD parsed from YAML (it only writes the
 * fields it knows by their TypeScript names, `_default` and `x_kubernetes_validations`).
 */
async function applyCrd(kubeConfig: KubeConfig, kubectl: string, kubeconfigPath: string): Promise<void> {
  await execFileAsync(kubectl, ['--kubeconfig', kubeconfigPath, 'apply', '-f', CRD_FILE], {
    timeout: 30_000,
  });
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crd = parse(readFileSync(CRD_FILE, 'utf8')) as V1CustomResourceDefinition;
  const name = crd.metadata?.name ?? '';
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const current = await api.readCustomResourceDefinition({ name });
    if (current.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True')) {
      // Established can come a moment before the resource is served to every client: wait for a list.
      const custom = kubeConfig.makeApiClient(CustomObjectsApi);
      try {
        await custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL });
        return;
      } catch {
        // not served yet
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`CRD ${name} was not established within 30 s`);
}

/** Creates a namespace (idempotent). */
export async function ensureNamespace(env: KubeEnv, name: string): Promise<void> {
  try {
    await env.core.createNamespace({ body: { metadata: { name } } });
  } catch (error) {
    if ((error as { code?: number }).code !== 409) throw error;
  }
}
