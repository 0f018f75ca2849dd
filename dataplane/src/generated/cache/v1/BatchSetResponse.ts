// Original file: ../proto/cache/v1/cache.proto


export interface BatchSetResponse {
  'success'?: (boolean);
  'storedCount'?: (number);
  'degraded'?: (boolean);
}

export interface BatchSetResponse__Output {
  'success': (boolean);
  'storedCount': (number);
  'degraded': (boolean);
}
