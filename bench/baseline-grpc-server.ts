// The gRPC baseline: a bare grpc-js server for cache.v1.CacheService whose Get and Set answer a
// constant response (no auth, no store; the other methods are UNIMPLEMENTED). Prints its port.
// BENCH_VALUE_SIZE: bytes of the answered value (default: the 64-byte VALUE).
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { CacheServiceHandlers } from '../dataplane/src/generated/cache/v1/CacheService.ts';
import type { GetResponse } from '../dataplane/src/generated/cache/v1/GetResponse.ts';
import type { SetResponse } from '../dataplane/src/generated/cache/v1/SetResponse.ts';
import { loadCacheProto } from '../dataplane/src/grpc/proto.ts';
import { VALUE } from './constants.ts';
import { exitOnSignals } from './lib/exit-on-signals.ts';

exitOnSignals();

const GET_RESPONSE: GetResponse = {
  found: true,
  value:
    process.env.BENCH_VALUE_SIZE === undefined
      ? Buffer.from(VALUE)
      : Buffer.alloc(Number(process.env.BENCH_VALUE_SIZE), 'v'),
  source: 'CACHE_SOURCE_LOCAL',
  degraded: false,
  expiresAtUnixMs: 0,
};
const SET_RESPONSE: SetResponse = { success: true, degraded: false };

const handlers: Pick<CacheServiceHandlers, 'Get' | 'Set'> = {
  Get: (_call, callback) => callback(null, GET_RESPONSE),
  Set: (_call, callback) => callback(null, SET_RESPONSE),
};

const server = new Server();
server.addService(loadCacheProto().grpcType.cache.v1.CacheService.service, handlers);
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, port) => {
  if (error !== null) throw error;
  console.log(port);
});
