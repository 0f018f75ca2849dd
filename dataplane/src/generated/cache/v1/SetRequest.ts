// Original file: ../proto/cache/v1/cache.proto

import type { Long } from '@grpc/proto-loader';

export interface SetRequest {
  'key'?: (string);
  'value'?: (Buffer | Uint8Array | string);
  'ttlSeconds'?: (number | string | Long);
  'namespace'?: (string);
  'encrypt'?: (boolean);
}

export interface SetRequest__Output {
  'key': (string);
  'value': (Buffer);
  'ttlSeconds': (number);
  'namespace': (string);
  'encrypt': (boolean);
}
