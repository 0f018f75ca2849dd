// The data plane's ConfigMap: one key per cache namespace (`<cacheNamespace>.json`), written by
// every reconcile of every namespace through a SharedObjectWriter (writes coalesced, a 409 re-reads
// the ConfigMap and recomputes every change from it). An entry names its owner, which decides who
// may overwrite or remove it.
import type { ClusterApi, ConfigMapView } from './cluster-api.ts';
import {
  SharedObjectWriter,
  type SharedObjectStore,
  type SharedObjectWriterOptions,
} from './shared-object-writer.ts';

export type PublishOutcome =
  | { outcome: 'unchanged' | 'written' }
  /** The key holds another live object's entry; left alone. */
  | { outcome: 'conflict'; holder: string };

export type RemoveOutcome = 'absent' | 'removed' | 'not-ours';

export interface EntryOwner {
  uid: string;
  kubernetesNamespace: string;
  name: string;
}

/** Reads `owner` of a rendered entry; undefined when it is not one of ours. */
export function entryOwner(entry: string | undefined): EntryOwner | undefined {
  if (entry === undefined) return undefined;
  try {
    const owner = (JSON.parse(entry) as { owner?: Partial<EntryOwner> }).owner;
    if (typeof owner?.uid !== 'string') return undefined;
    return {
      uid: owner.uid,
      kubernetesNamespace: String(owner.kubernetesNamespace ?? ''),
      name: String(owner.name ?? ''),
    };
  } catch {
    return undefined;
  }
}

export class ConfigPublisher {
  readonly #writer: SharedObjectWriter;

  constructor(cluster: ClusterApi, options: SharedObjectWriterOptions = {}) {
    const store: SharedObjectStore = {
      cached: () => cluster.getConfigMap(),
      read: () => cluster.readConfigMap(),
      create: (data) => cluster.createConfigMap(data),
      replace: (resourceVersion, data) => cluster.replaceConfigMap(resourceVersion, data),
    };
    this.#writer = new SharedObjectWriter(store, options);
  }

  /**
   * Makes `key` hold `value`, unless it holds the entry of another object that `holderKeeps` says
   * keeps it (a live object with the stronger claim; a stale entry of a deleted object is replaced).
   */
  publish(
    key: string,
    value: string,
    ownerUid: string,
    holderKeeps: (holderUid: string) => boolean,
  ): Promise<PublishOutcome> {
    if (this.#writer.cached()?.data[key] === value) return Promise.resolve({ outcome: 'unchanged' });
    return this.#writer.edit<PublishOutcome>((data) => {
      const current = data[key];
      if (current === value) return { outcome: 'unchanged' };
      const holder = entryOwner(current);
      if (holder !== undefined && holder.uid !== ownerUid && holderKeeps(holder.uid)) {
        return { outcome: 'conflict', holder: `${holder.kubernetesNamespace}/${holder.name}` };
      }
      data[key] = value;
      return { outcome: 'written' };
    });
  }

  /** Removes `key` if it holds the entry of `ownerUid`. */
  remove(key: string, ownerUid: string): Promise<RemoveOutcome> {
    return this.#writer.edit<RemoveOutcome>((data) => {
      const current = data[key];
      if (current === undefined) return 'absent';
      if (entryOwner(current)?.uid !== ownerUid) return 'not-ours';
      delete data[key];
      return 'removed';
    });
  }

  /** Told of every version of the ConfigMap the informer sees (undefined: deleted). */
  observed(configMap: ConfigMapView | undefined): void {
    this.#writer.observed(configMap?.resourceVersion);
  }
}
