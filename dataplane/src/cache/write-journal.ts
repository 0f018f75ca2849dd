import { CacheError, ErrorCode } from '../errors.ts';
import type { StoredValue } from '../redis/remote-store.ts';

/** A write accepted while Redis was unreachable, waiting to be replayed. */
export type PendingWrite = { kind: 'set'; stored: StoredValue } | { kind: 'delete'; deletedAt: number };

export interface WriteJournalLimits {
  maxEntries: number;
  maxBytes: number;
}

const DELETE_BYTES = 64;

function pendingBytes(key: string, write: PendingWrite): number {
  return key.length * 2 + (write.kind === 'set' ? write.stored.value.length + 64 : DELETE_BYTES);
}

/**
 * Degraded-mode writes (values and delete tombstones) by storage key, newest per key. Bounded by
 * entries and bytes: when full, degraded writes are refused rather than queued without limit.
 * Entries leave only when replayed, superseded by a write that reached Redis, or expired.
 */
export class WriteJournal {
  readonly #limits: WriteJournalLimits;
  readonly #pending = new Map<string, PendingWrite>();
  #bytes = 0;

  constructor(limits: WriteJournalLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#pending.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(key: string): PendingWrite | undefined {
    return this.#pending.get(key);
  }

  /** Records all writes or none; throws DEGRADED_JOURNAL_FULL when they do not fit. */
  record(writes: ReadonlyArray<readonly [string, PendingWrite]>): void {
    let entries = this.#pending.size;
    let bytes = this.#bytes;
    for (const [key, write] of writes) {
      const previous = this.#pending.get(key);
      if (previous === undefined) entries += 1;
      else bytes -= pendingBytes(key, previous);
      bytes += pendingBytes(key, write);
    }
    if (entries > this.#limits.maxEntries || bytes > this.#limits.maxBytes) {
      throw new CacheError(
        ErrorCode.DegradedJournalFull,
        'Redis is unreachable and the local journal of pending writes is full (CACHE_DEGRADED_MAX_PENDING / CACHE_DEGRADED_MAX_PENDING_MB); retry later',
      );
    }
    for (const [key, write] of writes) this.#pending.set(key, write);
    this.#bytes = bytes;
  }

  /** Forgets the key's pending write; with `only`, only if it is still that very write. */
  remove(key: string, only?: PendingWrite): void {
    const current = this.#pending.get(key);
    if (current === undefined || (only !== undefined && current !== only)) return;
    this.#pending.delete(key);
    this.#bytes -= pendingBytes(key, current);
  }

  /** A snapshot, oldest first, safe to iterate while the journal changes. */
  snapshot(): Array<[string, PendingWrite]> {
    return [...this.#pending];
  }
}
