/** A value held in the process, with the metadata that keeps it honest against Redis. */
export interface LocalEntry {
  value: Buffer;
  /** Absolute expiry, ms since the epoch. Never later than the Redis TTL of the same write. */
  expiresAt: number;
  /** When the write happened (ms since the epoch); orders a local write against Redis's copy. */
  writtenAt: number;
}

export type EvictionReason = 'capacity' | 'expired';

export interface LocalStoreOptions {
  /** Most entries held at once. */
  maxEntries: number;
  /** Most bytes held at once, counted by `entrySize`. */
  maxBytes: number;
  policy: 'lru' | 'lfu';
  /** Called once for every entry dropped by the store itself (not for delete or clear). */
  onEvict?: (reason: EvictionReason) => void;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The in-process cache, keyed by storage key (`<namespace>:<key>`). Synchronous: it never waits.
 * Expired entries are never returned. Bounded by both entry count and bytes.
 */
export interface LocalStore {
  get(key: string): LocalEntry | undefined;
  /** Stores the entry; false when it cannot be held (larger than maxBytes, or already expired). */
  set(key: string, entry: LocalEntry): boolean;
  delete(key: string): boolean;
  clear(): void;
  /** The keys held (expired ones included until swept); for rare bulk drops, not the hot path. */
  keys(): IterableIterator<string>;
  /** Entries held (may include expired entries not yet swept). */
  readonly size: number;
  /** Bytes held, as counted by `entrySize`. */
  readonly bytes: number;
}

/** Fixed per-entry bookkeeping estimate (object headers, map slots, list links). */
export const ENTRY_OVERHEAD_BYTES = 96;

/** The bytes an entry is charged: its value, its key (UTF-16 in memory) and the fixed overhead. */
export function entrySize(key: string, entry: LocalEntry): number {
  return entry.value.length + key.length * 2 + ENTRY_OVERHEAD_BYTES;
}
