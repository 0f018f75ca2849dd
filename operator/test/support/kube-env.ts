// A real Kubernetes API for integration tests: etcd + kube-apiserver started by
// scripts/kube-test-env.sh in a temp directory of its own (so test files running at once do not
// share one), with the CacheNamespace CRD applied and established. There is no controller-manager:
// no garbage collector and no namespace controller (see the script's header).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ApiextensionsV1Api,
  CustomObjectsApi,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import { parse } from 'yaml';
import { startKubeApi, type KubeApi } from '../../../dataplane/test/support/kube-harness.ts';
import { GROUP, PLURAL, VERSION } from '../../src/api/types.ts';

export { ensureNamespace } from '../../../dataplane/test/support/kube-harness.ts';

const execFileAsync = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CRD_FILE = join(ROOT, 'crds/cacheplane.dev_cachenamespaces.yaml');

/** The data plane's test API server (etcd + kube-apiserver, admin kubeconfig) with the CRD. */
export interface KubeEnv extends KubeApi {
  readonly custom: CustomObjectsApi;
}

/** Starts a fresh API server (about 5 s) and applies the CRD. */
export async function startKubeEnv(): Promise<KubeEnv> {
  const api = await startKubeApi();
  try {
    await applyCrd(api.kubeConfig, api.kubectl, api.kubeconfigPath);
    return { ...api, custom: api.kubeConfig.makeApiClient(CustomObjectsApi) };
  } catch (error) {
    await api.stop();
    throw error;
  }
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
