// One Kubernetes object whose keys every reconcile of every namespace writes: the data plane's
// ConfigMap (config-publisher.ts) and its credentials Secret (credentials-mirror.ts). One object
// written by many workers would mostly produce 409s, so the writes are coalesced: the edits that
// arrive while a write is in flight go out together in the next one. Each write is a PUT guarded by
// the resourceVersion it was computed from; a 409 (someone else wrote meanwhile) re-reads the object
// and applies every edit again to the fresh copy, so keys written by others are kept.
import { isConflict, isNotFound } from './cluster-api.ts';

export interface SharedObjectView {
  resourceVersion: string;
  data: Record<string, string>;
  /** The object's metadata needs a write even when no key changes (e.g. the operator's label is gone). */
  needsRepair?: boolean | undefined;
}

/** The object's reads and writes (over ClusterApi, or a fake). */
export interface SharedObjectStore {
  /** The object as the informer has it: possibly a little behind. */
  cached(): SharedObjectView | undefined;
  read(): Promise<SharedObjectView | undefined>;
  /** Throws ApiError 409 when it exists, 404 when its namespace does not. */
  create(data: Record<string, string>): Promise<SharedObjectView>;
  /** Replaces every key; throws ApiError 409 when resourceVersion is not the current one. */
  replace(resourceVersion: string, data: Record<string, string>): Promise<SharedObjectView>;
}

/** Changes `data` (a copy of the object's keys) in place; returns what its caller is told. */
export type Edit<T> = (data: Record<string, string>) => T;

interface PendingEdit {
  edit: Edit<unknown>;
  resolve(outcome: unknown): void;
  reject(error: unknown): void;
}

export interface SharedObjectWriterOptions {
  /** Attempts of one batch when every write meets a 409. @default 8 */
  maxAttempts?: number | undefined;
}

export class SharedObjectWriter {
  readonly #store: SharedObjectStore;
  readonly #maxAttempts: number;
  #pending: PendingEdit[] = [];
  #writing = false;
  /** The object as this writer last wrote or read it; undefined: read it before writing. */
  #known: SharedObjectView | undefined;

  constructor(store: SharedObjectStore, options: SharedObjectWriterOptions = {}) {
    this.#store = store;
    this.#maxAttempts = options.maxAttempts ?? 8;
  }

  cached(): SharedObjectView | undefined {
    return this.#store.cached();
  }

  /** Applies `edit` in the next write; resolves with its outcome once that write succeeded. */
  edit<T>(edit: Edit<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#pending.push({ edit, resolve: (outcome) => resolve(outcome as T), reject });
      void this.#flush();
    });
  }

  /**
   * Told of every version of the object the informer sees (undefined: deleted). A version this
   * writer did not write means someone else changed it: read it afresh before the next write.
   */
  observed(resourceVersion: string | undefined): void {
    if (resourceVersion === undefined || resourceVersion !== this.#known?.resourceVersion) {
      this.#known = undefined;
    }
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

  /** Writes a batch; settles every edit of it. */
  async #write(batch: PendingEdit[]): Promise<void> {
    let lastError: unknown;
    for (let attempt = 0; attempt < this.#maxAttempts; attempt += 1) {
      try {
        const base = this.#known ?? (await this.#store.read());
        const data: Record<string, string> = { ...base?.data };
        const outcomes = batch.map((pending) => pending.edit(data));
        // Nothing to change (a missing object with nothing to add stays missing): no write.
        if (base?.needsRepair !== true && sameData(data, base?.data ?? {})) {
          this.#known = base;
        } else {
          this.#known =
            base === undefined
              ? await this.#store.create(data)
              : await this.#store.replace(base.resourceVersion, data);
        }
        batch.forEach((pending, index) => pending.resolve(outcomes[index]));
        return;
      } catch (error) {
        this.#known = undefined;
        lastError = error;
        // 409: written (or created) by someone else meanwhile; 404: deleted meanwhile. Re-read.
        if (!isConflict(error) && !isNotFound(error)) break;
        if (isNotFound(error) && attempt > 0 && (await this.#store.read()) === undefined) {
          // Not found twice: its namespace is missing. Creating again cannot help.
          break;
        }
      }
    }
    batch.forEach((pending) => pending.reject(lastError));
  }
}

function sameData(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}
