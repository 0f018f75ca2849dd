// Original file: ../proto/cache/v1/cache.proto


export interface SetResponse {
  'success'?: (boolean);
  'degraded'?: (boolean);
}

export interface SetResponse__Output {
  'success': (boolean);
  'degraded': (boolean);
}
