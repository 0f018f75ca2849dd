// Original file: ../proto/cache/v1/cache.proto

export const CacheSource = {
  CACHE_SOURCE_UNSPECIFIED: 'CACHE_SOURCE_UNSPECIFIED',
  CACHE_SOURCE_REDIS: 'CACHE_SOURCE_REDIS',
  CACHE_SOURCE_LOCAL: 'CACHE_SOURCE_LOCAL',
} as const;

export type CacheSource =
  | 'CACHE_SOURCE_UNSPECIFIED'
  | 0
  | 'CACHE_SOURCE_REDIS'
  | 1
  | 'CACHE_SOURCE_LOCAL'
  | 2

export type CacheSource__Output = typeof CacheSource[keyof typeof CacheSource]
