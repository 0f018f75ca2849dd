// The data plane's per-namespace configuration read from Kubernetes: the ConfigMap and Secret the
// operator publishes in the data plane's namespace, listed and then watched by name, combined into
// one snapshot that is handed on whenever either object's data changes.
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../observability/logger.ts';
import { DEFAULT_BACKOFF, type BackoffOptions } from './kube-backoff.ts';
import { NamedObjectWatcher } from './kube-named-object-watcher.ts';
import { createNamedObjectApi, type NamedObjectApi } from './kube-object-api.ts';
import { EMPTY_SNAPSHOT, snapshotsEqual } from './kube-snapshot.ts';
import { CONFIG_MAP_KIND, SECRET_KIND, type WatchedKind } from './kube-watched-kinds.ts';
import type { NamespaceConfigSnapshot, NamespaceConfigSource } from './namespace-source.ts';

export interface KubeNamespaceSourceOptions {
  /** Where the API server is and who to be. @default in-cluster, or KUBECONFIG (KubeConfig.loadFromDefault) */
  readonly kubeConfig?: KubeConfig | undefined;
  /** The data plane's own namespace, where the operator publishes both objects. */
  readonly namespace: string;
  /** Keys `<cacheNamespace>.json`. */
  readonly configMapName: string;
  /** Keys `<cacheNamespace>.username` / `.password`. */
  readonly secretName: string;
  readonly logger: Logger;
  /**
   * A watch that delivers nothing for this long (not even a bookmark: the API server sends one
   * about every minute) is dropped and the object re-listed. @default 300_000
   */
  readonly stallTimeoutMs?: number | undefined;
  /** Bounds each list request, the first ones included: `start` rejects after it. @default 30_000 */
  readonly requestTimeoutMs?: number | undefined;
  /** Pauses before re-listing after failures. @default 500 ms doubling up to 30 s */
  readonly backoff?: BackoffOptions | undefined;
}

export function createKubeNamespaceSource(options: KubeNamespaceSourceOptions): NamespaceConfigSource {
  const logger = options.logger.child({ component: 'kube-namespace-source' });
  const stallTimeoutMs = options.stallTimeoutMs ?? 300_000;
  const kubeConfig = options.kubeConfig ?? defaultKubeConfig();
  let state: 'new' | 'starting' | 'started' | 'closed' = 'new';
  let listener: ((snapshot: NamespaceConfigSnapshot) => void) | undefined;
  let current = EMPTY_SNAPSHOT;

  const readSnapshot = (): NamespaceConfigSnapshot =>
    Object.freeze({ entries: entries.data, credentials: credentials.data });
  const changed = (): void => {
    if (listener === undefined) return; // start() hands out the first snapshot itself
    const next = readSnapshot();
    if (snapshotsEqual(current, next)) return;
    current = next;
    try {
      listener(next);
    } catch (error) {
      logger.error({ err: error }, 'namespace configuration listener failed');
    }
  };
  const watcherOptions = {
    stallTimeoutMs,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    backoff: options.backoff ?? DEFAULT_BACKOFF,
    logger,
    onChange: changed,
  };
  // Connections of its own for each: a watcher that finds its connection dead drops it without
  // disturbing the other.
  const apiFor = (kind: WatchedKind, name: string): NamedObjectApi =>
    createNamedObjectApi(kubeConfig, { kind, namespace: options.namespace, name, stallTimeoutMs });
  const entries = new NamedObjectWatcher({
    ...watcherOptions,
    api: apiFor(CONFIG_MAP_KIND, options.configMapName),
  });
  const credentials = new NamedObjectWatcher({
    ...watcherOptions,
    api: apiFor(SECRET_KIND, options.secretName),
  });

  const close = async (): Promise<void> => {
    state = 'closed';
    listener = undefined;
    await Promise.all([entries.close(), credentials.close()]);
  };

  return {
    async start(onChange) {
      if (state !== 'new') throw new Error(`the Kubernetes namespace source cannot start: it is ${state}`);
      state = 'starting';
      try {
        await Promise.all([entries.start(), credentials.start()]);
      } catch (error) {
        await close();
        throw error;
      }
      if (state !== 'starting') throw new Error('the Kubernetes namespace source was closed while starting');
      state = 'started';
      current = readSnapshot();
      listener = onChange;
      return current;
    },
    healthy: () => state === 'started' && entries.healthy && credentials.healthy,
    close,
  };
}

function defaultKubeConfig(): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromDefault();
  return kubeConfig;
}
