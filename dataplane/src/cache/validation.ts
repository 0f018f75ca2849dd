import { CacheError, ErrorCode } from '../errors.ts';
import { limitOrigin, type CacheLimits } from './limits.ts';

/** DNS-label rules: lowercase letters, digits and `-`, 1–63 long, alphanumeric at both ends. */
const NAMESPACE_PATTERN = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export function validateNamespace(namespace: string): void {
  if (typeof namespace !== 'string' || !NAMESPACE_PATTERN.test(namespace)) {
    throw new CacheError(
      ErrorCode.NamespaceInvalid,
      `namespace ${JSON.stringify(namespace)} is invalid: use 1-63 lowercase letters, digits or "-", starting and ending with a letter or digit`,
    );
  }
}

export function validateKey(key: string, limits: CacheLimits): void {
  if (typeof key !== 'string' || key.length === 0) {
    throw new CacheError(ErrorCode.InvalidKey, 'key must be a non-empty string');
  }
  if (!key.isWellFormed()) throw new CacheError(ErrorCode.InvalidKey, 'key must be well-formed Unicode');
  if (CONTROL_CHARACTERS.test(key)) {
    throw new CacheError(ErrorCode.InvalidKey, 'key must not contain control characters');
  }
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes > limits.maxKeyBytes) {
    throw new CacheError(
      ErrorCode.InvalidKey,
      `key is ${bytes} bytes; the limit is ${limits.maxKeyBytes} (${limitOrigin(limits, 'maxKeyBytes')})`,
    );
  }
}

export function validateValue(value: Buffer, limits: CacheLimits): void {
  if (!Buffer.isBuffer(value)) throw new CacheError(ErrorCode.InvalidValue, 'value must be bytes');
  if (value.length > limits.maxValueBytes) {
    throw new CacheError(
      ErrorCode.PayloadTooLarge,
      `value is ${value.length} bytes; the limit is ${limits.maxValueBytes} (${limitOrigin(limits, 'maxValueBytes')})`,
    );
  }
}

/** The TTL in ms for a write: the default when none is given, else a positive whole number of ms in range. */
export function resolveTtlMs(ttlMs: number | undefined, limits: CacheLimits): number {
  if (ttlMs === undefined) return limits.defaultTtlMs;
  if (!Number.isSafeInteger(ttlMs) || ttlMs <= 0) {
    throw new CacheError(
      ErrorCode.InvalidTTL,
      `the TTL must be a positive whole number of seconds, got ${String(ttlMs / 1000)}`,
    );
  }
  if (ttlMs > limits.maxTtlMs) {
    throw new CacheError(
      ErrorCode.InvalidTTL,
      `the TTL of ${ttlMs / 1000}s exceeds the limit of ${limits.maxTtlMs / 1000}s (${limitOrigin(limits, 'maxTtlMs')})`,
    );
  }
  return ttlMs;
}

export function validateBatchSize(count: number, limits: CacheLimits): void {
  if (count === 0) throw new CacheError(ErrorCode.InvalidRequest, 'a batch needs at least one key');
  if (count > limits.maxBatchSize) {
    throw new CacheError(
      ErrorCode.BatchTooLarge,
      `a batch of ${count} keys exceeds the limit of ${limits.maxBatchSize} (CACHE_MAX_BATCH_SIZE)`,
    );
  }
}
