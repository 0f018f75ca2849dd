// Original file: ../proto/cache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface BatchSetRequest {
  'entries'?: ({[key: string]: Buffer | Uint8Array | string});
  'ttlSeconds'?: (number | string | Long);
  'namespace'?: (string);
}

export interface BatchSetRequest__Output {
  'entries': ({[key: string]: Buffer});
  'ttlSeconds': (number);
  'namespace': (string);
}
