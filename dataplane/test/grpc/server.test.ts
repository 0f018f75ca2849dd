import { createServer, type AddressInfo } from 'node:net';
import { status } from '@grpc/grpc-js';
import test from 'ava';
import type { GetResponse__Output } from '../../src/generated/cache/v1/GetResponse.ts';
import { bindGrpcServer, createGrpcServer } from '../../src/grpc/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { JwtVerifier } from '../../src/auth/jwt-verifier.ts';
import { FakeCacheService } from '../support/fake-cache-service.ts';
import {
  cacheClient,
  invoke,
  NAMESPACE,
  RecordingMetrics,
  SECRET,
  startGrpcHarness,
  type GrpcHarness,
  type UnaryResult,
} from './grpc-harness.ts';
import { askReflection, checkHealth, healthClient } from './standard-clients.ts';

test('grpc.health.v1 answers SERVING for the server and the cache service, NOT_FOUND for others', async (t) => {
  const h = await startGrpcHarness(t);
  const client = healthClient(h.address);
  t.teardown(() => client.close());
  t.is(await checkHealth(client, ''), 'SERVING');
  t.is(await checkHealth(client, 'cache.v1.CacheService'), 'SERVING');
  t.is(await checkHealth(client, 'cache.v2.Nope'), status.NOT_FOUND);
});

test('grpc.health.v1 follows the data plane health on refresh', async (t) => {
  const h = await startGrpcHarness(t);
  const client = healthClient(h.address);
  t.teardown(() => client.close());
  h.cache.healthReport = { ...h.cache.healthReport, healthy: false };
  t.is(await checkHealth(client, ''), 'SERVING', 'unchanged until refreshed');
  h.grpc.refreshHealth();
  t.is(await checkHealth(client, ''), 'NOT_SERVING');
  t.is(await checkHealth(client, 'cache.v1.CacheService'), 'NOT_SERVING');
  h.cache.healthReport = { ...h.cache.healthReport, healthy: true };
  h.grpc.refreshHealth();
  t.is(await checkHealth(client, 'cache.v1.CacheService'), 'SERVING');
});

test('a custom health check is used, and one that throws counts as NOT_SERVING', async (t) => {
  let healthy: boolean | Error = false;
  const h = await startGrpcHarness(t, {
    healthStatus: () => {
      if (healthy instanceof Error) throw healthy;
      return healthy;
    },
  });
  const client = healthClient(h.address);
  t.teardown(() => client.close());
  t.is(await checkHealth(client, ''), 'NOT_SERVING');
  healthy = true;
  h.grpc.refreshHealth();
  t.is(await checkHealth(client, ''), 'SERVING');
  healthy = new Error('health check failed');
  h.grpc.refreshHealth();
  t.is(await checkHealth(client, ''), 'NOT_SERVING');
});

test('NOT_SERVING once shutdown begins, whatever the data plane says', async (t) => {
  const h = await startGrpcHarness(t);
  const client = healthClient(h.address);
  t.teardown(() => client.close());
  h.grpc.setNotServing();
  h.grpc.refreshHealth();
  t.is(await checkHealth(client, ''), 'NOT_SERVING');
  t.is(await checkHealth(client, 'cache.v1.CacheService'), 'NOT_SERVING');
});

test('the health timer refreshes on its own', async (t) => {
  const cache = new FakeCacheService();
  const grpc = createGrpcServer({
    cache,
    verifier: new JwtVerifier({ secret: SECRET }),
    metrics: new RecordingMetrics(),
    logger: createLogger('silent'),
    limits: { maxRequestBytes: 1024 * 1024 },
    metricsPath: '/metrics',
    healthRefreshMs: 20,
  });
  const port = await bindGrpcServer(grpc.server, '127.0.0.1', 0);
  const client = healthClient(`127.0.0.1:${port}`);
  t.teardown(async () => {
    client.close();
    await grpc.shutdown(500);
  });
  cache.healthReport = { ...cache.healthReport, healthy: false };
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.is(await checkHealth(client, ''), 'NOT_SERVING');
});

test('reflection lists the cache and health services', async (t) => {
  const h = await startGrpcHarness(t);
  const response = await askReflection(h.address, { list_services: '' });
  const names = response.list_services_response?.service.map((service) => service.name) ?? [];
  t.deepEqual(names.sort(), ['cache.v1.CacheService', 'grpc.health.v1.Health']);
});

test('reflection describes cache.v1.CacheService from the loaded proto', async (t) => {
  const h = await startGrpcHarness(t);
  const response = await askReflection(h.address, { file_containing_symbol: 'cache.v1.CacheService' });
  const files = response.file_descriptor_response?.file_descriptor_proto ?? [];
  t.true(files.length > 0);
  const descriptor = Buffer.concat(files).toString('latin1');
  t.true(descriptor.includes('cache.v1'));
  t.true(descriptor.includes('BatchGetResponse'));
  t.true(descriptor.includes('unavailable_keys'));
});

test('a message over the size limit is RESOURCE_EXHAUSTED and reaches no handler', async (t) => {
  const h = await startGrpcHarness(t, { maxRequestBytes: 16 * 1024, limits: { maxValueBytes: 1024 * 1024 } });
  const result = await invoke((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'big', value: Buffer.alloc(32 * 1024) }, h.auth(), cb),
  );
  t.is(result.error?.code, status.RESOURCE_EXHAUSTED);
  t.deepEqual(h.cache.calls, []);
  const small = await invoke((cb) =>
    h.client.Set({ namespace: NAMESPACE, key: 'small', value: Buffer.alloc(8 * 1024) }, h.auth(), cb),
  );
  t.is(small.status.code, status.OK);
});

test('500 concurrent calls all succeed', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.latencyMs = 20;
  const md = h.auth();
  const writes = Array.from({ length: 250 }, (_, i) =>
    invoke((cb) => h.client.Set({ namespace: NAMESPACE, key: `k${i}`, value: Buffer.from(`v${i}`) }, md, cb)),
  );
  t.true((await Promise.all(writes)).every((result) => result.status.code === status.OK));
  const reads = Array.from({ length: 500 }, (_, i) =>
    invoke<GetResponse__Output>((cb) => h.client.Get({ namespace: NAMESPACE, key: `k${i % 250}` }, md, cb)),
  );
  const results = await Promise.all(reads);
  t.true(results.every((result, i) => result.response?.value.toString() === `v${i % 250}`));
  t.is(h.metrics.requests.length, 750);
});

test('bindGrpcServer resolves with the port bound, and rejects a port in use', async (t) => {
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.teardown(() => blocker.close());
  const taken = (blocker.address() as AddressInfo).port;

  const h = await startGrpcHarness(t);
  t.regex(h.address, /^127\.0\.0\.1:\d+$/);
  const other = createGrpcServer({
    cache: new FakeCacheService(),
    verifier: new JwtVerifier({ secret: SECRET }),
    metrics: new RecordingMetrics(),
    logger: createLogger('silent'),
    limits: { maxRequestBytes: 1024 },
    metricsPath: '/metrics',
    healthRefreshMs: 0,
  });
  t.teardown(() => other.shutdown(100));
  await t.throwsAsync(bindGrpcServer(other.server, '127.0.0.1', taken), {
    message: /cannot listen for gRPC on 127.0.0.1:\d+/,
  });
});

/** A Get the service has received and is still working on. */
async function startedCall(h: GrpcHarness): Promise<{ inFlight: Promise<UnaryResult<unknown>> }> {
  const inFlight = invoke((cb) => h.client.Get({ namespace: NAMESPACE, key: 'k' }, h.auth(), cb));
  while (h.cache.calls.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  return { inFlight }; // wrapped: an async function would otherwise wait for the call itself
}

test('shutdown lets in-flight calls finish within the grace period', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.latencyMs = 150;
  const { inFlight } = await startedCall(h);
  await h.grpc.shutdown(5000);
  t.is((await inFlight).status.code, status.OK);
});

test('shutdown cancels calls still running after the grace period', async (t) => {
  const h = await startGrpcHarness(t);
  h.cache.latencyMs = 10_000;
  const { inFlight } = await startedCall(h);
  const started = Date.now();
  await h.grpc.shutdown(200);
  t.true(Date.now() - started < 2000);
  t.not((await inFlight).status.code, status.OK);
  // New calls are refused after shutdown.
  const client = cacheClient(h.address);
  t.teardown(() => client.close());
  const late = await invoke((cb) =>
    client.Get({ namespace: NAMESPACE, key: 'k' }, h.auth(), { deadline: Date.now() + 500 }, cb),
  );
  t.not(late.status.code, status.OK);
});
