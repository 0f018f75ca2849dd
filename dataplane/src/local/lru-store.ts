import { LRUCache } from 'lru-cache';
import { entrySize } from './local-store.ts';
import type { EvictionReason, LocalEntry, LocalStore, LocalStoreOptions } from './local-store.ts';

/**
 * Least-recently-used local store on lru-cache. Options are taken as valid: build it through
 * `createLocalStore`, which checks them. Note lru-cache preallocates about 16 bytes per `maxEntries`.
 *
 * Expiry is decided by the injected clock alone: lru-cache is given no ttl, because its own clock
 * (performance.now) would disagree with `options.now`. An expired entry is dropped when read.
 */
export class LruStore implements LocalStore {
  readonly #cache: LRUCache<string, LocalEntry>;
  readonly #maxBytes: number;
  readonly #now: () => number;
  readonly #onEvict: ((reason: EvictionReason) => void) | undefined;

  constructor(options: Omit<LocalStoreOptions, 'policy'>) {
    this.#maxBytes = options.maxBytes;
    this.#now = options.now ?? Date.now;
    this.#onEvict = options.onEvict;
    this.#cache = new LRUCache<string, LocalEntry>({
      max: options.maxEntries,
      maxSize: options.maxBytes,
      // disposeAfter (not dispose) runs once lru-cache is consistent again, so onEvict may call back in.
      disposeAfter: (entry, _key, reason) => {
        // 'evict' is lru-cache making room; 'set' and 'delete' are our own overwrites, deletes and clears.
        if (reason === 'evict') this.#onEvict?.(this.#isExpired(entry) ? 'expired' : 'capacity');
      },
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  get bytes(): number {
    return this.#cache.calculatedSize;
  }

  get(key: string): LocalEntry | undefined {
    const entry = this.#cache.get(key);
    if (entry === undefined || !this.#isExpired(entry)) return entry;
    this.#cache.delete(key);
    this.#onEvict?.('expired');
    return undefined;
  }

  /** Like `get`, but counts no use and drops nothing: for inspection. */
  peek(key: string): LocalEntry | undefined {
    const entry = this.#cache.peek(key);
    return entry === undefined || this.#isExpired(entry) ? undefined : entry;
  }

  set(key: string, entry: LocalEntry): boolean {
    const size = entrySize(key, entry);
    if (size > this.#maxBytes || this.#isExpired(entry)) {
      // A refused overwrite must not leave the older value readable.
      this.#cache.delete(key);
      return false;
    }
    this.#cache.set(key, entry, { size });
    return true;
  }

  delete(key: string): boolean {
    return this.#cache.delete(key);
  }

  clear(): void {
    this.#cache.clear();
  }

  keys(): IterableIterator<string> {
    return this.#cache.keys();
  }

  #isExpired(entry: LocalEntry): boolean {
    return entry.expiresAt <= this.#now();
  }
}
