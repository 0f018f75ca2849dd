// Everything the reconcile needs from Kubernetes, as a small interface: reads come from the
// informers' caches (possibly a little stale: every write is guarded by a resourceVersion, so a
// stale read ends in a 409, never in a lost update), writes go to the API server.
// kube-cluster-api.ts implements it over client-node; the reconcile's unit tests use a fake.
import type { CacheNamespaceStatus } from '../api/types.ts';

/** A CacheNamespace as stored: not validated yet (the reconcile parses it). */
export interface CacheNamespaceObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace: string;
    uid: string;
    generation?: number | undefined;
    resourceVersion?: string | undefined;
    creationTimestamp?: string | Date | undefined;
    deletionTimestamp?: string | Date | undefined;
    finalizers?: string[] | undefined;
    [field: string]: unknown;
  };
  spec?: unknown;
  status?: CacheNamespaceStatus | undefined;
}

/** A Secret with its values decoded (UTF-8). */
export interface SecretView {
  namespace: string;
  name: string;
  resourceVersion?: string | undefined;
  labels: Record<string, string>;
  annotations?: Record<string, string> | undefined;
  ownerReferences: OwnerReferenceView[];
  values: Record<string, string>;
}

export interface OwnerReferenceView {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean | undefined;
  blockOwnerDeletion?: boolean | undefined;
}

export interface SecretWrite {
  namespace: string;
  name: string;
  /** Required by replaceSecret (optimistic concurrency). */
  resourceVersion?: string | undefined;
  labels: Record<string, string>;
  /** Absent: none (a replace drops those the Secret had). */
  annotations?: Record<string, string> | undefined;
  ownerReferences: OwnerReferenceView[];
  values: Record<string, string>;
}

export interface ConfigMapView {
  resourceVersion: string;
  data: Record<string, string>;
}

export interface ClusterApi {
  // ---- cached reads ------------------------------------------------------------------------
  getCacheNamespace(namespace: string, name: string): CacheNamespaceObject | undefined;
  listCacheNamespaces(): CacheNamespaceObject[];
  /** Only Secrets labelled as the operator's are cached; others read as undefined here. */
  getSecret(namespace: string, name: string): SecretView | undefined;
  /** The data plane's ConfigMap. */
  getConfigMap(): ConfigMapView | undefined;

  // ---- live reads and writes ---------------------------------------------------------------
  readSecret(namespace: string, name: string): Promise<SecretView | undefined>;
  /** Throws ApiError 409 (AlreadyExists) when it exists. */
  createSecret(secret: SecretWrite): Promise<SecretView>;
  /** Throws ApiError 409 when resourceVersion is not the current one. */
  replaceSecret(secret: SecretWrite): Promise<SecretView>;

  readConfigMap(): Promise<ConfigMapView | undefined>;
  /** Throws ApiError 409 when it exists, 404 when its namespace does not. */
  createConfigMap(data: Record<string, string>): Promise<ConfigMapView>;
  /** Replaces the whole `data`; throws ApiError 409 when resourceVersion is not the current one. */
  replaceConfigMap(resourceVersion: string, data: Record<string, string>): Promise<ConfigMapView>;

  /** PUT of the object (metadata.finalizers changes); 409 on a stale resourceVersion. */
  replaceCacheNamespace(object: CacheNamespaceObject): Promise<CacheNamespaceObject>;
  /** PUT of /status; 409 on a stale resourceVersion. */
  replaceCacheNamespaceStatus(object: CacheNamespaceObject): Promise<CacheNamespaceObject>;
}

/** An API server error, with its HTTP status (409 conflict or already exists, 404 not found, ...). */
export class ApiError extends Error {
  readonly status: number;
  readonly reason: string | undefined;

  constructor(status: number, message: string, reason?: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.reason = reason;
  }
}

export function isConflict(error: unknown): boolean {
  return error instanceof ApiError && error.status === 409;
}

export function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.status === 404;
}

/** `namespace/name`: the work queue's key of a namespaced object. */
export function objectKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  if (slash <= 0 || slash === key.length - 1) throw new Error(`not a namespace/name key: "${key}"`);
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
