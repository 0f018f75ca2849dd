import { resolve } from 'node:path';
import { loadPackageDefinition } from '@grpc/grpc-js';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import type { ProtoGrpcType } from '../generated/cache.ts';

/** The directory the public protos live in (the repository's `proto/`). */
export const PROTO_ROOT = resolve(import.meta.dirname, '../../../proto');

/** The cache API, relative to PROTO_ROOT (also its file name in reflection answers). */
export const CACHE_PROTO_FILE = 'cache/v1/cache.proto';

/** The fully qualified service name, as used by grpc.health.v1 and reflection. */
export const CACHE_SERVICE_NAME = 'cache.v1.CacheService';

/**
 * The options scripts/gen-proto.sh generates src/generated with: the run-time messages have exactly
 * the generated types only when both agree (int64 as number, enums as strings, defaults filled in).
 */
export const PROTO_LOADER_OPTIONS: Options = {
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export interface CacheProto {
  packageDefinition: PackageDefinition;
  grpcType: ProtoGrpcType;
  /** The same file with the field names as written (snake_case), for server reflection. */
  reflectionDefinition: PackageDefinition;
}

let loaded: CacheProto | undefined;

/** The cache API loaded from its .proto (once per process). */
export function loadCacheProto(): CacheProto {
  if (loaded === undefined) {
    const packageDefinition = loadSync(CACHE_PROTO_FILE, PROTO_LOADER_OPTIONS);
    // The generated ProtoGrpcType describes exactly what loadPackageDefinition builds from this file.
    const grpcType = loadPackageDefinition(packageDefinition) as unknown as ProtoGrpcType;
    const reflectionDefinition = loadSync(CACHE_PROTO_FILE, { ...PROTO_LOADER_OPTIONS, keepCase: true });
    loaded = { packageDefinition, grpcType, reflectionDefinition };
  }
  return loaded;
}
