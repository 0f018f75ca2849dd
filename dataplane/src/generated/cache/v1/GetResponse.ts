// Original file: ../proto/cache/v1/cache.proto

import type { CacheSource as _cache_v1_CacheSource, CacheSource__Output as _cache_v1_CacheSource__Output } from '../../cache/v1/CacheSource.ts';
import type { Long } from '@grpc/proto-loader';

export interface GetResponse {
  'found'?: (boolean);
  'value'?: (Buffer | Uint8Array | string);
  'source'?: (_cache_v1_CacheSource);
  'degraded'?: (boolean);
  'expiresAtUnixMs'?: (number | string | Long);
}

export interface GetResponse__Output {
  'found': (boolean);
  'value': (Buffer);
  'source': (_cache_v1_CacheSource__Output);
  'degraded': (boolean);
  'expiresAtUnixMs': (number);
}
