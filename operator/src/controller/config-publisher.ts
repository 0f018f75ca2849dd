// The data plane's ConfigMap: one key per cache namespace (`<cacheNamespace>.json`), written by
// every reconcile of every namespace. One object written by many workers would mostly produce 409s,
// so the writes are coalesced: the changes that arrive while a write is in flight go out together
// in the next one. Each write is a PUT guarded by the resourceVersion it was computed from; a 409
// (someone else wrote meanwhile) re-reads the ConfigMap and recomputes every change from it.
import type { ClusterApi, ConfigMapView } from './cluster-api.ts';
import { isConflict, isNotFound } from './cluster-api.ts';

export type PublishOutcome =
  | { outcome: 'unchanged' | 'written' }
  /** The key holds another live object's entry; left alone. */
  | { outcome: 'conflict'; holder: string };

export type RemoveOutcome = 'absent' | 'removed' | 'not-ours';

interface Decision<T> {
  /** The key's new value; undefined deletes it. */
  value: string | undefined;
  outcome: T;
}

interface Change {
  key: string;
  decide(current: string | undefined): Decision<unknown>;
  resolve(outcome: unknown): void;
  reject(error: unknown): void;
}

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

export interface ConfigPublisherOptions {
  /** Attempts of one batch when every write meets a 409. @default 8 */
  maxAttempts?: number | undefined;
}

export class ConfigPublisher {
  readonly #cluster: ClusterApi;
  readonly #maxAttempts: number;
  #pending: Change[] = [];
  #writing = false;
  /** The ConfigMap as this publisher last wrote or read it; undefined: read it before writing. */
  #known: ConfigMapView | undefined;

  constructor(cluster: ClusterApi, options: ConfigPublisherOptions = {}) {
    this.#cluster = cluster;
    this.#maxAttempts = options.maxAttempts ?? 8;
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
    if (this.#cluster.getConfigMap()?.data[key] === value) return Promise.resolve({ outcome: 'unchanged' });
    return this.#submit<PublishOutcome>(key, (current) => {
      if (current === value) return { value: current, outcome: { outcome: 'unchanged' } };
      const holder = entryOwner(current);
      if (holder !== undefined && holder.uid !== ownerUid && holderKeeps(holder.uid)) {
        return {
          value: current,
          outcome: { outcome: 'conflict', holder: `${holder.kubernetesNamespace}/${holder.name}` },
        };
      }
      return { value, outcome: { outcome: 'written' } };
    });
  }

  /** Removes `key` if it holds the entry of `ownerUid`. */
  remove(key: string, ownerUid: string): Promise<RemoveOutcome> {
    return this.#submit<RemoveOutcome>(key, (current) => {
      if (current === undefined) return { value: undefined, outcome: 'absent' };
      if (entryOwner(current)?.uid !== ownerUid) return { value: current, outcome: 'not-ours' };
      return { value: undefined, outcome: 'removed' };
    });
  }

  /**
   * Told of every version of the ConfigMap the informer sees (undefined: deleted). A version this
   * publisher did not write means someone else changed it: read it afresh before the next write.
   */
  observed(configMap: ConfigMapView | undefined): void {
    if (configMap === undefined || configMap.resourceVersion !== this.#known?.resourceVersion) {
      this.#known = undefined;
    }
  }

  #submit<T>(key: string, decide: (current: string | undefined) => Decision<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ key, decide, resolve: (outcome) => resolve(outcome as T), reject });
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#writing) return;
    this.#writing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        await this.#write(batch);
      }
    } finally {
      this.#writing = false;
    }
  }

  /** Writes a batch; settles every change of it. */
  async #write(batch: Change[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt += 1) {
      try {
        const base = this.#known ?? (await this.#cluster.readConfigMap());
        const data: Record<string, string> = { ...base?.data };
        const outcomes = batch.map((change) => {
          const decision = change.decide(data[change.key]);
          if (decision.value === undefined) delete data[change.key];
          else data[change.key] = decision.value;
          return decision.outcome;
        });
        if (sameData(data, base?.data ?? {})) {
          this.#known = base;
        } else {
          this.#known =
            base === undefined
              ? await this.#cluster.createConfigMap(data)
              : await this.#cluster.replaceConfigMap(base.resourceVersion, data);
        }
        batch.forEach((change, index) => change.resolve(outcomes[index]));
        return;
      } catch (error) {
        this.#known = undefined;
        lastError = error;
        // 409: written (or created) by someone else meanwhile; 404: deleted meanwhile. Re-read.
        if (!isConflict(error) && !isNotFound(error)) break;
        if (isNotFound(error) && attempt > 0 && (await this.#cluster.readConfigMap()) === undefined) {
          // Not found twice: its namespace is missing. Creating again cannot help.
          break;
        }
      }
    }
    batch.forEach((change) => change.reject(lastError));
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
