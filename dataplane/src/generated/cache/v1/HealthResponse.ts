// Original file: ../proto/cache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface HealthResponse {
  'healthy'?: (boolean);
  'redisStatus'?: (string);
  'brokerStatus'?: (string);
  'breakerState'?: (string);
  'pendingWrites'?: (number | string | Long);
}

export interface HealthResponse__Output {
  'healthy': (boolean);
  'redisStatus': (string);
  'brokerStatus': (string);
  'breakerState': (string);
  'pendingWrites': (number);
}
