// A Map-backed CacheService for transport tests (REST and gRPC adapters): it validates its input and
// throws CacheError the way the real service does, records every call with its RequestContext, and
// lets a test switch it into degraded mode or make it fail.
import type {
  BatchGetResult,
  BatchSetResult,
  CacheService,
  CacheSource,
  DeleteResult,
  GetResult,
  HealthReport,
  RequestContext,
  SetOptions,
  WriteResult,
} from '../../src/cache/types.ts';
import { CacheError, ErrorCode } from '../../src/errors.ts';

export type FakeCacheMethod = 'get' | 'set' | 'delete' | 'batchGet' | 'batchSet';

export interface FakeCacheCall {
  method: FakeCacheMethod;
  ctx: RequestContext;
  namespace: string;
  keys: string[];
  opts: SetOptions | undefined;
}

export interface FakeCacheLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
  maxBatchSize: number;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
}

export const FAKE_CACHE_LIMITS: FakeCacheLimits = {
  maxKeyBytes: 256,
  maxValueBytes: 64 * 1024,
  maxBatchSize: 100,
  defaultTtlSeconds: 3600,
  maxTtlSeconds: 30 * 24 * 3600,
};

/** What a test can make the next calls do instead of succeeding. */
export interface FakeFailure {
  error: unknown;
  /** Throw from the method itself instead of returning a rejected promise. */
  sync?: boolean;
}

interface StoredValue {
  value: Buffer;
  expiresAt: number;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export class FakeCacheService implements CacheService {
  readonly limits: FakeCacheLimits;
  readonly calls: FakeCacheCall[] = [];
  readonly #entries = new Map<string, StoredValue>();
  readonly #now: () => number;

  /** Answer as if Redis were unreachable: hits come from 'local' and results are flagged degraded. */
  degraded = false;
  /** In degraded mode, BatchGet reports these keys (when absent) as unavailable instead of missing. */
  unavailableKeys = new Set<string>();
  /** When set, every cache call fails with it (health() is unaffected). */
  failure: FakeFailure | undefined;
  /** Delay before each call resolves, to keep calls in flight. */
  latencyMs = 0;
  healthReport: HealthReport = {
    healthy: true,
    ready: true,
    mode: 'embedded',
    redisStatus: 'embedded',
    brokerStatus: 'disabled',
    breakerState: 'none',
    pendingWrites: 0,
  };

  constructor(options: { limits?: Partial<FakeCacheLimits>; now?: () => number } = {}) {
    this.limits = { ...FAKE_CACHE_LIMITS, ...options.limits };
    this.#now = options.now ?? Date.now;
  }

  get(ctx: RequestContext, namespace: string, key: string): Promise<GetResult> {
    this.#enter({ method: 'get', ctx, namespace, keys: [key], opts: undefined });
    return this.#answer(namespace, () => {
      this.#validateKey(key);
      const stored = this.#read(namespace, key);
      const entry =
        stored === undefined
          ? undefined
          : {
              value: stored.value,
              source: this.#source(),
              expiresAt: stored.expiresAt,
              degraded: this.degraded,
            };
      return { entry, degraded: this.degraded };
    });
  }

  set(
    ctx: RequestContext,
    namespace: string,
    key: string,
    value: Buffer,
    opts?: SetOptions,
  ): Promise<WriteResult> {
    this.#enter({ method: 'set', ctx, namespace, keys: [key], opts });
    return this.#answer(namespace, () => {
      this.#validateKey(key);
      this.#validateValue(key, value);
      const expiresAt = this.#expiryFor(opts);
      this.#entries.set(storageKey(namespace, key), { value: Buffer.from(value), expiresAt });
      return { degraded: this.degraded };
    });
  }

  delete(ctx: RequestContext, namespace: string, key: string): Promise<DeleteResult> {
    this.#enter({ method: 'delete', ctx, namespace, keys: [key], opts: undefined });
    return this.#answer(namespace, () => {
      this.#validateKey(key);
      const deleted = this.#read(namespace, key) !== undefined;
      this.#entries.delete(storageKey(namespace, key));
      return { deleted, degraded: this.degraded };
    });
  }

  batchGet(ctx: RequestContext, namespace: string, keys: readonly string[]): Promise<BatchGetResult> {
    this.#enter({ method: 'batchGet', ctx, namespace, keys: [...keys], opts: undefined });
    return this.#answer(namespace, () => {
      this.#validateBatchSize(keys.length);
      keys.forEach((key) => this.#validateKey(key));
      const result: BatchGetResult = {
        values: new Map(),
        missingKeys: [],
        unavailableKeys: [],
        degraded: this.degraded,
      };
      for (const key of new Set(keys)) {
        const stored = this.#read(namespace, key);
        if (stored !== undefined) result.values.set(key, stored.value);
        else if (this.degraded && this.unavailableKeys.has(key)) result.unavailableKeys.push(key);
        else result.missingKeys.push(key);
      }
      return result;
    });
  }

  batchSet(
    ctx: RequestContext,
    namespace: string,
    entries: ReadonlyMap<string, Buffer>,
    opts?: SetOptions,
  ): Promise<BatchSetResult> {
    this.#enter({ method: 'batchSet', ctx, namespace, keys: [...entries.keys()], opts });
    return this.#answer(namespace, () => {
      this.#validateBatchSize(entries.size);
      for (const [key, value] of entries) {
        this.#validateKey(key);
        this.#validateValue(key, value);
      }
      const expiresAt = this.#expiryFor(opts);
      for (const [key, value] of entries) {
        this.#entries.set(storageKey(namespace, key), { value: Buffer.from(value), expiresAt });
      }
      return { storedCount: entries.size, degraded: this.degraded };
    });
  }

  health(): HealthReport {
    return this.healthReport;
  }

  /** The stored value, bypassing validation and recording (for assertions). */
  peek(namespace: string, key: string): Buffer | undefined {
    return this.#read(namespace, key)?.value;
  }

  #enter(call: FakeCacheCall): void {
    this.calls.push(call);
    if (this.failure?.sync === true) throw this.failure.error;
  }

  async #answer<T>(namespace: string, work: () => T): Promise<T> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    if (this.failure !== undefined) throw this.failure.error;
    validateNamespace(namespace);
    return work();
  }

  #read(namespace: string, key: string): StoredValue | undefined {
    const stored = this.#entries.get(storageKey(namespace, key));
    if (stored === undefined) return undefined;
    if (stored.expiresAt <= this.#now()) {
      this.#entries.delete(storageKey(namespace, key));
      return undefined;
    }
    return stored;
  }

  #source(): CacheSource {
    return this.degraded ? 'local' : 'redis';
  }

  #expiryFor(opts: SetOptions | undefined): number {
    if (opts?.encrypt === true) {
      throw new CacheError(ErrorCode.EncryptionUnavailable, 'encryption is not available yet');
    }
    const ttlMs = opts?.ttlMs ?? this.limits.defaultTtlSeconds * 1000;
    if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0 || ttlMs > this.limits.maxTtlSeconds * 1000) {
      throw new CacheError(
        ErrorCode.InvalidTTL,
        `ttl ${ttlMs / 1000}s is invalid: expected a whole number of seconds between 1 and ${this.limits.maxTtlSeconds}`,
      );
    }
    return this.#now() + ttlMs;
  }

  #validateKey(key: string): void {
    if (key === '') throw new CacheError(ErrorCode.InvalidKey, 'the key is empty');
    if (Buffer.byteLength(key) > this.limits.maxKeyBytes) {
      throw new CacheError(ErrorCode.InvalidKey, `the key is longer than ${this.limits.maxKeyBytes} bytes`);
    }
  }

  #validateValue(key: string, value: Buffer): void {
    if (value.length > this.limits.maxValueBytes) {
      throw new CacheError(
        ErrorCode.PayloadTooLarge,
        `the value of "${key}" is ${value.length} bytes; the limit is ${this.limits.maxValueBytes}`,
      );
    }
  }

  #validateBatchSize(size: number): void {
    if (size === 0) throw new CacheError(ErrorCode.InvalidRequest, 'the batch is empty');
    if (size > this.limits.maxBatchSize) {
      throw new CacheError(
        ErrorCode.BatchTooLarge,
        `the batch has ${size} keys; the limit is ${this.limits.maxBatchSize}`,
      );
    }
  }
}

function validateNamespace(namespace: string): void {
  if (!DNS_LABEL.test(namespace)) {
    throw new CacheError(
      ErrorCode.NamespaceInvalid,
      `namespace "${namespace}" is invalid: expected a DNS label (lowercase letters, digits, '-', at most 63)`,
    );
  }
}

function storageKey(namespace: string, key: string): string {
  return `${namespace}:${key}`;
}
