// The two kinds of object the Kubernetes source reads, and how each turns into snapshot data.
import type { ConfigurationOptions, CoreV1Api } from '@kubernetes/client-node';
import { configMapData, decodeSecretData, type StringRecord } from './kube-snapshot.ts';

/** An object as a list or a watch event carries it: only what the source reads. */
export interface WatchedObject {
  readonly metadata?: { readonly name?: string | undefined; readonly resourceVersion?: string | undefined };
  readonly data?: StringRecord | undefined;
}

export interface WatchedList {
  readonly items: readonly WatchedObject[];
  readonly metadata?: { readonly resourceVersion?: string | undefined } | undefined;
}

export interface WatchedKind {
  /** `ConfigMap`, `Secret`: for logs and errors. */
  readonly kind: string;
  /** The collection's URL path in `namespace`. */
  path(namespace: string): string;
  list(
    core: CoreV1Api,
    namespace: string,
    fieldSelector: string,
    options: ConfigurationOptions,
  ): Promise<WatchedList>;
  /** The object's data as a snapshot holds it. */
  dataOf(object: WatchedObject): StringRecord;
}

export const CONFIG_MAP_KIND: WatchedKind = {
  kind: 'ConfigMap',
  path: (namespace) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`,
  list: (core, namespace, fieldSelector, options) =>
    core.listNamespacedConfigMap({ namespace, fieldSelector }, options),
  dataOf: (object) => configMapData(object.data),
};

export const SECRET_KIND: WatchedKind = {
  kind: 'Secret',
  path: (namespace) => `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
  list: (core, namespace, fieldSelector, options) =>
    core.listNamespacedSecret({ namespace, fieldSelector }, options),
  dataOf: (object) => decodeSecretData(object.data),
};
