// Original file: ../proto/cache/v1/cache.proto


export interface BatchGetResponse {
  'values'?: ({[key: string]: Buffer | Uint8Array | string});
  'missingKeys'?: (string)[];
  'degraded'?: (boolean);
  'unavailableKeys'?: (string)[];
}

export interface BatchGetResponse__Output {
  'values': ({[key: string]: Buffer});
  'missingKeys': (string)[];
  'degraded': (boolean);
  'unavailableKeys': (string)[];
}
