// Original file: ../proto/cache/v1/cache.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BatchGetRequest as _cache_v1_BatchGetRequest, BatchGetRequest__Output as _cache_v1_BatchGetRequest__Output } from '../../cache/v1/BatchGetRequest.ts';
import type { BatchGetResponse as _cache_v1_BatchGetResponse, BatchGetResponse__Output as _cache_v1_BatchGetResponse__Output } from '../../cache/v1/BatchGetResponse.ts';
import type { BatchSetRequest as _cache_v1_BatchSetRequest, BatchSetRequest__Output as _cache_v1_BatchSetRequest__Output } from '../../cache/v1/BatchSetRequest.ts';
import type { BatchSetResponse as _cache_v1_BatchSetResponse, BatchSetResponse__Output as _cache_v1_BatchSetResponse__Output } from '../../cache/v1/BatchSetResponse.ts';
import type { DeleteRequest as _cache_v1_DeleteRequest, DeleteRequest__Output as _cache_v1_DeleteRequest__Output } from '../../cache/v1/DeleteRequest.ts';
import type { DeleteResponse as _cache_v1_DeleteResponse, DeleteResponse__Output as _cache_v1_DeleteResponse__Output } from '../../cache/v1/DeleteResponse.ts';
import type { GetRequest as _cache_v1_GetRequest, GetRequest__Output as _cache_v1_GetRequest__Output } from '../../cache/v1/GetRequest.ts';
import type { GetResponse as _cache_v1_GetResponse, GetResponse__Output as _cache_v1_GetResponse__Output } from '../../cache/v1/GetResponse.ts';
import type { HealthRequest as _cache_v1_HealthRequest, HealthRequest__Output as _cache_v1_HealthRequest__Output } from '../../cache/v1/HealthRequest.ts';
import type { HealthResponse as _cache_v1_HealthResponse, HealthResponse__Output as _cache_v1_HealthResponse__Output } from '../../cache/v1/HealthResponse.ts';
import type { SetRequest as _cache_v1_SetRequest, SetRequest__Output as _cache_v1_SetRequest__Output } from '../../cache/v1/SetRequest.ts';
import type { SetResponse as _cache_v1_SetResponse, SetResponse__Output as _cache_v1_SetResponse__Output } from '../../cache/v1/SetResponse.ts';

export interface CacheServiceClient extends grpc.Client {
  BatchGet(argument: _cache_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _cache_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _cache_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  BatchGet(argument: _cache_v1_BatchGetRequest, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _cache_v1_BatchGetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _cache_v1_BatchGetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _cache_v1_BatchGetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  batchGet(argument: _cache_v1_BatchGetRequest, callback: grpc.requestCallback<_cache_v1_BatchGetResponse__Output>): grpc.ClientUnaryCall;
  
  BatchSet(argument: _cache_v1_BatchSetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  BatchSet(argument: _cache_v1_BatchSetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  BatchSet(argument: _cache_v1_BatchSetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  BatchSet(argument: _cache_v1_BatchSetRequest, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  batchSet(argument: _cache_v1_BatchSetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  batchSet(argument: _cache_v1_BatchSetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  batchSet(argument: _cache_v1_BatchSetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  batchSet(argument: _cache_v1_BatchSetRequest, callback: grpc.requestCallback<_cache_v1_BatchSetResponse__Output>): grpc.ClientUnaryCall;
  
  Delete(argument: _cache_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _cache_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _cache_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  Delete(argument: _cache_v1_DeleteRequest, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _cache_v1_DeleteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _cache_v1_DeleteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _cache_v1_DeleteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  delete(argument: _cache_v1_DeleteRequest, callback: grpc.requestCallback<_cache_v1_DeleteResponse__Output>): grpc.ClientUnaryCall;
  
  Get(argument: _cache_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _cache_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _cache_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  Get(argument: _cache_v1_GetRequest, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _cache_v1_GetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _cache_v1_GetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _cache_v1_GetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  get(argument: _cache_v1_GetRequest, callback: grpc.requestCallback<_cache_v1_GetResponse__Output>): grpc.ClientUnaryCall;
  
  Health(argument: _cache_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _cache_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _cache_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  Health(argument: _cache_v1_HealthRequest, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _cache_v1_HealthRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _cache_v1_HealthRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _cache_v1_HealthRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  health(argument: _cache_v1_HealthRequest, callback: grpc.requestCallback<_cache_v1_HealthResponse__Output>): grpc.ClientUnaryCall;
  
  Set(argument: _cache_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _cache_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _cache_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  Set(argument: _cache_v1_SetRequest, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _cache_v1_SetRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _cache_v1_SetRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _cache_v1_SetRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  set(argument: _cache_v1_SetRequest, callback: grpc.requestCallback<_cache_v1_SetResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface CacheServiceHandlers extends grpc.UntypedServiceImplementation {
  BatchGet: grpc.handleUnaryCall<_cache_v1_BatchGetRequest__Output, _cache_v1_BatchGetResponse>;
  
  BatchSet: grpc.handleUnaryCall<_cache_v1_BatchSetRequest__Output, _cache_v1_BatchSetResponse>;
  
  Delete: grpc.handleUnaryCall<_cache_v1_DeleteRequest__Output, _cache_v1_DeleteResponse>;
  
  Get: grpc.handleUnaryCall<_cache_v1_GetRequest__Output, _cache_v1_GetResponse>;
  
  Health: grpc.handleUnaryCall<_cache_v1_HealthRequest__Output, _cache_v1_HealthResponse>;
  
  Set: grpc.handleUnaryCall<_cache_v1_SetRequest__Output, _cache_v1_SetResponse>;
  
}

export interface CacheServiceDefinition extends grpc.ServiceDefinition {
  BatchGet: MethodDefinition<_cache_v1_BatchGetRequest, _cache_v1_BatchGetResponse, _cache_v1_BatchGetRequest__Output, _cache_v1_BatchGetResponse__Output>
  BatchSet: MethodDefinition<_cache_v1_BatchSetRequest, _cache_v1_BatchSetResponse, _cache_v1_BatchSetRequest__Output, _cache_v1_BatchSetResponse__Output>
  Delete: MethodDefinition<_cache_v1_DeleteRequest, _cache_v1_DeleteResponse, _cache_v1_DeleteRequest__Output, _cache_v1_DeleteResponse__Output>
  Get: MethodDefinition<_cache_v1_GetRequest, _cache_v1_GetResponse, _cache_v1_GetRequest__Output, _cache_v1_GetResponse__Output>
  Health: MethodDefinition<_cache_v1_HealthRequest, _cache_v1_HealthResponse, _cache_v1_HealthRequest__Output, _cache_v1_HealthResponse__Output>
  Set: MethodDefinition<_cache_v1_SetRequest, _cache_v1_SetResponse, _cache_v1_SetRequest__Output, _cache_v1_SetResponse__Output>
}
