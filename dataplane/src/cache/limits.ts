/** The bounds every request is checked against (from CACHE_* configuration). */
export interface CacheLimits {
  defaultTtlMs: number;
  maxTtlMs: number;
  maxValueBytes: number;
  maxKeyBytes: number;
  maxBatchSize: number;
}
