/** A value as kept in Redis: the payload and the metadata stored with it (see envelope.ts). */
export interface StoredValue {
  value: Buffer;
  /** When the write happened, ms since the epoch. */
  writtenAt: number;
  /** Absolute expiry, ms since the epoch. */
  expiresAt: number;
}

export type ConditionalResult = 'applied' | 'skipped-newer';

/**
 * Redis as the cache's shared store. Keys are full storage keys (`<namespace>:<escaped key>`).
 * Every method fails fast (rejects) when Redis is unreachable: no offline queue, no hidden retries.
 */
export interface RemoteStore {
  readonly mode: 'standalone' | 'cluster';
  get(key: string): Promise<StoredValue | undefined>;
  /** Many keys at once, across cluster hash slots; results in the order of `keys`. */
  getMany(keys: readonly string[]): Promise<Array<StoredValue | undefined>>;
  /** Stores with a TTL of `expiresAt - now` (at least 1 ms). */
  set(key: string, stored: StoredValue): Promise<void>;
  setMany(entries: ReadonlyArray<readonly [string, StoredValue]>): Promise<void>;
  delete(key: string): Promise<boolean>;
  /** Stores unless Redis holds a copy written later than `stored.writtenAt` (write replay). */
  setIfNotNewer(key: string, stored: StoredValue): Promise<ConditionalResult>;
  /** Deletes unless Redis holds a copy written later than `deletedAt` (tombstone replay). */
  deleteIfNotNewer(key: string, deletedAt: number): Promise<ConditionalResult>;
  ping(): Promise<void>;
  /** True while the connection (every node, in a cluster) is ready for commands. */
  isConnected(): boolean;
  close(): Promise<void>;
}
