// Which keys an informer event wakes. Events only ever enqueue keys: the reconcile decides what to
// do from the state it reads, never from the kind of event (level-based). The operator's own writes
// (OwnWrites) and changes the reconcile does not read (status, labels) wake nothing, so that a pass
// does not wake itself.
import type { V1ConfigMap, V1Secret } from '@kubernetes/client-node';
import { GROUP, KIND } from '../api/types.ts';
import { objectKey, type CacheNamespaceObject } from './cluster-api.ts';
import { entryOwner } from './config-publisher.ts';
import { claimants, effectiveCacheNamespace, isDeleting } from './objects.ts';
import type { OwnWrites } from './own-writes.ts';

export interface Enqueuer {
  /** `moot`: asked once the key is free whether the event is the key's own pass's write. */
  add(key: string, moot?: () => boolean): void;
}

function keyOf(object: CacheNamespaceObject): string {
  return objectKey(object.metadata.namespace, object.metadata.name);
}

/** What of a CacheNamespace the reconcile acts on (not its status, labels or annotations). */
function fingerprint(object: CacheNamespaceObject): string {
  return JSON.stringify([object.metadata.generation, isDeleting(object), object.metadata.finalizers ?? []]);
}

export function cacheNamespaceHandlers(
  queue: Enqueuer,
  all: () => readonly CacheNamespaceObject[],
  ownWrites: OwnWrites,
) {
  /** The others claiming the same cache namespace: one going away may hand it to another. */
  const wakeRivals = (object: CacheNamespaceObject): void => {
    for (const rival of claimants(object, all())) {
      if (rival.metadata.uid !== object.metadata.uid) queue.add(keyOf(rival));
    }
  };
  return {
    added(object: CacheNamespaceObject): void {
      queue.add(keyOf(object));
    },
    updated(previous: CacheNamespaceObject | undefined, object: CacheNamespaceObject): void {
      if (previous !== undefined && fingerprint(previous) === fingerprint(object)) return;
      const { namespace, name, resourceVersion } = object.metadata;
      queue.add(keyOf(object), () => ownWrites.isOwn(KIND, namespace, name, resourceVersion));
      if (isDeleting(object) && (previous === undefined || !isDeleting(previous))) wakeRivals(object);
    },
    deleted(object: CacheNamespaceObject): void {
      ownWrites.forget(KIND, object.metadata.namespace, object.metadata.name);
      queue.add(keyOf(object));
      wakeRivals(object);
    },
    resync(object: CacheNamespaceObject): void {
      queue.add(keyOf(object));
    },
  };
}

/** The data plane's shared credentials Secret, as the Secret handlers need it. */
export interface SharedSecretWatch {
  namespace: string;
  name: string;
  all: () => readonly CacheNamespaceObject[];
  /** Told of every version the informer sees (undefined: deleted, or no longer labelled). */
  observed(resourceVersion: string | undefined): void;
}

/**
 * A Secret of the operator's wakes the CacheNamespace that controls it. The data plane's shared
 * credentials Secret wakes every object claiming a cache namespace whose keys changed.
 */
export function secretHandlers(queue: Enqueuer, ownWrites: OwnWrites, shared: SharedSecretWatch) {
  const isShared = (secret: V1Secret): boolean =>
    secret.metadata?.namespace === shared.namespace && secret.metadata?.name === shared.name;
  const sharedChanged = (before: V1Secret | undefined, after: V1Secret | undefined): void => {
    const version = after?.metadata?.resourceVersion;
    shared.observed(version);
    const changed = changedKeys(before?.data ?? {}, after?.data ?? {});
    const moot = () =>
      after !== undefined && ownWrites.isOwn('Secret', shared.namespace, shared.name, version);
    wakeClaimants(queue, shared.all(), cacheNamespacesOf(changed, ['.username', '.password']), moot);
  };
  const wakeOwner = (secret: V1Secret): void => {
    const owner = secret.metadata?.ownerReferences?.find(
      (reference) =>
        reference.controller === true &&
        reference.kind === KIND &&
        reference.apiVersion.startsWith(`${GROUP}/`),
    );
    const namespace = secret.metadata?.namespace ?? '';
    const name = secret.metadata?.name ?? '';
    const version = secret.metadata?.resourceVersion;
    if (owner === undefined || namespace === '') return;
    queue.add(objectKey(namespace, owner.name), () => ownWrites.isOwn('Secret', namespace, name, version));
  };
  return {
    added(secret: V1Secret): void {
      if (isShared(secret)) sharedChanged(undefined, secret);
      else wakeOwner(secret);
    },
    updated(previous: V1Secret | undefined, secret: V1Secret): void {
      if (isShared(secret)) {
        sharedChanged(previous, secret);
        return;
      }
      if (previous !== undefined && JSON.stringify(previous.data) === JSON.stringify(secret.data)) {
        const before = JSON.stringify([previous.metadata?.labels, previous.metadata?.ownerReferences]);
        if (before === JSON.stringify([secret.metadata?.labels, secret.metadata?.ownerReferences])) return;
      }
      wakeOwner(secret);
    },
    deleted(secret: V1Secret): void {
      ownWrites.forget('Secret', secret.metadata?.namespace ?? '', secret.metadata?.name ?? '');
      if (isShared(secret)) sharedChanged(secret, undefined);
      else wakeOwner(secret);
    },
  };
}

/**
 * A change to the data plane's ConfigMap wakes the objects whose entries changed: the owner named
 * in the old and the new entry, and every object claiming that cache namespace.
 */
export function configMapHandlers(
  queue: Enqueuer,
  all: () => readonly CacheNamespaceObject[],
  ownWrites: OwnWrites,
  observed: (configMap: V1ConfigMap | undefined) => void,
) {
  const wakeChanged = (
    before: Record<string, string>,
    after: Record<string, string>,
    configMap: V1ConfigMap | undefined,
  ): void => {
    const changed = changedKeys(before, after);
    if (changed.size === 0) return;
    const { namespace = '', name = '', resourceVersion } = configMap?.metadata ?? {};
    const moot = () =>
      configMap !== undefined && ownWrites.isOwn('ConfigMap', namespace, name, resourceVersion);
    for (const key of changed) {
      for (const entry of [before[key], after[key]]) {
        const owner = entryOwner(entry);
        if (owner !== undefined) queue.add(objectKey(owner.kubernetesNamespace, owner.name), moot);
      }
    }
    wakeClaimants(queue, all(), cacheNamespacesOf(changed, ['.json']), moot);
  };
  return {
    added(configMap: V1ConfigMap): void {
      observed(configMap);
      wakeChanged({}, configMap.data ?? {}, configMap);
    },
    updated(previous: V1ConfigMap | undefined, configMap: V1ConfigMap): void {
      observed(configMap);
      wakeChanged(previous?.data ?? {}, configMap.data ?? {}, configMap);
    },
    deleted(configMap: V1ConfigMap): void {
      observed(undefined);
      wakeChanged(configMap.data ?? {}, {}, undefined);
    },
  };
}

function changedKeys(before: Record<string, string>, after: Record<string, string>): Set<string> {
  return new Set([...Object.keys(before), ...Object.keys(after)].filter((key) => before[key] !== after[key]));
}

/** The cache namespaces of the keys `<cacheNamespace><suffix>` among `keys`. */
function cacheNamespacesOf(keys: Iterable<string>, suffixes: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const key of keys) {
    const suffix = suffixes.find((candidate) => key.endsWith(candidate));
    if (suffix !== undefined) found.add(key.slice(0, -suffix.length));
  }
  return found;
}

/** Wakes every object whose effective cache namespace is among `cacheNamespaces`. */
function wakeClaimants(
  queue: Enqueuer,
  all: readonly CacheNamespaceObject[],
  cacheNamespaces: ReadonlySet<string>,
  moot: () => boolean,
): void {
  if (cacheNamespaces.size === 0) return;
  for (const object of all) {
    const cacheNamespace = effectiveCacheNamespace(object);
    if (cacheNamespace !== undefined && cacheNamespaces.has(cacheNamespace)) queue.add(keyOf(object), moot);
  }
}
