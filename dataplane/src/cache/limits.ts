/** The bounds every request is checked against (from CACHE_* configuration, or a namespace's own). */
export interface CacheLimits {
  defaultTtlMs: number;
  maxTtlMs: number;
  maxValueBytes: number;
  maxKeyBytes: number;
  maxBatchSize: number;
  /**
   * Where a limit comes from, as error messages name it; a limit not listed is the configuration's
   * (CACHE_MAX_TTL, CACHE_MAX_VALUE_BYTES, CACHE_MAX_KEY_BYTES, CACHE_MAX_BATCH_SIZE).
   */
  origins?: Partial<Record<LimitName, string>>;
}

export type LimitName = 'maxTtlMs' | 'maxValueBytes' | 'maxKeyBytes';

const CONFIGURATION_NAMES: Record<LimitName, string> = {
  maxTtlMs: 'CACHE_MAX_TTL',
  maxValueBytes: 'CACHE_MAX_VALUE_BYTES',
  maxKeyBytes: 'CACHE_MAX_KEY_BYTES',
};

/** What a limit is called in an error message: the setting it comes from. */
export function limitOrigin(limits: CacheLimits, name: LimitName): string {
  return limits.origins?.[name] ?? CONFIGURATION_NAMES[name];
}
