// ClusterApi over @kubernetes/client-node: three informers (every CacheNamespace; the Secrets
// labelled as the operator's; the data plane's one ConfigMap) for reads, typed API calls for writes.
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  type V1ConfigMap,
  type V1Secret,
} from '@kubernetes/client-node';
import { GROUP, KIND, PLURAL, VERSION } from '../api/types.ts';
import { MANAGED_BY, MANAGED_BY_LABEL } from '../desired/desired-state.ts';
import {
  ApiError,
  type CacheNamespaceObject,
  type ClusterApi,
  type ConfigMapView,
  type SecretView,
  type SecretWrite,
} from './cluster-api.ts';
import { Informer, type InformerLogger } from './informer.ts';
import { OwnWrites } from './own-writes.ts';

export type StoredCacheNamespace = CacheNamespaceObject & KubernetesObject;

export interface KubeCaches {
  cacheNamespaces: Informer<StoredCacheNamespace>;
  secrets: Informer<V1Secret>;
  configMap: Informer<V1ConfigMap>;
}

export interface InformerSettings {
  dataPlaneConfig: { namespace: string; name: string };
  resyncPeriodMs: number;
  watchTimeoutMs?: number | undefined;
  log: InformerLogger;
  onError?: ((informer: string, error: unknown) => void) | undefined;
}

/** The label selector of the Secrets the operator creates (the only ones it watches). */
export const MANAGED_SECRETS = `${MANAGED_BY_LABEL}=${MANAGED_BY}`;

export function createInformers(kubeConfig: KubeConfig, settings: InformerSettings): KubeCaches {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const { namespace, name } = settings.dataPlaneConfig;
  const common = (informer: string) => ({
    kubeConfig,
    resyncPeriodMs: settings.resyncPeriodMs,
    watchTimeoutMs: settings.watchTimeoutMs,
    log: settings.log,
    onError: (error: unknown) => settings.onError?.(informer, error),
  });
  return {
    cacheNamespaces: new Informer<StoredCacheNamespace>({
      ...common('cachenamespaces'),
      name: 'cachenamespaces',
      path: `/apis/${GROUP}/${VERSION}/${PLURAL}`,
      list: () =>
        custom.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL }) as Promise<
          KubernetesListObject<StoredCacheNamespace>
        >,
    }),
    secrets: new Informer<V1Secret>({
      ...common('secrets'),
      name: 'secrets',
      path: '/api/v1/secrets',
      labelSelector: MANAGED_SECRETS,
      list: () => core.listSecretForAllNamespaces({ labelSelector: MANAGED_SECRETS }),
    }),
    configMap: new Informer<V1ConfigMap>({
      ...common('configmap'),
      name: 'configmap',
      path: `/api/v1/namespaces/${namespace}/configmaps`,
      fieldSelector: `metadata.name=${name}`,
      list: () => core.listNamespacedConfigMap({ namespace, fieldSelector: `metadata.name=${name}` }),
    }),
  };
}

export class KubeClusterApi implements ClusterApi {
  readonly #core: CoreV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #caches: KubeCaches;
  readonly #configMap: { namespace: string; name: string };
  /** The versions this API wrote: their informer events wake nothing (enqueue.ts). */
  readonly ownWrites: OwnWrites;

  constructor(
    kubeConfig: KubeConfig,
    caches: KubeCaches,
    dataPlaneConfig: { namespace: string; name: string },
    ownWrites = new OwnWrites(),
  ) {
    this.#core = kubeConfig.makeApiClient(CoreV1Api);
    this.#custom = kubeConfig.makeApiClient(CustomObjectsApi);
    this.#caches = caches;
    this.#configMap = dataPlaneConfig;
    this.ownWrites = ownWrites;
  }

  getCacheNamespace(namespace: string, name: string): CacheNamespaceObject | undefined {
    return this.#caches.cacheNamespaces.get(name, namespace);
  }

  listCacheNamespaces(): CacheNamespaceObject[] {
    return [...this.#caches.cacheNamespaces.list()];
  }

  getSecret(namespace: string, name: string): SecretView | undefined {
    const secret = this.#caches.secrets.get(name, namespace);
    return secret === undefined ? undefined : secretView(secret);
  }

  getConfigMap(): ConfigMapView | undefined {
    const configMap = this.#caches.configMap.get(this.#configMap.name, this.#configMap.namespace);
    return configMap === undefined ? undefined : configMapView(configMap);
  }

  async readSecret(namespace: string, name: string): Promise<SecretView | undefined> {
    try {
      return secretView(await bounded(this.#core.readNamespacedSecret({ namespace, name })));
    } catch (error) {
      const translated = apiError(error);
      if (translated.status === 404) return undefined;
      throw translated;
    }
  }

  async createSecret(secret: SecretWrite): Promise<SecretView> {
    const created = await call(() =>
      this.#core.createNamespacedSecret({ namespace: secret.namespace, body: secretBody(secret) }),
    );
    return this.#ownSecret(created);
  }

  async replaceSecret(secret: SecretWrite): Promise<SecretView> {
    if (secret.resourceVersion === undefined) throw new Error('replaceSecret needs a resourceVersion');
    const replaced = await call(() =>
      this.#core.replaceNamespacedSecret({
        namespace: secret.namespace,
        name: secret.name,
        body: secretBody(secret),
      }),
    );
    return this.#ownSecret(replaced);
  }

  #ownSecret(secret: V1Secret): SecretView {
    const view = secretView(secret);
    this.ownWrites.record('Secret', view.namespace, view.name, view.resourceVersion);
    return view;
  }

  #ownConfigMap(configMap: V1ConfigMap): ConfigMapView {
    const view = configMapView(configMap);
    this.ownWrites.record('ConfigMap', this.#configMap.namespace, this.#configMap.name, view.resourceVersion);
    return view;
  }

  #ownCacheNamespace(object: CacheNamespaceObject): CacheNamespaceObject {
    const { namespace, name, resourceVersion } = object.metadata;
    this.ownWrites.record(KIND, namespace, name, resourceVersion);
    return object;
  }

  async readConfigMap(): Promise<ConfigMapView | undefined> {
    try {
      return configMapView(await bounded(this.#core.readNamespacedConfigMap(this.#configMap)));
    } catch (error) {
      const translated = apiError(error);
      if (translated.status === 404) return undefined;
      throw translated;
    }
  }

  async createConfigMap(data: Record<string, string>): Promise<ConfigMapView> {
    const { namespace, name } = this.#configMap;
    const created = await call(() =>
      this.#core.createNamespacedConfigMap({
        namespace,
        body: { metadata: { name, namespace, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } }, data },
      }),
    );
    return this.#ownConfigMap(created);
  }

  async replaceConfigMap(resourceVersion: string, data: Record<string, string>): Promise<ConfigMapView> {
    const { namespace, name } = this.#configMap;
    // The cached object carries labels and annotations that others may have set: keep them.
    const cached = this.#caches.configMap.get(name, namespace);
    const replaced = await call(() =>
      this.#core.replaceNamespacedConfigMap({
        namespace,
        name,
        body: {
          metadata: {
            name,
            namespace,
            resourceVersion,
            labels: { ...cached?.metadata?.labels, [MANAGED_BY_LABEL]: MANAGED_BY },
            annotations: cached?.metadata?.annotations,
          },
          data,
        },
      }),
    );
    return this.#ownConfigMap(replaced);
  }

  async replaceCacheNamespace(object: CacheNamespaceObject): Promise<CacheNamespaceObject> {
    const replaced = await call(
      () =>
        this.#custom.replaceNamespacedCustomObject({
          ...this.#target(object),
          body: object,
        }) as Promise<CacheNamespaceObject>,
    );
    return this.#ownCacheNamespace(replaced);
  }

  async replaceCacheNamespaceStatus(object: CacheNamespaceObject): Promise<CacheNamespaceObject> {
    const replaced = await call(
      () =>
        this.#custom.replaceNamespacedCustomObjectStatus({
          ...this.#target(object),
          body: object,
        }) as Promise<CacheNamespaceObject>,
    );
    return this.#ownCacheNamespace(replaced);
  }

  #target(object: CacheNamespaceObject) {
    return {
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: object.metadata.namespace,
      name: object.metadata.name,
    };
  }
}

/**
 * client-node sets no timeout on a request: one that hangs (an API server that stopped answering)
 * would hold a worker, and a leader stepping down waits for its workers. The pass gives up after
 * this long instead (an error: retried with backoff; a write that lands later is harmless, the next
 * pass reads it and every write is guarded by its resourceVersion).
 */
export const REQUEST_TIMEOUT_MS = 30_000;

async function call<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await bounded(request());
  } catch (error) {
    throw apiError(error);
  }
}

function bounded<T>(request: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiError(0, `no answer from the API server within ${REQUEST_TIMEOUT_MS / 1000} s`)),
      REQUEST_TIMEOUT_MS,
    );
  });
  return Promise.race([request, timeout]).finally(() => clearTimeout(timer));
}

/** client-node's ApiException (body: the Status as JSON text) as an ApiError; others as they are. */
export function apiError(error: unknown): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof ApiException) {
    const status = error as ApiException<unknown>;
    let message = `HTTP ${status.code}`;
    let reason: string | undefined;
    try {
      const body = (typeof status.body === 'string' ? JSON.parse(status.body) : status.body) as {
        message?: string;
        reason?: string;
      };
      message = body.message ?? message;
      reason = body.reason;
    } catch {
      // not a Status: keep the code
    }
    return new ApiError(status.code, message, reason);
  }
  if (error instanceof Error) {
    const wrapped = new ApiError(0, error.message);
    wrapped.cause = error;
    return wrapped;
  }
  return new ApiError(0, String(error));
}

function secretView(secret: V1Secret): SecretView {
  const metadata = secret.metadata ?? {};
  return {
    namespace: metadata.namespace ?? '',
    name: metadata.name ?? '',
    resourceVersion: metadata.resourceVersion,
    labels: { ...metadata.labels },
    annotations: metadata.annotations === undefined ? undefined : { ...metadata.annotations },
    ownerReferences: (metadata.ownerReferences ?? []).map((reference) => ({
      apiVersion: reference.apiVersion,
      kind: reference.kind,
      name: reference.name,
      uid: reference.uid,
      controller: reference.controller,
      blockOwnerDeletion: reference.blockOwnerDeletion,
    })),
    values: Object.fromEntries(
      Object.entries(secret.data ?? {}).map(([key, value]) => [
        key,
        Buffer.from(value, 'base64').toString('utf8'),
      ]),
    ),
  };
}

function secretBody(secret: SecretWrite): V1Secret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name: secret.name,
      namespace: secret.namespace,
      resourceVersion: secret.resourceVersion,
      labels: secret.labels,
      annotations: secret.annotations,
      ownerReferences: secret.ownerReferences,
    },
    type: 'Opaque',
    data: Object.fromEntries(
      Object.entries(secret.values).map(([key, value]) => [
        key,
        Buffer.from(value, 'utf8').toString('base64'),
      ]),
    ),
  };
}

function configMapView(configMap: V1ConfigMap): ConfigMapView {
  return { resourceVersion: configMap.metadata?.resourceVersion ?? '', data: { ...configMap.data } };
}
