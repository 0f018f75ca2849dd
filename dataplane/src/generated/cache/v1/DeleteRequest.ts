// Original file: ../proto/cache/v1/cache.proto


export interface DeleteRequest {
  'key'?: (string);
  'namespace'?: (string);
}

export interface DeleteRequest__Output {
  'key': (string);
  'namespace': (string);
}
