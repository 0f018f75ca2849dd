// The gRPC adapter over the real cache service in its embedded mode (local store only, no Redis): the
// fake's contract is the real one's.
import { status } from '@grpc/grpc-js';
import test, { type ExecutionContext } from 'ava';
import { JwtVerifier } from '../../src/auth/jwt-verifier.ts';
import { buildCacheStack } from '../../src/cache/cache-stack.ts';
import { loadConfig } from '../../src/config/config.ts';
import type { GetResponse__Output } from '../../src/generated/cache/v1/GetResponse.ts';
import { ERROR_CODE_METADATA } from '../../src/grpc/grpc-failure.ts';
import { bindGrpcServer, createGrpcServer } from '../../src/grpc/server.ts';
import { createLogger } from '../../src/observability/logger.ts';
import {
  cacheClient,
  bearer,
  invoke,
  NAMESPACE,
  RecordingMetrics,
  SECRET,
  text,
  token,
} from './grpc-harness.ts';

async function startOverRealCache(t: ExecutionContext) {
  const config = loadConfig({ CACHE_MAX_VALUE_BYTES: '1024' });
  const metrics = new RecordingMetrics();
  const logger = createLogger('silent');
  const stack = await buildCacheStack(config, metrics, logger);
  const grpc = createGrpcServer({
    cache: stack.cache,
    verifier: new JwtVerifier({ secret: SECRET }),
    metrics,
    logger,
    limits: { maxRequestBytes: config.server.maxRequestBytes },
    metricsPath: config.metrics.path,
  });
  const port = await bindGrpcServer(grpc.server, '127.0.0.1', 0);
  const client = cacheClient(`127.0.0.1:${port}`);
  t.teardown(async () => {
    client.close();
    await grpc.shutdown(1000);
    await stack.close();
  });
  return { client, metrics, auth: bearer(token([NAMESPACE, 'Bad_NS'])) };
}

test('Set, Get, BatchGet and Delete over the embedded cache', async (t) => {
  const { client, auth } = await startOverRealCache(t);
  const value = Buffer.from([0, 1, 2, 255]);
  const set = await invoke((cb) =>
    client.Set({ namespace: NAMESPACE, key: 'k', value, ttlSeconds: 30 }, auth, cb),
  );
  t.is(set.status.code, status.OK, set.status.details);

  const get = await invoke<GetResponse__Output>((cb) =>
    client.Get({ namespace: NAMESPACE, key: 'k' }, auth, cb),
  );
  t.true(get.response?.found);
  t.true(get.response?.value.equals(value));
  t.is(get.response?.source, 'CACHE_SOURCE_LOCAL');
  const expiresIn = (get.response?.expiresAtUnixMs ?? 0) - Date.now();
  t.true(expiresIn > 25_000 && expiresIn <= 30_000, String(expiresIn));

  const batch = await invoke((cb) =>
    client.BatchGet({ namespace: NAMESPACE, keys: ['k', 'other'] }, auth, cb),
  );
  t.like(batch.response, { missingKeys: ['other'] });

  const deleted = await invoke((cb) => client.Delete({ namespace: NAMESPACE, key: 'k' }, auth, cb));
  t.like(deleted.response, { deleted: true });
  const miss = await invoke<GetResponse__Output>((cb) =>
    client.Get({ namespace: NAMESPACE, key: 'k' }, auth, cb),
  );
  t.is(miss.status.code, status.OK);
  t.false(miss.response?.found);
});

test('the real validation errors come back as INVALID_ARGUMENT with their codes', async (t) => {
  const { client, auth } = await startOverRealCache(t);
  const cases = [
    [{ namespace: NAMESPACE, key: '', value: Buffer.from('v') }, 'INVALID_KEY'],
    [{ namespace: NAMESPACE, key: 'k', value: Buffer.alloc(2048) }, 'PAYLOAD_TOO_LARGE'],
    [{ namespace: NAMESPACE, key: 'k', value: Buffer.from('v'), ttlSeconds: -1 }, 'TTL_INVALID'],
    [{ namespace: 'Bad_NS', key: 'k', value: Buffer.from('v') }, 'NAMESPACE_INVALID'],
  ] as const;
  for (const [request, code] of cases) {
    const result = await invoke((cb) => client.Set(request, auth, cb));
    t.is(result.error?.code, status.INVALID_ARGUMENT, code);
    t.is(text(result.error?.metadata, ERROR_CODE_METADATA), code);
  }
});
