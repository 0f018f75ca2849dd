import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BatchGetRequest as _cache_v1_BatchGetRequest, BatchGetRequest__Output as _cache_v1_BatchGetRequest__Output } from './cache/v1/BatchGetRequest.ts';
import type { BatchGetResponse as _cache_v1_BatchGetResponse, BatchGetResponse__Output as _cache_v1_BatchGetResponse__Output } from './cache/v1/BatchGetResponse.ts';
import type { BatchSetRequest as _cache_v1_BatchSetRequest, BatchSetRequest__Output as _cache_v1_BatchSetRequest__Output } from './cache/v1/BatchSetRequest.ts';
import type { BatchSetResponse as _cache_v1_BatchSetResponse, BatchSetResponse__Output as _cache_v1_BatchSetResponse__Output } from './cache/v1/BatchSetResponse.ts';
import type { CacheServiceClient as _cache_v1_CacheServiceClient, CacheServiceDefinition as _cache_v1_CacheServiceDefinition } from './cache/v1/CacheService.ts';
import type { DeleteRequest as _cache_v1_DeleteRequest, DeleteRequest__Output as _cache_v1_DeleteRequest__Output } from './cache/v1/DeleteRequest.ts';
import type { DeleteResponse as _cache_v1_DeleteResponse, DeleteResponse__Output as _cache_v1_DeleteResponse__Output } from './cache/v1/DeleteResponse.ts';
import type { GetRequest as _cache_v1_GetRequest, GetRequest__Output as _cache_v1_GetRequest__Output } from './cache/v1/GetRequest.ts';
import type { GetResponse as _cache_v1_GetResponse, GetResponse__Output as _cache_v1_GetResponse__Output } from './cache/v1/GetResponse.ts';
import type { HealthRequest as _cache_v1_HealthRequest, HealthRequest__Output as _cache_v1_HealthRequest__Output } from './cache/v1/HealthRequest.ts';
import type { HealthResponse as _cache_v1_HealthResponse, HealthResponse__Output as _cache_v1_HealthResponse__Output } from './cache/v1/HealthResponse.ts';
import type { SetRequest as _cache_v1_SetRequest, SetRequest__Output as _cache_v1_SetRequest__Output } from './cache/v1/SetRequest.ts';
import type { SetResponse as _cache_v1_SetResponse, SetResponse__Output as _cache_v1_SetResponse__Output } from './cache/v1/SetResponse.ts';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  cache: {
    v1: {
      BatchGetRequest: MessageTypeDefinition<_cache_v1_BatchGetRequest, _cache_v1_BatchGetRequest__Output>
      BatchGetResponse: MessageTypeDefinition<_cache_v1_BatchGetResponse, _cache_v1_BatchGetResponse__Output>
      BatchSetRequest: MessageTypeDefinition<_cache_v1_BatchSetRequest, _cache_v1_BatchSetRequest__Output>
      BatchSetResponse: MessageTypeDefinition<_cache_v1_BatchSetResponse, _cache_v1_BatchSetResponse__Output>
      CacheService: SubtypeConstructor<typeof grpc.Client, _cache_v1_CacheServiceClient> & { service: _cache_v1_CacheServiceDefinition }
      CacheSource: EnumTypeDefinition
      DeleteRequest: MessageTypeDefinition<_cache_v1_DeleteRequest, _cache_v1_DeleteRequest__Output>
      DeleteResponse: MessageTypeDefinition<_cache_v1_DeleteResponse, _cache_v1_DeleteResponse__Output>
      GetRequest: MessageTypeDefinition<_cache_v1_GetRequest, _cache_v1_GetRequest__Output>
      GetResponse: MessageTypeDefinition<_cache_v1_GetResponse, _cache_v1_GetResponse__Output>
      HealthRequest: MessageTypeDefinition<_cache_v1_HealthRequest, _cache_v1_HealthRequest__Output>
      HealthResponse: MessageTypeDefinition<_cache_v1_HealthResponse, _cache_v1_HealthResponse__Output>
      SetRequest: MessageTypeDefinition<_cache_v1_SetRequest, _cache_v1_SetRequest__Output>
      SetResponse: MessageTypeDefinition<_cache_v1_SetResponse, _cache_v1_SetResponse__Output>
    }
  }
}

