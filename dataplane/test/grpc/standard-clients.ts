// Clients for the standard services the server carries, made from those services' own protos:
// grpc.health.v1.Health (shipped with grpc-health-check) and grpc.reflection.v1 (with @grpc/reflection).
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  credentials,
  loadPackageDefinition,
  type Client,
  type ClientDuplexStream,
  type ServiceClientConstructor,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';

const LOAD_OPTIONS = { keepCase: true, longs: String, enums: String, defaults: true, oneofs: true };

export interface HealthCheckClient extends Client {
  check(
    request: { service: string },
    callback: (error: Error | null, response?: { status: string }) => void,
  ): void;
}

export function healthClient(address: string): HealthCheckClient {
  const definition = loadSync(healthProtoPath, LOAD_OPTIONS);
  const Health = serviceConstructor(loadPackageDefinition(definition), 'grpc.health.v1.Health');
  return new Health(address, credentials.createInsecure()) as unknown as HealthCheckClient;
}

/** Check as a promise: the serving status, or the gRPC error code when the check fails. */
export function checkHealth(client: HealthCheckClient, service: string): Promise<string | number> {
  return new Promise((resolve) => {
    client.check({ service }, (error, response) => {
      if (error !== null) resolve((error as Error & { code: number }).code);
      else resolve(response?.status ?? 'none');
    });
  });
}

export interface ReflectionResponse {
  list_services_response?: { service: Array<{ name: string }> };
  file_descriptor_response?: { file_descriptor_proto: Buffer[] };
  error_response?: { error_code: number; error_message: string };
}

interface ReflectionClient extends Client {
  ServerReflectionInfo(): ClientDuplexStream<Record<string, string>, ReflectionResponse>;
}

/** One request on a grpc.reflection.v1 stream, e.g. `{ list_services: '' }`. */
export function askReflection(address: string, request: Record<string, string>): Promise<ReflectionResponse> {
  const require = createRequire(import.meta.url);
  const protoRoot = join(dirname(require.resolve('@grpc/reflection/package.json')), 'build/proto');
  const definition = loadSync('grpc/reflection/v1/reflection.proto', {
    ...LOAD_OPTIONS,
    includeDirs: [protoRoot],
  });
  const Reflection = serviceConstructor(
    loadPackageDefinition(definition),
    'grpc.reflection.v1.ServerReflection',
  );
  const client = new Reflection(address, credentials.createInsecure()) as unknown as ReflectionClient;
  return new Promise((resolve, reject) => {
    const stream = client.ServerReflectionInfo();
    stream.on('data', (response: ReflectionResponse) => {
      resolve(response);
      stream.end();
      client.close();
    });
    stream.on('error', (error) => {
      client.close();
      reject(error);
    });
    stream.write(request);
  });
}

function serviceConstructor(root: object, qualifiedName: string): ServiceClientConstructor {
  let node: unknown = root;
  for (const part of qualifiedName.split('.')) node = (node as Record<string, unknown>)[part];
  return node as ServiceClientConstructor;
}
