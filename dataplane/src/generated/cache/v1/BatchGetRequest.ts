// Original file: ../proto/cache/v1/cache.proto


export interface BatchGetRequest {
  'keys'?: (string)[];
  'namespace'?: (string);
}

export interface BatchGetRequest__Output {
  'keys': (string)[];
  'namespace': (string);
}
