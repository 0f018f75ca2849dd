// Original file: ../proto/cache/v1/cache.proto


export interface GetRequest {
  'key'?: (string);
  'namespace'?: (string);
}

export interface GetRequest__Output {
  'key': (string);
  'namespace': (string);
}
