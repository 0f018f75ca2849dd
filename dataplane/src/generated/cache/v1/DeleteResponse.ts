// Original file: ../proto/cache/v1/cache.proto


export interface DeleteResponse {
  'deleted'?: (boolean);
  'degraded'?: (boolean);
}

export interface DeleteResponse__Output {
  'deleted': (boolean);
  'degraded': (boolean);
}
