import { CacheError, ErrorCode } from '../errors.ts';
import type { LocalEntry, LocalStore } from '../local/local-store.ts';
import type { Metrics } from '../observability/metrics.ts';
import { isUnavailable, type GuardedRemote } from '../redis/guarded-remote.ts';
import type { StoredValue } from '../redis/remote-store.ts';
import type { CacheLimits } from './limits.ts';
import { storageKey } from './storage-key.ts';
import type {
  BatchGetResult,
  BatchSetResult,
  CacheEntry,
  CacheService,
  DeleteResult,
  GetResult,
  HealthReport,
  RequestContext,
  SetOptions,
  WriteResult,
} from './types.ts';
import {
  resolveTtlMs,
  validateBatchSize,
  validateKey,
  validateNamespace,
  validateValue,
} from './validation.ts';
import type { PendingWrite, WriteJournal } from './write-journal.ts';
import type { InvalidationTarget } from '../invalidation/invalidation-receiver.ts';

export interface NamespacedCacheDeps {
  limits: CacheLimits;
  /** The near-cache and fallback; undefined when CACHE_LOCAL_CACHE_ENABLED=false. */
  local: LocalStore | undefined;
  /** Redis behind its circuit breaker; undefined in the embedded default. */
  remote: GuardedRemote | undefined;
  /** Writes accepted while Redis is unreachable (see DegradedReplayer). */
  journal: WriteJournal;
  metrics: Metrics;
  now?: () => number;
  brokerStatus?: () => string;
  /** Told of every accepted write (Redis or degraded), to publish invalidation events. */
  onChange?: ChangeListener;
  /**
   * Whether local entries can be served while Redis is reachable: false while the invalidation
   * feed is down, since other replicas' writes would go unnoticed. Default: always.
   */
  nearCacheTrusted?: () => boolean;
}

export type ChangeListener = (
  namespace: string,
  keys: string[],
  action: 'update' | 'delete',
  timestamp: number,
) => void;

const LIMIT_BOUNDS = ['defaultTtlMs', 'maxTtlMs', 'maxValueBytes', 'maxKeyBytes', 'maxBatchSize'] as const;

/** What the local side knows of a key: a value, a known absence (tombstone), or nothing. */
type LocalLookup = { kind: 'value'; entry: LocalEntry } | { kind: 'absent' } | { kind: 'unknown' };

/**
 * The CacheService: Redis as the shared store with the local cache in front of it (near-cache) and
 * behind it (fallback while the breaker is open). Without Redis (the embedded default) the local
 * cache is the store.
 */
export class NamespacedCache implements CacheService, InvalidationTarget {
  #limits: CacheLimits;
  readonly #local: LocalStore | undefined;
  readonly #remote: GuardedRemote | undefined;
  readonly #journal: WriteJournal;
  readonly #metrics: Metrics;
  readonly #now: () => number;
  readonly #brokerStatus: () => string;
  readonly #onChange: ChangeListener;
  readonly #nearCacheTrusted: () => boolean;
  /**
   * Bumped by every invalidation. A read or write that started before one must not put what it
   * got from Redis into the near-cache afterwards: the invalidation may concern that very value.
   */
  #invalidationEpoch = 0;

  constructor(deps: NamespacedCacheDeps) {
    if (deps.local === undefined && deps.remote === undefined) {
      throw new Error('NamespacedCache needs a local cache, Redis, or both');
    }
    this.#limits = deps.limits;
    this.#local = deps.local;
    this.#remote = deps.remote;
    this.#journal = deps.journal;
    this.#metrics = deps.metrics;
    this.#now = deps.now ?? Date.now;
    this.#brokerStatus = deps.brokerStatus ?? (() => 'disabled');
    this.#onChange = deps.onChange ?? (() => {});
    this.#nearCacheTrusted = deps.nearCacheTrusted ?? (() => true);
  }

  /** Checks calls from now on against `limits` (a namespace's configuration changed). */
  setLimits(limits: CacheLimits): void {
    for (const name of LIMIT_BOUNDS) {
      const value = limits[name];
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new Error(`setLimits: ${name} must be a positive whole number, got ${String(value)}`);
      }
    }
    if (limits.defaultTtlMs > limits.maxTtlMs) throw new Error('setLimits: defaultTtlMs exceeds maxTtlMs');
    this.#limits = { ...limits };
  }

  async get(_ctx: RequestContext, namespace: string, key: string): Promise<GetResult> {
    validateNamespace(namespace);
    validateKey(key, this.#limits);
    const storage = storageKey(namespace, key);
    const degraded = this.#isDegraded();

    const known = this.#lookupLocal(storage, this.#nearCacheTrusted());
    if (known.kind === 'value') return this.#hit(namespace, toEntry(known.entry, 'local', degraded));
    if (known.kind === 'absent' || this.#remote === undefined) return this.#miss(namespace, degraded);

    const epoch = this.#invalidationEpoch;
    let stored: StoredValue | undefined;
    try {
      stored = await this.#remote.call('get', (store) => store.get(storage));
    } catch (error) {
      if (isUnavailable(error)) {
        // Untrusted near-cache entries still beat nothing while Redis is unreachable.
        const fallback = this.#local?.get(storage);
        if (fallback !== undefined) return this.#hit(namespace, toEntry(fallback, 'local', true));
        throw new CacheError(
          error.code,
          `${error.message}; the local cache does not hold this key, so it cannot be answered now`,
          { cause: error },
        );
      }
      throw error;
    }
    if (stored === undefined) return this.#miss(namespace, false);
    this.#keepLocally(storage, stored, epoch);
    return this.#hit(namespace, toEntry(stored, 'redis', false));
  }

  async set(
    _ctx: RequestContext,
    namespace: string,
    key: string,
    value: Buffer,
    opts: SetOptions = {},
  ): Promise<WriteResult> {
    validateNamespace(namespace);
    validateKey(key, this.#limits);
    validateValue(value, this.#limits);
    const ttlMs = resolveTtlMs(opts.ttlMs, this.#limits);
    rejectEncryption(opts);
    const writtenAt = this.#now();
    const storage = storageKey(namespace, key);
    const stored: StoredValue = { value, writtenAt, expiresAt: writtenAt + ttlMs };

    if (this.#remote === undefined) {
      this.#storeEmbedded([[storage, stored]]);
      this.#onChange(namespace, [key], 'update', writtenAt);
      return { degraded: false };
    }
    let degraded = false;
    const epoch = this.#invalidationEpoch;
    try {
      await this.#remote.call('set', (store) => store.set(storage, stored));
      this.#journal.remove(storage);
      this.#keepLocally(storage, stored, epoch);
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.#recordDegraded(error, [[storage, { kind: 'set', stored }]]);
      degraded = true;
    }
    this.#onChange(namespace, [key], 'update', writtenAt);
    return { degraded };
  }

  async delete(_ctx: RequestContext, namespace: string, key: string): Promise<DeleteResult> {
    validateNamespace(namespace);
    validateKey(key, this.#limits);
    const storage = storageKey(namespace, key);

    const deletedAt = this.#now();
    if (this.#remote === undefined) {
      const existed = this.#local?.get(storage) !== undefined;
      this.#local?.delete(storage);
      this.#onChange(namespace, [key], 'delete', deletedAt);
      return { deleted: existed, degraded: false };
    }
    let result: DeleteResult;
    try {
      const deleted = await this.#remote.call('del', (store) => store.delete(storage));
      this.#journal.remove(storage);
      this.#local?.delete(storage);
      result = { deleted, degraded: false };
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      const existed = this.#lookupLocal(storage, true).kind === 'value';
      this.#recordDegraded(error, [[storage, { kind: 'delete', deletedAt }]]);
      result = { deleted: existed, degraded: true };
    }
    this.#onChange(namespace, [key], 'delete', deletedAt);
    return result;
  }

  async batchGet(_ctx: RequestContext, namespace: string, keys: readonly string[]): Promise<BatchGetResult> {
    validateNamespace(namespace);
    const unique = [...new Set(keys)];
    validateBatchSize(unique.length, this.#limits);
    for (const key of unique) validateKey(key, this.#limits);

    const result: BatchGetResult = {
      values: new Map(),
      missingKeys: [],
      unavailableKeys: [],
      degraded: false,
    };
    const toFetch: string[] = [];
    const trusted = this.#nearCacheTrusted();
    for (const key of unique) {
      const known = this.#lookupLocal(storageKey(namespace, key), trusted);
      if (known.kind === 'value') result.values.set(key, known.entry.value);
      else if (known.kind === 'absent' || this.#remote === undefined) result.missingKeys.push(key);
      else toFetch.push(key);
    }
    this.#metrics.hit(namespace, 'local', result.values.size);
    result.degraded = this.#isDegraded();

    if (toFetch.length > 0 && this.#remote !== undefined) {
      const storageKeys = toFetch.map((key) => storageKey(namespace, key));
      const epoch = this.#invalidationEpoch;
      try {
        const fetched = await this.#remote.call('mget', (store) => store.getMany(storageKeys));
        let hits = 0;
        toFetch.forEach((key, index) => {
          const stored = fetched[index];
          if (stored === undefined) return void result.missingKeys.push(key);
          hits += 1;
          result.values.set(key, stored.value);
          this.#keepLocally(storageKeys[index] as string, stored, epoch);
        });
        this.#metrics.hit(namespace, 'redis', hits);
      } catch (error) {
        if (!isUnavailable(error)) throw error;
        if (result.values.size === 0 && result.missingKeys.length === 0) throw error;
        result.unavailableKeys = toFetch;
        result.degraded = true;
      }
    }
    this.#metrics.miss(namespace, result.missingKeys.length);
    return result;
  }

  async batchSet(
    _ctx: RequestContext,
    namespace: string,
    entries: ReadonlyMap<string, Buffer>,
    opts: SetOptions = {},
  ): Promise<BatchSetResult> {
    validateNamespace(namespace);
    validateBatchSize(entries.size, this.#limits);
    for (const [key, value] of entries) {
      validateKey(key, this.#limits);
      validateValue(value, this.#limits);
    }
    const ttlMs = resolveTtlMs(opts.ttlMs, this.#limits);
    rejectEncryption(opts);
    const writtenAt = this.#now();
    const writes = [...entries].map(
      ([key, value]) =>
        [storageKey(namespace, key), { value, writtenAt, expiresAt: writtenAt + ttlMs }] as [
          string,
          StoredValue,
        ],
    );

    if (this.#remote === undefined) {
      this.#storeEmbedded(writes);
      this.#onChange(namespace, [...entries.keys()], 'update', writtenAt);
      return { storedCount: writes.length, degraded: false };
    }
    let degraded = false;
    const epoch = this.#invalidationEpoch;
    try {
      await this.#remote.call('mset', (store) => store.setMany(writes));
      for (const [storage, stored] of writes) {
        this.#journal.remove(storage);
        this.#keepLocally(storage, stored, epoch);
      }
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.#recordDegraded(
        error,
        writes.map(([storage, stored]) => [storage, { kind: 'set', stored }]),
      );
      degraded = true;
    }
    this.#onChange(namespace, [...entries.keys()], 'update', writtenAt);
    return { storedCount: writes.length, degraded };
  }

  health(): HealthReport {
    const brokerStatus = this.#brokerStatus();
    const pendingWrites = this.#journal.size;
    if (this.#remote === undefined) {
      return {
        healthy: true,
        ready: true,
        mode: 'embedded',
        redisStatus: 'embedded',
        brokerStatus,
        breakerState: 'none',
        pendingWrites,
      };
    }
    const breakerState = this.#remote.breaker.state();
    const connected = this.#remote.store.isConnected();
    const redisStatus = breakerState !== 'closed' ? 'degraded' : connected ? 'up' : 'down';
    const healthy = redisStatus === 'up' || this.#local !== undefined;
    return {
      healthy,
      ready: healthy,
      mode: this.#remote.store.mode,
      redisStatus,
      brokerStatus,
      breakerState,
      pendingWrites,
    };
  }

  invalidateLocal(namespace: string, keys: readonly string[], timestamp: number): void {
    this.#invalidationEpoch += 1;
    for (const key of keys) {
      const storage = storageKey(namespace, key);
      this.#local?.delete(storage);
      const pending = this.#journal.get(storage);
      if (pending !== undefined && writeTime(pending) < timestamp) this.#journal.remove(storage, pending);
    }
  }

  clearLocalNamespace(namespace: string): void {
    this.#invalidationEpoch += 1;
    const local = this.#local;
    if (local === undefined) return;
    const prefix = storageKey(namespace, '');
    for (const storage of [...local.keys()]) if (storage.startsWith(prefix)) local.delete(storage);
  }

  clearLocal(): void {
    this.#invalidationEpoch += 1;
    this.#local?.clear();
  }

  async deleteShared(namespace: string, keys: readonly string[], timestamp: number): Promise<void> {
    const remote = this.#remote;
    if (remote === undefined) return;
    const storageKeys = keys.map((key) => storageKey(namespace, key));
    try {
      await Promise.all(
        storageKeys.map((storage) =>
          remote.call('del_if', (store) => store.deleteIfNotNewer(storage, timestamp)),
        ),
      );
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      this.#recordDegraded(
        error,
        storageKeys.map((storage) => [storage, { kind: 'delete', deletedAt: timestamp }]),
      );
    }
  }

  /**
   * What this replica knows of a key without Redis. Pending degraded writes win: they are the
   * newest it knows. Near-cache entries count only when `useNearCache`.
   */
  #lookupLocal(storage: string, useNearCache: boolean): LocalLookup {
    const pending = this.#journal.get(storage);
    if (pending !== undefined) {
      if (pending.kind === 'set' && pending.stored.expiresAt > this.#now()) {
        return { kind: 'value', entry: pending.stored };
      }
      return { kind: 'absent' };
    }
    const entry = useNearCache ? this.#local?.get(storage) : undefined;
    return entry === undefined ? { kind: 'unknown' } : { kind: 'value', entry };
  }

  /**
   * Near-cache fill after a Redis round trip that started at `epoch`: only values whose expiry is
   * known (so the local copy never outlives Redis's), and only if no invalidation came in between.
   */
  #keepLocally(storage: string, stored: StoredValue, epoch: number): void {
    if (this.#local === undefined) return;
    if (stored.expiresAt > this.#now() && epoch === this.#invalidationEpoch) this.#local.set(storage, stored);
    else this.#local.delete(storage);
  }

  #storeEmbedded(writes: ReadonlyArray<readonly [string, StoredValue]>): void {
    const local = this.#local as LocalStore;
    for (const [storage, stored] of writes) {
      if (!local.set(storage, stored)) {
        throw new CacheError(
          ErrorCode.PayloadTooLarge,
          'the value does not fit in the local cache (CACHE_MAX_MEMORY_MB); nothing was stored',
        );
      }
    }
  }

  /** Keeps writes locally for replay; without a local cache there is nowhere to keep them. */
  #recordDegraded(cause: CacheError, writes: ReadonlyArray<readonly [string, PendingWrite]>): void {
    if (this.#local === undefined) throw cause;
    this.#journal.record(writes);
    for (const [storage] of writes) this.#local.delete(storage);
  }

  #isDegraded(): boolean {
    return this.#remote !== undefined && this.#remote.breaker.state() !== 'closed';
  }

  #hit(namespace: string, entry: CacheEntry): GetResult {
    this.#metrics.hit(namespace, entry.source);
    return { entry, degraded: entry.degraded };
  }

  #miss(namespace: string, degraded: boolean): GetResult {
    this.#metrics.miss(namespace);
    return { entry: undefined, degraded };
  }
}

function toEntry(stored: StoredValue, source: CacheEntry['source'], degraded: boolean): CacheEntry {
  return { value: stored.value, source, expiresAt: stored.expiresAt, degraded };
}

function writeTime(write: PendingWrite): number {
  return write.kind === 'set' ? write.stored.writtenAt : write.deletedAt;
}

function rejectEncryption(opts: SetOptions): void {
  if (opts.encrypt === true) {
    throw new CacheError(
      ErrorCode.EncryptionUnavailable,
      'value encryption is not available yet: send the value without "encrypt"',
    );
  }
}
